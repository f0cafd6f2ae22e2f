"""The roll over HTTP: the page with its filters, refusals naming the parameter, the exports read back
with csv and openpyxl, and the cap on an export, over the hand-built cohort (tests/casework/roll_cohort.py)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import casework.roll
import web.roll
from casework.records import Child
from casework.roll_columns import EXPORT_HEADERS
from engine.clock import FrozenClock
from engine.models import AuditEvent
from tests.casework.roll_cohort import ROLL, build_cohort
from tests.casework.world import World

from .case_world import build_app
from .support import login


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_cohort(world)
    return world


@pytest.fixture
def app(db_url: str, clock: FrozenClock, world: World) -> Iterator[Flask]:
    app = build_app(db_url, clock, world)
    yield app
    app.extensions["vsw"].engine.dispose()


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, "a long enough secret").status_code == 302
    return client


def listed(html: str) -> list[str]:
    """The children's references in the roll's table, in order."""
    return re.findall(r'<td class="govuk-table__cell">(C-[A-Z])</td>', html)


def test_the_vsh_gets_the_roll_filtered_sorted_and_each_row_links_to_the_childs_record(app: Flask) -> None:
    client = signed_in(app, "vsh")
    page = client.get("/roll")
    assert page.status_code == 200
    assert listed(page.text) == ROLL
    assert 'href="/children/C-A"' in page.text and "5 children." in page.text
    assert "Left care 1 October 2026" in page.text
    page = client.get("/roll?area=out&sort=attendance&order=asc")
    assert listed(page.text) == ["C-C", "C-B"]
    assert 'aria-sort="ascending"' in page.text
    assert "Remove this filter: Area" in page.text and "2 children matching the filters." in page.text
    page = client.get("/roll?key_stage=ks2&key_stage=ks4")
    assert listed(page.text) == ["C-A", "C-B"]
    removed = re.search(r'href="([^"]*)"><span class="govuk-visually-hidden">Remove this filter: Key stage</span> '
                        r"Key stage 2", page.text)
    assert removed is not None
    assert listed(client.get(removed.group(1).replace("&amp;", "&")).text) == ["C-B"]


def test_the_roll_pages_keep_every_filter_value_and_the_sort(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.roll, "PER_PAGE", 2)
    client = signed_in(app, "vsh")
    page = client.get("/roll?pep_status=none&pep_status=complete&sort=ref&order=desc")
    assert listed(page.text) == ["C-E", "C-C"] and "Showing 1 to 2 of 3 children" in page.text
    following = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]*)" rel="next"', page.text)
    assert following is not None
    page = client.get(following.group(1).replace("&amp;", "&"))
    assert listed(page.text) == ["C-A"] and 'rel="prev"' in page.text and 'rel="next"' not in page.text


def test_a_bad_parameter_is_a_400_naming_it(app: Flask) -> None:
    client = signed_in(app, "vsh")
    for query, name in (("key_stage=ks9", "key_stage"), ("sort=age", "sort"), ("page=0", "page"),
                        ("attendance=awful", "attendance")):
        answer = client.get(f"/roll?{query}")
        assert answer.status_code == 400, query
        assert f"<li>{name}:" in answer.text, query
        if name != "page":  # an export has no pages
            assert client.get(f"/roll.csv?{query}").status_code == 400


def test_people_who_do_not_read_education_are_refused(app: Flask) -> None:
    client = signed_in(app, "admissions")
    for path in ("/roll", "/roll.csv", "/roll.xlsx"):
        assert client.get(path).status_code == 403
    with app.test_request_context():  # the navigation's item: the dashboard if there is one, else the roll
        home = url_for("cohort.dashboard" if "cohort.dashboard" in app.view_functions else "roll.index")
    item = f'<a class="govuk-service-navigation__link" href="{home}"'
    assert item not in client.get("/children").text
    assert item in signed_in(app, "sw").get("/children").text


def test_a_designated_teacher_and_a_social_worker_see_only_their_children(app: Flask) -> None:
    assert listed(signed_in(app, "dt100002").get("/roll?left_care=include").text) == ["C-E", "C-F"]
    assert listed(signed_in(app, "sw").get("/roll").text) == ["C-A", "C-C", "C-D"]


def test_the_csv_export_holds_every_filtered_row_labelled_for_people_and_is_audited(
        app: Flask, factory: sessionmaker[Session]) -> None:
    client = signed_in(app, "vsh")
    answer = client.get("/roll.csv?sen=none&sort=name&order=desc")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0] == EXPORT_HEADERS
    assert [r[0] for r in rows[1:]] == ["C-E", "C-D", "C-A"]
    alice = dict(zip(EXPORT_HEADERS, rows[3], strict=True))
    assert alice["School"] == "Riverside Primary" and alice["Placement type"] == "Foster care (LA carer)"
    assert alice["Attendance this academic year (%)"] == "95.0" and alice["Latest PEP rating (RAG)"] == "Green"
    assert alice["Date of birth"] == "2018-10-10" and alice["Key stage"] == "Key stage 2"
    with factory() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "roll.exported"))
    assert event.actor == "vsh"
    assert event.data == {"format": "csv", "filters": {"sen": ["none"], "sort": "name", "order": "desc"}, "rows": 3}


def test_the_xlsx_export_holds_the_same_rows_as_the_page(app: Flask) -> None:
    client = signed_in(app, "vsh")
    answer = client.get("/roll.xlsx?area=out")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == EXPORT_HEADERS
    assert [r[0] for r in rows[1:]] == listed(client.get("/roll?area=out").text) == ["C-B", "C-C"]
    ben = dict(zip(EXPORT_HEADERS, rows[1], strict=True))
    assert ben["Days suspended this academic year"] == 2 and str(ben["Attendance band"]).startswith("Persistently")
    assert ben["In or out of area"] == "Out of area" and ben["SEN status"] == "EHC plan"


def test_an_export_over_the_cap_is_refused_with_413_and_audits_nothing(
        app: Flask, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(casework.roll, "EXPORT_LIMIT", 4)
    client = signed_in(app, "vsh")
    for path in ("/roll.csv", "/roll.xlsx"):
        answer = client.get(path)
        assert answer.status_code == 413
        assert "5 children" in answer.text and "at most 4" in answer.text
    assert client.get("/roll.csv?area=out").status_code == 200
    with factory() as session:
        assert len(list(session.scalars(select(AuditEvent).where(AuditEvent.action == "roll.exported")))) == 1


def test_an_exported_name_a_spreadsheet_would_run_as_a_formula_stays_text(
        app: Flask, factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        session.scalars(select(Child).where(Child.ref == "C-A")).one().first_name = "=HYPERLINK(1)"
    client = signed_in(app, "vsh")
    rows = list(csv.reader(io.StringIO(client.get("/roll.csv?school=100001").data.decode("utf-8-sig"))))
    assert rows[1][1] == "'=HYPERLINK(1) Archer"
    sheet = load_workbook(io.BytesIO(client.get("/roll.xlsx?school=100001").data)).active
    assert sheet is not None
    cell = sheet.cell(row=2, column=2)
    assert (cell.value, cell.data_type) == ("'=HYPERLINK(1) Archer", "s")
