"""The operator's view through HTTP: running cases per version, counts per element, the cases at one element,
one case's facts and cancelling it; and a person's failed step kept as an incident."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, fields
from sqlalchemy import select

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.limits import ScriptLimits
from engine.models import AuditEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from tests.hashing import FAST_HASHER

from .support import CHILD, FORMS, GOOD_MOVE, PASSWORD, PROCESS_ID, login, post_form

OPS_BPMN = Path(__file__).parent / "operations" / "ops_count.bpmn"
SAM = Actor("sam", frozenset({"social_worker"}))


class GiveCount(Schema):
    count = fields.Integer(required=True, metadata={"label": "Count"})


@pytest.fixture
def runtime() -> Runtime:
    """The web tests' forms and the count-up process's; a script may use a fifth of a second of CPU."""
    return Runtime(forms={**FORMS, "ops_count": {"give_count": GiveCount}}, limits=ScriptLimits(cpu_seconds=0.2))


@pytest.fixture
def admin(app: Flask, clock: FrozenClock, runtime: Runtime) -> str:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"],
                                                     "LA-100")
        WorkflowService(session, clock, runtime).deploy_file(OPS_BPMN)
    return "ada"


def start(app: Flask, clock: FrozenClock, runtime: Runtime, process_id: str, key: str) -> int:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        return WorkflowService(session, clock, runtime).start(process_id, key, {}, SAM).id


def definition_id(app: Flask, process_id: str) -> int:
    with app.extensions["vsw"].sessions() as session:
        found: int = session.scalars(select(ProcessDefinition.id)
                                     .where(ProcessDefinition.process_id == process_id)).one()
        return found


def open_task(app: Flask, instance_id: int) -> str:
    with app.extensions["vsw"].sessions() as session:
        found: str = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.state == "open")).one()
        return found


def instance_row(app: Flask, instance_id: int) -> ProcessInstance:
    with app.extensions["vsw"].sessions() as session:
        found: ProcessInstance | None = session.get(ProcessInstance, instance_id)
        assert found is not None
        return found


def audit(app: Flask, instance_id: int) -> list[tuple[str, str, dict[str, object] | None]]:
    with app.extensions["vsw"].sessions() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id))
        return [(r.action, r.actor, r.data) for r in rows]


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A browser of its own, signed in as ``username``."""
    client = app.test_client()
    login(client, username)
    return client


def fail_a_step(app: Flask, instance_id: int) -> tuple[str, int]:
    """Sam completes the count task with a count no script can reach in its CPU time."""
    client = signed_in(app, "sam")
    task_id = open_task(app, instance_id)
    response = post_form(client, f"/tasks/{task_id}", f"/tasks/{task_id}", {"count": "999999999"})
    return task_id, response.status_code


