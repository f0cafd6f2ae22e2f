"""The managers' escalation dashboard, through HTTP, over the real records and calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.escalations import Escalations
from casework.processes import RULES
from casework.records import Pep
from engine.clock import FrozenClock
from tests.casework.records_support import add_child
from tests.casework.world import World, moment

from . import case_fixtures
from .case_world import LA, PASSWORD
from .support import login as sign_in

JSON = {"Accept": "application/json"}


world = case_fixtures.world
app = case_fixtures.app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 302


def raise_escalation(world: World, ref: str, rule: tuple[str, str], since: datetime) -> None:
    """An open escalation on a real placement move of the child (as the hooks raise one)."""
    with world.casework() as casework:
        instance = casework.start_move(ref, world.actors["sw" if ref != "C-2" else "other_sw"])
        Escalations(casework.session).raise_for(
            rule=RULES[rule], child_ref=ref, la_code=LA, since=since, raised_at=since, process_id=rule[0],
            instance_id=instance.id, task_id=None, detail={"element_id": rule[1]})


@pytest.fixture
def escalated(world: World) -> World:
    raise_escalation(world, "C-1", ("placement_move", "area_notice_overdue"), moment("2026-11-25T10:00"))
    raise_escalation(world, "C-2", ("placement_move", "escalate_no_school_place"), moment("2026-11-16T09:00"))
    raise_escalation(world, "C-3", ("pep_review", "escalate_overdue_pep"), moment("2026-11-30T00:00"))
    return world


def test_the_dashboard_lists_open_escalations_longest_overdue_first_with_days_overdue(
    client: FlaskClient, escalated: World, clock: FrozenClock
) -> None:
    login(client, "manager")
    page = client.get("/escalations")
    assert page.status_code == 200
    text = page.text
    positions = [text.index(name) for name in ("Amy Khan", "Ethan Walsh", "Leo Brown")]
    assert positions == sorted(positions)  # since 16, 25 and 30 November
    assert "New school place not found" in text and "Area authority not notified" in text and "PEP overdue" in text
    assert "16 November 2026" in text and "/children/C-2" in text
    calendar = escalated.runtime.calendar
    since = moment("2026-11-16T09:00")
    working = calendar.working_days_between(since, clock.now())
    school = calendar.school_days_between(since, clock.now())
    assert working == 11  # Monday 16 November to Tuesday 1 December
    assert f'govuk-table__cell--numeric">{working}</td>' in text
    assert f'govuk-table__cell--numeric">{school}</td>' in text


def test_the_dashboard_is_forbidden_to_a_social_worker_and_a_designated_teacher(
    app: Flask, escalated: World
) -> None:
    for username in ("sw", "dt100001"):
        client = app.test_client()
        login(client, username)
        response = client.get("/escalations")
        assert response.status_code == 403
        assert "Only managers and the virtual school head" in response.text
        assert "Amy Khan" not in response.text
        assert 'href="/escalations"' not in response.text  # no nav link either
        assert client.get("/escalations", headers=JSON).status_code == 403


def test_the_virtual_school_head_sees_the_dashboard_and_the_nav_link(client: FlaskClient, escalated: World) -> None:
    login(client, "vsh")
    page = client.get("/escalations")
    assert page.status_code == 200 and "Amy Khan" in page.text
    assert 'href="/escalations"' in page.text


def test_the_dashboard_filters_by_kind(client: FlaskClient, escalated: World) -> None:
    login(client, "manager")
    page = client.get("/escalations?kind=no_school_place")
    assert page.status_code == 200
    assert "Amy Khan" in page.text
    assert "Ethan Walsh" not in page.text and "Leo Brown" not in page.text
    assert '<option value="no_school_place" selected>' in page.text
    empty = client.get("/escalations?kind=stalled_direction")
    assert empty.status_code == 200 and "There are no open escalations of this kind" in empty.text


def test_an_unknown_kind_is_a_clear_400(client: FlaskClient, escalated: World) -> None:
    login(client, "manager")
    response = client.get("/escalations?kind=made_up")
    assert response.status_code == 400
    assert "There is no kind of escalation called ‘made_up’" in response.text
    assert "no_school_place" in response.text
    as_json = client.get("/escalations?kind=made_up", headers=JSON)
    assert as_json.status_code == 400 and "made_up" in as_json.get_json()["error"]


def test_the_dashboard_answers_json_when_asked(client: FlaskClient, escalated: World, clock: FrozenClock) -> None:
    login(client, "manager")
    response = client.get("/escalations", headers=JSON)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["kind"] is None
    rows = body["escalations"]
    assert [r["child_ref"] for r in rows] == ["C-2", "C-1", "C-3"]
    first = rows[0]
    assert first["kind"] == "no_school_place" and first["label"] == "New school place not found"
    assert first["child_name"] == "Amy Khan" and first["child_url"] == "/children/C-2"
    assert datetime.fromisoformat(first["since"]) == moment("2026-11-16T09:00")
    assert first["working_days_overdue"] == 11
    assert isinstance(first["school_days_overdue"], int)
    filtered = client.get("/escalations?kind=overdue_pep", headers=JSON).get_json()
    assert [r["child_ref"] for r in filtered["escalations"]] == ["C-3"]


def test_a_real_overdue_pep_escalation_links_to_the_managers_task(client: FlaskClient, world: World) -> None:
    with world.session() as session:
        [pep] = session.scalars(select(Pep).where(Pep.kind == "initial"))
        due_at = pep.due_at
    assert due_at is not None
    world.at(due_at)  # the PEP's timer fires: the manager's escalation task opens
    assert world.escalations("C-1") == [("overdue_pep", "escalate_overdue_pep")]
    task = world.task("C-1", "escalate_overdue_pep")
    login(client, "manager")
    page = client.get("/escalations")
    assert "PEP overdue" in page.text and f"/tasks/{task.id}" in page.text
    assert client.get(f"/tasks/{task.id}").status_code == 200
    row = client.get("/escalations", headers=JSON).get_json()["escalations"][0]
    assert row["task_url"] == f"/tasks/{task.id}" and row["working_days_overdue"] == 0


def test_the_dashboard_pages_its_escalations_counts_them_all_and_leaves_out_another_authoritys(
    client: FlaskClient, world: World, clock: FrozenClock,
) -> None:
    with world.casework() as casework:
        instance = casework.start_move("C-1", world.actors["sw"])
        add_child(casework.session, clock, ref="C-900", first_name="Far", last_name="Away", la_code="936")
        escalations = Escalations(casework.session)
        for n, ref in enumerate(["C-1", "C-2", "C-3"] * 10 + ["C-900"]):
            escalations.raise_for(rule=RULES[("pep_review", "escalate_overdue_pep")], child_ref=ref,
                                  la_code="936" if ref == "C-900" else LA,
                                  since=moment("2026-11-01T00:00") + timedelta(hours=n), raised_at=clock.now(),
                                  process_id="pep_review", instance_id=instance.id, task_id=None, detail={})
    login(client, "manager")
    first = client.get("/escalations").text
    assert "30 open escalations" in first and first.count("PEP overdue") >= 25
    assert 'href="/escalations?page=2" rel="next"' in first
    second = client.get("/escalations?page=2", headers=JSON).get_json()
    assert (second["total"], second["page"], len(second["escalations"])) == (30, 2, 5)
    assert second["next"] is None and second["previous"] == "/escalations?page=1"
    assert "C-900" not in {e["child_ref"] for e in second["escalations"]} and "C-900" not in first
    kind = client.get("/escalations?kind=overdue_pep&page=2").text
    assert 'href="/escalations?kind=overdue_pep&amp;page=1" rel="prev"' in kind


def test_the_dashboard_shows_what_the_manager_decided_and_resolved_ones_are_listed_under_resolved(
    client: FlaskClient, world: World,
) -> None:
    with world.session() as session:
        [pep] = session.scalars(select(Pep).where(Pep.kind == "initial"))
        due_at = pep.due_at
    assert due_at == moment("2026-12-05T00:00")  # due by Friday 4 December
    world.at(due_at)
    world.complete("C-1", "escalate_overdue_pep", {"escalation_action": "chase_school",
                                                   "escalation_notes": "Called the school"}, "manager")
    decided = "Chase the designated teacher and school — decided by Manager on 5 December 2026: ‘Called the school’"
    login(client, "manager")
    page = client.get("/escalations")
    assert decided in page.text and "No open task" not in page.text
    row = client.get("/escalations", headers=JSON).get_json()["escalations"][0]
    assert (row["decision"], row["decision_note"], row["decided_by"], row["decided_by_name"]) == (
        "Chase the designated teacher and school", "Called the school", "manager", "Manager")
    assert datetime.fromisoformat(row["decided_at"]) == due_at and row["state"] == "open"
    assert "There are no resolved escalations" in client.get("/escalations?state=resolved").text

    with world.session() as session:
        escalations = Escalations(session)
        escalations.resolve(escalations.open_for_child("C-1"), due_at + timedelta(days=3), "vsh")
    assert "There are no open escalations" in client.get("/escalations").text
    resolved = client.get("/escalations?state=resolved&kind=overdue_pep")
    assert resolved.status_code == 200
    assert "1 resolved escalation" in resolved.text and decided in resolved.text
    assert "Resolved on 8 December 2026" in resolved.text and "Ethan Walsh" in resolved.text
    assert '<input type="hidden" name="state" value="resolved">' in resolved.text
    body = client.get("/escalations?state=resolved", headers=JSON).get_json()
    assert body["state"] == "resolved" and [r["child_ref"] for r in body["escalations"]] == ["C-1"]


def test_resolved_escalations_are_paged_most_recently_resolved_first_within_the_readers_authority(
    client: FlaskClient, world: World, clock: FrozenClock,
) -> None:
    with world.casework() as casework:
        instance = casework.start_move("C-1", world.actors["sw"])
        add_child(casework.session, clock, ref="C-900", first_name="Far", last_name="Away", la_code="936")
        escalations = Escalations(casework.session)
        for n, ref in enumerate(["C-1", "C-2", "C-3"] * 9 + ["C-900"]):
            row = escalations.raise_for(rule=RULES[("pep_review", "escalate_overdue_pep")], child_ref=ref,
                                        la_code="936" if ref == "C-900" else LA,
                                        since=moment("2026-11-01T00:00"), raised_at=clock.now(),
                                        process_id="pep_review", instance_id=instance.id, task_id=None, detail={})
            escalations.resolve([row], moment("2026-11-02T00:00") + timedelta(hours=n), "system")
    login(client, "manager")
    first = client.get("/escalations?state=resolved", headers=JSON).get_json()
    assert first["total"] == 27 and len(first["escalations"]) == 25
    stamps = [datetime.fromisoformat(r["resolved_at"]) for r in first["escalations"]]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] == moment("2026-11-03T02:00")
    assert first["next"] == "/escalations?state=resolved&page=2"
    second = client.get(first["next"], headers=JSON).get_json()
    assert len(second["escalations"]) == 2 and "C-900" not in {r["child_ref"] for r in second["escalations"]}


def test_an_unknown_list_of_escalations_is_a_clear_400(client: FlaskClient, escalated: World) -> None:
    login(client, "manager")
    response = client.get("/escalations?state=archived")
    assert response.status_code == 400
    assert "There is no list of escalations called ‘archived’. Choose open or resolved." in response.text
