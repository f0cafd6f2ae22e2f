"""The authority's settings pages (term dates, rules, process versions), through HTTP, over the case world."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.csv_import import ImportUpload
from casework.records import InsetDay, TermDate
from casework.rules import rules_for
from engine.errors import DeploymentError
from engine.models import AuditEvent, ProcessDefinition
from engine.runtime import Runtime
from processes import PROCESS_DIR
from tests.casework.world import World

from . import case_fixtures
from .case_world import LA, PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

TERMS = "/admin/settings/terms"
UPLOAD = "/admin/settings/terms/upload"
RULES = "/admin/settings/rules"
PROCESSES = "/admin/settings/processes"
GOOD = ("kind,academic_year,term,starts_on,ends_on\n"
        "term,2026/27,autumn,2026-09-02,2026-12-18\n"
        "half_term,2026/27,autumn,2026-10-26,2026-10-30\n"
        "inset,2026/27,autumn,2026-11-02,\n"
        "term,2026/27,spring,2027-01-05,2027-03-26\n"
        "term,2027/28,autumn,2027-09-02,2027-12-17\n")
BAD = ("kind,academic_year,term,starts_on,ends_on\n"
       "term,2026/27,autumn,2026-09-02,2026-12-18\n"
       "half_term,2026/27,autumn,2026-12-21,2026-12-23\n"
       "term,2026/27,spring,2027-13-05,2027-03-26\n")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str = "admin") -> str:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return csrf_token(client.get("/").text)


def send(client: FlaskClient, token: str, url: str, content: str | bytes, name: str) -> TestResponse:
    data = content.encode() if isinstance(content, str) else content
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def audits(world: World, action: str) -> list[tuple[str, dict[str, object]]]:
    with world.session() as session:
        rows = session.execute(select(AuditEvent.actor, AuditEvent.data).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
    return [(actor, data if isinstance(data, dict) else json.loads(data or "{}")) for actor, data in rows]


def term_rows(world: World) -> list[tuple[str, str, date, date, date | None]]:
    with world.session() as session:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(TermDate.academic_year, TermDate.term, TermDate.starts_on, TermDate.ends_on,
                   TermDate.half_term_starts_on).where(TermDate.la_code == LA).order_by(TermDate.starts_on))]


@pytest.mark.parametrize("username", ["vsh", "sw", "manager", "dt100001"])
def test_everyone_but_an_administrator_is_refused_every_settings_page_and_change(
    client: FlaskClient, world: World, username: str
) -> None:
    token = login(client, username)
    before = term_rows(world)
    for url in ("/admin/settings", TERMS, UPLOAD, f"{TERMS}/2026-27", RULES, PROCESSES):
        assert client.get(url).status_code == 403, url
    for url in (UPLOAD, f"{TERMS}/2026-27", RULES):
        assert client.post(url, data={"csrf_token": token, "autumn-starts_on": "2026-09-01",
                                      "initial_pep_days": "30"}).status_code == 403, url
    assert send(client, token, UPLOAD, GOOD, "terms.csv").status_code == 403
    assert send(client, token, PROCESSES, b"<x/>", "x.bpmn").status_code == 403
    assert term_rows(world) == before and audits(world, "authority.rules_changed") == []


def test_the_administrator_uploads_term_dates_sees_the_terms_it_would_set_and_replaces_them(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    page = client.get(TERMS)
    assert page.status_code == 200 and "2025/26" in page.text and "3 September 2025" in page.text
    assert "the default English" not in page.text  # the world loaded them as its own
    before = term_rows(world)
    preview = send(client, token, UPLOAD, GOOD, "terms.csv")
    assert preview.status_code == 200
    assert "2 September 2026" in preview.text and "26 October 2026 to 30 October 2026" in preview.text
    assert "2027/28" in preview.text and "Replace the term dates" in preview.text
    assert term_rows(world) == before  # nothing is written before the confirmation
    upload_token = re.search(r'name="upload_token" value="([^"]+)"', preview.text)
    assert upload_token
    done = client.post(UPLOAD, data={"csrf_token": token, "upload_token": upload_token.group(1)})
    assert done.status_code == 302 and done.headers["Location"].endswith(TERMS)
    assert "Term dates replaced from terms.csv: 4 rows" in client.get(TERMS).text
    assert [(y, t, s) for y, t, s, _e, _h in term_rows(world)] == [
        ("2026/27", "autumn", date(2026, 9, 2)), ("2026/27", "spring", date(2027, 1, 5)),
        ("2027/28", "autumn", date(2027, 9, 2))]
    with world.session() as session:
        assert session.scalars(select(InsetDay.day)).all() == [date(2026, 11, 2)]
        assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0
    ((actor, data),) = audits(world, "authority.term_dates_replaced")
    assert actor == "admin" and data["source"] == "upload" and data["filename"] == "terms.csv"
    assert data["terms"] == 3 and data["inset_days"] == 1 and data["academic_years"] == ["2026/27", "2027/28"]
    again = client.post(UPLOAD, data={"csrf_token": token, "upload_token": upload_token.group(1)})
    assert again.status_code == 400 and "expired or was used already" in again.text


def test_a_bad_term_dates_file_is_refused_naming_each_line_and_column_and_nothing_changes(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    before = term_rows(world)
    refused = send(client, token, UPLOAD, BAD, "terms.csv")
    assert refused.status_code == 400
    rows = re.findall(r"<td class=\"govuk-table__cell\">(\d+)</td>\s*<td[^>]*><code>(\w+)</code></td>", refused.text)
    assert rows == [("3", "starts_on"), ("4", "starts_on")]
    assert "must lie inside its term" in refused.text and "YYYY-MM-DD" in html.unescape(refused.text)
    assert "Replace the term dates" not in refused.text and "upload_token" not in refused.text
    assert send(client, token, UPLOAD, b"\xff\xfe bad", "terms.csv").status_code == 400
    empty = client.post(UPLOAD, data={"csrf_token": token}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose a file to upload" in empty.text
    out_of_year = GOOD.replace("term,2027/28,autumn,2027-09-02", "term,2026/27,summer,2027-09-02")
    assert "Not in the academic year 2026/27" in send(client, token, UPLOAD, out_of_year, "t.csv").text
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0
    assert term_rows(world) == before and audits(world, "authority.term_dates_replaced") == []


def test_the_administrator_changes_one_year_in_the_form_and_the_other_years_are_kept(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    form = client.get(f"{TERMS}/2026-27")
    assert form.status_code == 200 and 'value="2026-09-03"' in form.text  # the default dates, filled in
    answers = {"csrf_token": token, "autumn-starts_on": "2026-09-01", "autumn-ends_on": "2026-12-16",
               "autumn-half_starts_on": "2026-10-19", "autumn-half_ends_on": "2026-10-23",
               "spring-starts_on": "2027-01-04", "spring-ends_on": "2027-03-24",
               "summer-starts_on": "2027-04-12", "summer-ends_on": "2027-07-20",
               "inset_days": "2026-09-01\n2027-01-04"}
    saved = client.post(f"{TERMS}/2026-27", data=answers)
    assert saved.status_code == 302
    rows = term_rows(world)
    assert [r for r in rows if r[0] == "2026/27"] == [
        ("2026/27", "autumn", date(2026, 9, 1), date(2026, 12, 16), date(2026, 10, 19)),
        ("2026/27", "spring", date(2027, 1, 4), date(2027, 3, 24), None),
        ("2026/27", "summer", date(2027, 4, 12), date(2027, 7, 20), None)]
    assert {r[0] for r in rows} == {"2025/26", "2026/27", "2027/28"}  # the default years, kept
    ((actor, data),) = audits(world, "authority.term_dates_replaced")
    assert actor == "admin" and data["source"] == "form" and data["academic_year"] == "2026/27"
    assert "autumn 2026-09-03 to 2026-12-18, half term 2026-10-26 to 2026-10-30" in data["before"]  # type: ignore[operator]
    assert "autumn 2026-09-01 to 2026-12-16, half term 2026-10-19 to 2026-10-23" in data["after"]  # type: ignore[operator]
    assert "INSET day 2027-01-04" in data["after"]  # type: ignore[operator]
    added = client.post(f"{TERMS}/2028-29", data={"csrf_token": token, "autumn-starts_on": "2028-09-05",
                                                 "autumn-ends_on": "2028-12-20"})
    assert added.status_code == 302 and ("2028/29", "autumn", date(2028, 9, 5), date(2028, 12, 20), None) in term_rows(world)
    assert "Add the dates for 2029/30" in client.get(TERMS).text


def test_a_year_with_bad_dates_is_refused_naming_each_field_and_nothing_changes(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    before = term_rows(world)
    answers = {"csrf_token": token, "autumn-starts_on": "2026-09-01", "autumn-ends_on": "1 Dec",
               "spring-starts_on": "2027-01-04", "spring-ends_on": "2027-03-24",
               "spring-half_starts_on": "2027-04-01", "spring-half_ends_on": "2027-04-03",
               "summer-starts_on": "2027-03-20", "summer-ends_on": "2027-07-20", "inset_days": "2026-08-01"}
    refused = client.post(f"{TERMS}/2026-27", data=answers)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert 'id="autumn-ends_on-error"' in text and "Enter a date as YYYY-MM-DD, not '1 Dec'" in text
    assert 'id="spring-half_starts_on-error"' in text and "must lie inside its term" in text
    assert 'id="summer-starts_on-error"' in text and "Overlaps the spring term of 2026/27" in text
    assert 'id="inset_days-error"' in text and 'href="#inset_days"' in text
    assert 'value="1 Dec"' in text  # what was typed is kept
    emptied = client.post(f"{TERMS}/2026-27", data={"csrf_token": token})
    assert emptied.status_code == 400 and "Enter the dates of at least one term of 2026/27" in emptied.text
    assert client.get(f"{TERMS}/2026-28").status_code == 404 and client.get(f"{TERMS}/next").status_code == 404
    assert term_rows(world) == before and audits(world, "authority.term_dates_replaced") == []


def test_a_year_that_would_overlap_the_next_one_is_refused_naming_the_other_years_term(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    assert client.post(f"{TERMS}/2027-28", data={"csrf_token": token, "autumn-starts_on": "2027-08-02",
                                                 "autumn-ends_on": "2027-12-17"}).status_code == 302
    before = term_rows(world)
    answers = {"csrf_token": token, **{k: v for k, v in re.findall(
        r'name="([\w-]+)" type="text"\s+spellcheck="false" autocomplete="off" value="([^"]*)"',
        client.get(f"{TERMS}/2026-27").text)}, "summer-ends_on": "2027-08-10"}
    refused = client.post(f"{TERMS}/2026-27", data=answers)
    assert refused.status_code == 400
    assert ("Overlaps the summer term of 2026/27 (ends 2027-08-10) (the autumn term of 2027/28 is already set)"
            in html.unescape(refused.text))
    assert term_rows(world) == before


def test_the_rules_show_their_allowed_values_and_a_change_is_saved_and_audited(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    page = client.get(RULES)
    assert page.status_code == 200
    assert "A whole number from 1 to 60; default 20." in page.text and "reg. 13(4) allows at most 5" in page.text
    values = {f"{name}": value for name, value in re.findall(r'name="(\w+)" type="text"\s+inputmode="numeric" '
                                                              r'spellcheck="false" value="([^"]*)"', page.text)}
    assert values["school_place_limit_school_days"] == "20" and len(values) == 8
    choices = dict(re.findall(r'name="(\w+)" type="radio" value="(\w+)" checked', page.text))
    assert choices == {"ks4_move_approver_role": "nominated_officer", "distant_placement_approver_role": "dcs",
                       "initial_pep_day_kind": "working", "termly_review_window": "first_half"}
    sent = {"csrf_token": token, **values, **choices, "school_place_limit_school_days": "10",
            "ks4_move_approver_role": "vsh"}
    assert client.post(RULES, data=sent).status_code == 302
    assert "Rules saved: 2 changed." in client.get(RULES).text
    with world.session() as session:
        rules = rules_for(session, LA)
    assert rules.school_place_limit_school_days == 10 and rules.ks4_move_approver_role == "vsh"
    ((actor, data),) = audits(world, "authority.rules_changed")
    assert actor == "admin" and data == {"la_code": LA, "changes": {
        "school_place_limit_school_days": [20, 10], "ks4_move_approver_role": ["nominated_officer", "vsh"]}}
    assert client.post(RULES, data={**sent}).status_code == 302
    assert len(audits(world, "authority.rules_changed")) == 1  # saving the same values changes nothing


def test_bad_rule_values_are_refused_naming_the_rule_and_its_allowed_range_and_nothing_changes(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    page = client.get(RULES).text
    values = dict(re.findall(r'name="(\w+)" type="text"\s+inputmode="numeric" spellcheck="false" value="([^"]*)"', page))
    choices = dict(re.findall(r'name="(\w+)" type="radio" value="(\w+)" checked', page))
    sent = {"csrf_token": token, **values, **choices, "area_notice_working_days": "6",
            "school_place_limit_school_days": "ten", "distant_placement_approver_role": "vsh",
            "initial_pep_days": ""}
    refused = client.post(RULES, data=sent)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert "Enter a whole number from 1 to 5 (reg. 13(4) allows at most 5 working days)" in text
    assert "Enter a whole number from 1 to 60, not 'ten'" in text
    assert "reg. 11 requires the Director of Children's Services" in text
    assert 'id="initial_pep_days-error"' in text and "Enter a whole number from 1 to 60" in text
    assert 'href="#area_notice_working_days"' in text and 'value="ten"' in text
    with world.session() as session:
        assert rules_for(session, LA).area_notice_working_days == 5
    assert audits(world, "authority.rules_changed") == []


def test_the_process_versions_show_their_cases_and_a_new_bpmn_file_is_deployed_as_a_new_version(
    client: FlaskClient, world: World
) -> None:
    token = login(client)
    page = client.get(PROCESSES)
    assert page.status_code == 200
    row = re.search(r'data-definition="pep_review-1">.*?data-count="running">(\d+)<.*?data-count="cases">(\d+)<',
                    page.text, re.S)
    assert row and row.groups() == ("1", "1")  # C-1's initial PEP review, opened when he was recorded
    assert 'data-definition="placement_move-1"' in page.text
    changed = (PROCESS_DIR / "pep_review.bpmn").read_text(encoding="utf-8") + "<!-- changed -->\n"
    done = send(client, token, PROCESSES, changed, "pep_review.bpmn")
    assert done.status_code == 302
    listed = client.get(PROCESSES).text
    assert "Deployed: pep_review: version 2 (pep_review.bpmn, " in listed
    assert re.search(r'data-definition="pep_review-2">.*?data-count="running">0<', listed, re.S)
    with world.session() as session:
        assert session.scalar(select(func.max(ProcessDefinition.version))
                              .where(ProcessDefinition.process_id == "pep_review")) == 2
    assert [(a, d["process_id"], d["version"]) for a, d in audits(world, "definition_deployed")
            if d.get("version") == 2] == [("admin", "pep_review", 2)]


@pytest.mark.parametrize("content", [
    "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process",
    (PROCESS_DIR / "pep_review.bpmn").read_text(encoding="utf-8").replace('isExecutable="true"', 'isExecutable="false"'),
    (PROCESS_DIR / "pep_review.bpmn").read_text(encoding="utf-8").replace("<bpmn:startEvent", "<bpmn:startEventX", 1),
])
def test_a_bad_bpmn_file_is_refused_with_the_message_vsw_deploy_gives_and_nothing_is_deployed(
    client: FlaskClient, world: World, content: str
) -> None:
    token = login(client)
    with pytest.raises(DeploymentError) as refused_by_the_engine:
        Runtime().parse(content, "broken.bpmn")
    with world.session() as session:
        before = session.scalar(select(func.count()).select_from(ProcessDefinition))
    refused = send(client, token, PROCESSES, content, "broken.bpmn")
    assert refused.status_code == 400
    assert refused_by_the_engine.value.message in html.unescape(refused.text)
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before
    assert send(client, token, PROCESSES, b"\xff\xfe", "x.bpmn").status_code == 400


def test_the_process_versions_are_paged_in_the_database(client: FlaskClient, world: World) -> None:
    login(client)
    assert client.get(f"{PROCESSES}?page=abc").status_code == 400
    assert "No process has been deployed on this page" in client.get(f"{PROCESSES}?page=2").text