def test_every_operator_route_is_for_administrators_only(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    instance_id = start(app, clock, runtime, "ops_count", "C-1")
    version = definition_id(app, "ops_count")
    routes = ["/admin/operations", f"/admin/operations/{version}", f"/admin/operations/{version}/diagram.json",
              f"/admin/operations/{version}/elements/give_count", f"/admin/operations/instances/{instance_id}"]
    for username in ("sam", "val"):
        client = signed_in(app, username)
        for route in routes:
            response = client.get(route)
            assert response.status_code == 403, route
            assert "C-1" not in response.text and "give_count" not in response.text
        cancel = post_form(client, "/", f"/admin/operations/instances/{instance_id}/cancel", {"reason": "No"})
        assert cancel.status_code == 403
    assert instance_row(app, instance_id).status == "running"
    client = signed_in(app, admin)
    assert all(client.get(route).status_code == 200 for route in routes)
    assert 'href="/admin/operations"' in client.get("/admin").text


def test_the_overview_counts_running_cases_per_version_open_incidents_and_dead_letters(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    for key in ("C-1", "C-2", "C-3"):
        start(app, clock, runtime, "ops_count", key)
    start(app, clock, runtime, PROCESS_ID, CHILD)
    client = signed_in(app, admin)
    text = client.get("/admin/operations").text
    assert 'data-count="running">4</dd>' in text and 'data-count="incidents">0</dd>' in text
    assert 'data-count="dead">0</dd>' in text
    assert 'data-definition="ops_count-1"' in text and 'data-definition="web_move-1"' in text
    row = text.split('data-definition="ops_count-1"')[1].split("</tr>")[0]
    assert 'data-count="running">3</td>' in row
    assert f'href="/admin/operations/{definition_id(app, "ops_count")}"' in row


def test_the_version_page_and_its_diagram_count_tasks_timers_and_incidents_at_each_element(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    ids = [start(app, clock, runtime, "ops_count", key) for key in ("C-1", "C-2", "C-3")]
    fail_a_step(app, ids[0])
    client = signed_in(app, "sam")
    done = open_task(app, ids[1])
    assert post_form(client, f"/tasks/{done}", f"/tasks/{done}", {"count": "3"}).status_code == 302
    version = definition_id(app, "ops_count")
    client = signed_in(app, admin)
    page = client.get(f"/admin/operations/{version}").text
    assert f'data-diagram-url="/admin/operations/{version}/diagram.json"' in page and 'id="process-diagram"' in page
    assert "vendor/bpmn-js/bpmn-js.css" in page and "js/diagram.js" in page and "diagram.css" in page

    def cells(element: str) -> dict[str, str]:
        row = page.split(f'data-element="{element}"')[1].split("</tr>")[0]
        found = {}
        for kind in ("tasks", "timers", "messages", "incidents"):
            cell = row.split(f'data-count="{kind}">')[1].split("</td>")[0]
            found[kind] = cell.split("<")[0] if not cell.startswith("<a") else cell.split(">")[1].split("<")[0]
        return found

    assert cells("give_count") == {"tasks": "2", "timers": "0", "messages": "0", "incidents": "0"}
    assert cells("count_due") == {"tasks": "0", "timers": "2", "messages": "0", "incidents": "0"}
    assert cells("check_total") == {"tasks": "1", "timers": "0", "messages": "0", "incidents": "0"}
    assert cells("count_up") == {"tasks": "0", "timers": "0", "messages": "0", "incidents": "1"}
    body = json.loads(client.get(f"/admin/operations/{version}/diagram.json").text)
    assert body["xml"].startswith("<?xml") and (body["completed"], body["current"], body["timers"]) == ([], [], [])
    counts = {c["id"]: c for c in body["counts"]}
    assert counts["give_count"] == {"id": "give_count", "tasks": 2, "timers": 0, "messages": 0, "incidents": 0,
                                    "href": f"/admin/operations/{version}/elements/give_count"}
    assert (counts["count_due"]["timers"], counts["count_up"]["incidents"]) == (2, 1)
    assert client.get("/admin/operations/999999").status_code == 404


def test_the_cases_waiting_at_an_element_are_listed_with_their_holder_and_link_to_each_case(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    ids = [start(app, clock, runtime, "ops_count", key) for key in ("C-1", "C-2")]
    client = signed_in(app, "sam")
    post_form(client, f"/tasks/{open_task(app, ids[0])}", f"/tasks/{open_task(app, ids[0])}/claim", {})
    version = definition_id(app, "ops_count")
    client = signed_in(app, admin)
    text = client.get(f"/admin/operations/{version}/elements/give_count").text
    assert "Cases waiting at Give the count" in text
    first = text.split(f'data-instance="{ids[0]}"')[1].split("</tr>")[0]
    second = text.split(f'data-instance="{ids[1]}"')[1].split("</tr>")[0]
    assert "C-1" in first and ">sam<" in first and f'href="/admin/operations/instances/{ids[0]}"' in first
    assert "C-2" in second and "Not claimed" in second and "1 December 2026 at 9:00am" in second
    timers = client.get(f"/admin/operations/{version}/elements/count_due").text
    assert "Due 11 December 2026" in timers and timers.count("data-instance=") == 2
    assert client.get(f"/admin/operations/{version}/elements/no_such_step").status_code == 404
    assert client.get(f"/admin/operations/{version}/elements/give_count?page=0").status_code == 400


def test_a_script_stopped_by_the_sandbox_in_a_task_completion_is_a_step_incident_and_nothing_else_is_saved(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    instance_id = start(app, clock, runtime, "ops_count", "C-1")
    before = instance_row(app, instance_id).version
    task_id, status = fail_a_step(app, instance_id)
    assert status == 409
    assert open_task(app, instance_id) == task_id  # the task is still open, the case unchanged
    assert instance_row(app, instance_id).version == before
    actions = [(action, actor) for action, actor, _ in audit(app, instance_id)]
    assert actions == [("instance_started", "sam"), ("incident_opened", "sam")]  # no task_completed
    with app.extensions["vsw"].sessions() as session:
        incident = session.scalars(select(Incident).where(Incident.instance_id == instance_id)).one()
    assert (incident.kind, incident.actor, incident.task_id, incident.element_id, incident.status) == (
        "step", "sam", task_id, "count_up", "open")
    assert "CPU time" in incident.error

    client = signed_in(app, admin)
    listed = client.get("/admin/incidents").text
    assert "count_up" in listed and "CPU time" in listed and "sam" in listed and "A person’s step" in listed
    facts = client.get(f"/admin/operations/instances/{instance_id}").text
    assert "CPU time" in facts and "completing the task as sam" in facts
    assert 'data-count="incidents">1</dd>' in client.get("/admin/operations").text
    response = post_form(client, "/admin/incidents", f"/admin/incidents/{incident.id}/retry", {})
    assert response.status_code == 302
    assert "sam can try the step again" in client.get("/admin/incidents").text
    assert audit(app, instance_id)[-1][:2] == ("incident_acknowledged", "ada")

    client = signed_in(app, "sam")  # the person tries again with a count the script can reach
    assert post_form(client, f"/tasks/{task_id}", f"/tasks/{task_id}", {"count": "5"}).status_code == 302
    assert "task_completed" in [action for action, _, _ in audit(app, instance_id)]


def test_cancelling_a_case_needs_a_reason_ends_it_and_the_audit_says_who_and_why(
    client: FlaskClient, app: Flask, clock: FrozenClock, runtime: Runtime, admin: str
) -> None:
    instance_id = start(app, clock, runtime, PROCESS_ID, CHILD)
    client = signed_in(app, "sam")
    task_id = open_task(app, instance_id)
    post_form(client, f"/tasks/{task_id}", f"/tasks/{task_id}", GOOD_MOVE)
    client = signed_in(app, admin)
    page = f"/admin/operations/instances/{instance_id}"
    text = client.get(page).text
    assert "Record the virtual school head&#39;s views" in text or "Record the virtual school head’s views" in text
    assert "Carers moving to Leeds" not in text  # the operator reads no answers
    empty = post_form(client, page, f"{page}/cancel", {"reason": "   "})
    assert empty.status_code == 400 and "Enter why you are cancelling this case" in empty.text
    assert 'href="#reason"' in empty.text and instance_row(app, instance_id).status == "running"
    too_long = post_form(client, page, f"{page}/cancel", {"reason": "x" * 501})
    assert too_long.status_code == 400 and "500 characters or fewer" in too_long.text
    done = post_form(client, page, f"{page}/cancel", {"reason": "Started for the wrong child"})
    assert done.status_code == 302 and done.headers["Location"] == page
    row = instance_row(app, instance_id)
    assert (row.status, row.ended_at) == ("cancelled", clock.now())
    action, actor, data = audit(app, instance_id)[-1]
    assert (action, actor, data) == ("instance_cancelled", "ada", {"reason": "Started for the wrong child"})
    with app.extensions["vsw"].sessions() as session:
        states = session.scalars(select(HumanTask.state).where(HumanTask.instance_id == instance_id)).all()
    assert "open" not in states
    after = client.get(page).text
    assert "is cancelled" in after and 'data-status="cancelled"' in after and "Cancel this case" not in after
    again = post_form(client, "/admin/operations", f"{page}/cancel", {"reason": "Again"})
    assert again.status_code == 409
    assert post_form(client, "/admin/operations", "/admin/operations/instances/999999/cancel",
                     {"reason": "Gone"}).status_code == 404
