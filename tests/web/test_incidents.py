"""The administrators' incident list, through HTTP: processes whose timer step failed, and running them again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent, Incident
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from engine.timer_pump import FireReport, fire_due_timers
from tests.hashing import FAST_HASHER

from .support import FORMS, PASSWORD, csrf_token, login, post_form

FRAGILE = Path(__file__).resolve().parents[1] / "engine" / "bpmn" / "fragile.bpmn"
SAM = Actor("sam", frozenset({"social_worker"}))
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # the clock fixture's time


@pytest.fixture
def teams() -> dict[str, int]:
    """How many people each team has: the ``empty`` team's share is a division by zero."""
    return {"north": 2, "empty": 0}


@pytest.fixture
def runtime(teams: dict[str, int]) -> Runtime:
    return Runtime(forms=FORMS, functions={"team_size": lambda team: teams[team]})


@pytest.fixture
def admin(app: Flask, clock: FrozenClock, runtime: Runtime) -> str:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"], "LA-100")
        WorkflowService(session, clock, runtime).deploy_file(FRAGILE)
    return "ada"


def start(app: Flask, clock: FrozenClock, runtime: Runtime, key: str, team: str) -> int:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        return WorkflowService(session, clock, runtime).start("fragile", key, {"team": team, "budget": 100}, SAM).id


def pump(app: Flask, clock: FrozenClock, runtime: Runtime, days: int) -> FireReport:
    """The scheduler's timer pass ``days`` after the test's start."""
    clock.set(START + timedelta(days=days))
    return fire_due_timers(app.extensions["vsw"].sessions, runtime, clock)


def incident_of(app: Flask, instance_id: int) -> Incident:
    with app.extensions["vsw"].sessions() as session:
        found: Incident = session.scalars(select(Incident).where(Incident.instance_id == instance_id)).one()
        return found



def test_the_admin_sees_open_incidents_and_run_again_puts_the_process_back_for_the_next_pass(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str, teams: dict[str, int]
) -> None:
    broken, fine = start(app, clock, runtime, "C-2", "empty"), start(app, clock, runtime, "C-1", "north")
    first = pump(app, clock, runtime, 1)
    assert (first.fired, first.failed) == (1, 1)
    login(client, admin)
    page = client.get("/admin/incidents")
    assert page.status_code == 200
    text = page.text
    assert f"fragile {broken}" in text and f"fragile {fine}" not in text
    assert "C-2" in text and "share_out" in text and "ZeroDivisionError" in text
    assert 'govuk-table__cell--numeric">1</td>' in text and "2 December 2026 at 9:00am" in text
    assert 'href="/admin/incidents"' in text  # in the admin's navigation
    incident = incident_of(app, broken)
    response = client.post(f"/admin/incidents/{incident.id}/retry", data={"csrf_token": csrf_token(text)})
    assert response.status_code == 302
    assert (incident_of(app, broken).status, incident_of(app, broken).retried_by) == ("retried", "ada")
    with app.extensions["vsw"].sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "incident_retried")).all()
        assert (event.actor, event.instance_id) == ("ada", broken)
    after = client.get("/admin/incidents").text
    assert f"Process {broken} (C-2) will run again" in after and "There are no open incidents" in after
    token = csrf_token(after)
    assert client.post(f"/admin/incidents/{incident.id}/retry", data={"csrf_token": token}).status_code == 409
    assert client.post("/admin/incidents/999999/retry", data={"csrf_token": token}).status_code == 404

    teams["empty"] = 3  # the cause is fixed: the next pass runs it and resolves the incident
    assert (pump(app, clock, runtime, 2).fired, incident_of(app, broken).status) == (1, "resolved")


def test_a_process_that_fails_again_after_run_again_is_listed_again_with_two_attempts(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    broken = start(app, clock, runtime, "C-2", "empty")
    pump(app, clock, runtime, 1)
    login(client, admin)
    response = post_form(client, "/admin/incidents", f"/admin/incidents/{incident_of(app, broken).id}/retry", {})
    assert response.status_code == 302
    assert pump(app, clock, runtime, 2).failed == 1
    login(client, admin)  # a day later: yesterday's session has ended (docs/security.md)
    text = client.get("/admin/incidents").text
    assert f"fragile {broken}" in text and 'govuk-table__cell--numeric">2</td>' in text


def test_incidents_are_for_administrators_only(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    broken = start(app, clock, runtime, "C-2", "empty")
    pump(app, clock, runtime, 1)
    incident = incident_of(app, broken)
    login(client, "val")
    response = client.get("/admin/incidents")
    assert response.status_code == 403 and "Only an administrator" in response.text
    assert "ZeroDivisionError" not in response.text
    assert 'href="/admin/incidents"' not in client.get("/").text
    assert post_form(client, "/", f"/admin/incidents/{incident.id}/retry", {}).status_code == 403
    assert incident_of(app, broken).status == "open"


def test_running_an_incident_again_needs_the_csrf_token(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    broken = start(app, clock, runtime, "C-2", "empty")
    pump(app, clock, runtime, 1)
    login(client, admin)
    assert client.post(f"/admin/incidents/{incident_of(app, broken).id}/retry").status_code == 400
    assert incident_of(app, broken).status == "open"


def test_running_again_the_incident_of_a_cancelled_process_closes_it(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    broken = start(app, clock, runtime, "C-2", "empty")
    pump(app, clock, runtime, 1)
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        WorkflowService(session, clock, runtime).cancel(broken, SAM, "Child returned home")
    login(client, admin)
    response = post_form(client, "/admin/incidents", f"/admin/incidents/{incident_of(app, broken).id}/retry", {})
    assert response.status_code == 302
    assert "is no longer running, so there is nothing to run again" in client.get("/admin/incidents").text
    assert (incident_of(app, broken).status, incident_of(app, broken).resolved_by) == ("resolved", "ada")


def test_incidents_are_paged_for_the_administrator(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    for n in range(27):
        start(app, clock, runtime, f"C-{n:02d}", "empty")
    assert pump(app, clock, runtime, 1).failed == 27
    login(client, admin)
    first, second = client.get("/admin/incidents").text, client.get("/admin/incidents?page=2").text
    assert first.count("Run again<") == 25 and second.count("Run again<") == 2
    assert 'rel="next"' in first and 'rel="prev"' in second
