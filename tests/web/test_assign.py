"""A manager gives tasks to someone else over HTTP (web/assign.py), over the case world: one task from its
page, many from /tasks/reassign; who is offered, who is refused, and a claim that lands first."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import AuditEvent
from engine.service import WorkflowService
from notifications.models import OutboxMessage
from tests.casework.records_support import add_user
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username, PASSWORD).status_code == 302
    return client


@pytest.fixture
def manager(app: Flask) -> FlaskClient:
    return client_for(app, "manager")


def offered(page: str) -> list[str]:
    """The usernames the picker offers."""
    return re.findall(r'name="assignee" type="radio" value="([^"]+)"', page) or re.findall(
        r'<option value="([^"]+)"', page)


def told(world: World, who: str) -> list[str]:
    with world.session() as session:
        return list(session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.name == "task_reassigned", OutboxMessage.recipient_username == who)))


def assignments(world: World) -> list[tuple[str | None, object]]:
    with world.session() as session:
        return [(e.task_id, e.data) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "task_assigned").order_by(AuditEvent.id))]


def test_a_manager_gives_a_task_from_its_page_to_an_eligible_person_who_then_has_it(
        app: Flask, world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    assert f'href="/tasks/{task.id}/assign"' in manager.get(f"/tasks/{task.id}").text
    page = manager.get(f"/tasks/{task.id}/assign")
    assert page.status_code == 200 and "Assign ‘Complete the school-age PEP’ to someone else" in page.text
    assert offered(page.text) == ["dt100001", "sw_dt"]  # the teachers at C-1's school, no one else
    done = manager.post(f"/tasks/{task.id}/assign",
                        data={"assignee": "sw_dt", "was": "", "csrf_token": csrf_token(page.text)})
    assert done.status_code == 302 and done.location.endswith(f"/tasks/{task.id}")
    assert "‘Complete the school-age PEP’ is assigned to Sw_Dt" in manager.get(done.location).text
    assert world.task("C-1", "complete_pep_school_age").assignee == "sw_dt"
    assert assignments(world) == [(task.id, {"to": "sw_dt", "was": None})]
    history = manager.get(f"/instances/{task.instance_id}").text
    assert "Task given to someone by a manager" in history and "sw_dt" in history
    assert told(world, "sw_dt") == ["Manager has given you a task for Ethan Walsh (C-1): Complete the school-age PEP"]
    assert f"/tasks/{task.id}" in client_for(app, "sw_dt").get("/").text
    assert f"/tasks/{task.id}" not in client_for(app, "dt100001").get("/").text


def test_the_new_holder_can_still_unassign_themselves(app: Flask, world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "social_worker_contribution")
    page = manager.get(f"/tasks/{task.id}/assign")
    manager.post(f"/tasks/{task.id}/assign", data={"assignee": "sw", "was": "", "csrf_token": csrf_token(page.text)})
    sw = client_for(app, "sw")
    mine = sw.get(f"/tasks/{task.id}")
    assert "Unassign me" in mine.text and "Assign to someone else" not in mine.text
    released = sw.post(f"/tasks/{task.id}/unclaim", data={"csrf_token": csrf_token(mine.text)})
    assert released.status_code == 302 and world.task("C-1", "social_worker_contribution").assignee is None


def test_the_picker_offers_only_the_childs_own_social_worker_for_a_social_workers_task(
        world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "social_worker_contribution")
    assert offered(manager.get(f"/tasks/{task.id}/assign").text) == ["sw"]  # not other_sw, sw_dt, vsh, manager


def test_a_tampered_choice_of_someone_not_eligible_is_refused_400_naming_assignee_and_changes_nothing(
        world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "social_worker_contribution")
    page = manager.get(f"/tasks/{task.id}/assign")
    for who, reason in (("other_sw", "they are not the child&#39;s social worker"),
                        ("vsh", "they are not a social worker"), ("", "Choose who to give the task to")):
        refused = manager.post(f"/tasks/{task.id}/assign",
                               data={"assignee": who, "was": "", "csrf_token": csrf_token(page.text)})
        assert refused.status_code == 400 and 'href="#assignee"' in refused.text and reason in refused.text
        assert refused.text.count('id="assignee-error"') == 1
    assert world.task("C-1", "social_worker_contribution").assignee is None and assignments(world) == []


def test_someone_who_is_not_a_manager_may_not_assign_and_is_not_offered_to(app: Flask, world: World) -> None:
    task = world.task("C-1", "social_worker_contribution")
    for who in ("sw", "vsh"):
        client = client_for(app, who)
        assert "Assign to someone else" not in client.get(f"/tasks/{task.id}").text
        assert client.get(f"/tasks/{task.id}/assign").status_code == 403
        token = csrf_token(client.get("/").text)
        refused = client.post(f"/tasks/{task.id}/assign", data={"assignee": "sw", "csrf_token": token})
        assert refused.status_code == 403 and "Only a manager" in refused.text
        assert client.get(f"/tasks/reassign?task={task.id}").status_code == 403
    assert assignments(world) == []


def test_a_manager_of_another_authority_cannot_find_the_task(app: Flask, world: World) -> None:
    with world.session() as session:
        add_user(session, world.clock, "bea", ["manager"], la_code="936")
    bea = client_for(app, "bea")
    task = world.task("C-1", "social_worker_contribution")
    assert bea.get(f"/tasks/{task.id}/assign").status_code == 404
    token = csrf_token(bea.get("/").text)
    assert bea.post(f"/tasks/{task.id}/assign", data={"assignee": "sw", "csrf_token": token}).status_code == 404
    assert bea.get(f"/tasks/reassign?task={task.id}").status_code == 404
    assert assignments(world) == []


def test_a_task_claimed_while_the_manager_was_choosing_is_a_409_and_the_claim_stands(
        world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    page = manager.get(f"/tasks/{task.id}/assign")
    assert 'name="was" value=""' in page.text
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["dt100001"])
    stale = manager.post(f"/tasks/{task.id}/assign",
                         data={"assignee": "sw_dt", "was": "", "csrf_token": csrf_token(page.text)})
    assert stale.status_code == 409 and "changed hands since you looked" in stale.text
    assert world.task("C-1", "complete_pep_school_age").assignee == "dt100001" and told(world, "sw_dt") == []


def test_many_tasks_chosen_together_go_to_one_person_who_is_told_once(world: World, manager: FlaskClient) -> None:
    ids = [world.task("C-1", "social_worker_contribution").id, world.task("C-1", "record_childs_views").id]
    page = manager.get("/tasks/reassign?" + "&".join(f"task={i}" for i in ids))
    assert page.status_code == 200 and "Assign 2 tasks to someone else" in page.text
    assert "Contribute to the PEP" in page.text and "Record the child" in page.text and offered(page.text) == ["sw"]
    done = manager.post("/tasks/reassign", data={"task": ids, "assignee": "sw", "csrf_token": csrf_token(page.text)})
    assert done.status_code == 302 and done.location.endswith("/")
    assert "2 tasks are assigned to Sw" in manager.get("/").text
    assert {t for t, _ in assignments(world)} == set(ids) and told(world, "sw") == ["Manager has given you 2 tasks"]


def test_many_tasks_where_one_cannot_go_to_the_person_are_refused_together_naming_that_task(
        world: World, manager: FlaskClient) -> None:
    ids = [world.task("C-1", "social_worker_contribution").id, world.task("C-1", "complete_pep_school_age").id]
    page = manager.get("/tasks/reassign?" + "&".join(f"task={i}" for i in ids))
    assert page.status_code == 200 and "No one can take all of these tasks" in page.text
    assert "different roles (designated teacher, social worker)" in page.text and offered(page.text) == []
    refused = manager.post("/tasks/reassign",
                           data={"task": ids, "assignee": "sw", "csrf_token": csrf_token(page.text)})
    assert refused.status_code == 400 and 'href="#assignee"' in refused.text
    assert "‘Complete the school-age PEP’ for Ethan Walsh (C-1)" in refused.text
    assert "they are not a designated teacher" in refused.text
    assert assignments(world) == [] and told(world, "sw") == []


def test_choosing_no_task_or_more_than_a_hundred_is_a_400_naming_task(world: World, manager: FlaskClient) -> None:
    none = manager.get("/tasks/reassign")
    assert none.status_code == 400 and "task: Choose at least one task" in none.text
    too_many = manager.get("/tasks/reassign?" + "&".join(f"task=t-{n}" for n in range(101)))
    assert too_many.status_code == 400 and "Choose at most 100 tasks" in too_many.text
    token = csrf_token(manager.get("/").text)
    assert manager.post("/tasks/reassign", data={"assignee": "sw", "csrf_token": token}).status_code == 400


def test_many_people_are_offered_in_a_select_and_past_the_limit_a_username_can_be_typed(
        world: World, manager: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("web.assign.RADIOS_UP_TO", 0)
    monkeypatch.setattr("casework.assignment.PICKER_LIMIT", 1)
    task = world.task("C-1", "complete_pep_school_age")
    page = manager.get(f"/tasks/{task.id}/assign")
    assert '<select class="govuk-select' in page.text and offered(page.text) == ["dt100001"]
    assert "Only the first 1 people, by name, are listed" in page.text and 'name="assignee_other"' in page.text
    token = csrf_token(page.text)
    refused = manager.post(f"/tasks/{task.id}/assign", data={"assignee_other": "sw", "was": "", "csrf_token": token})
    assert refused.status_code == 400 and "they are not a designated teacher" in refused.text
    done = manager.post(f"/tasks/{task.id}/assign", data={"assignee": "", "assignee_other": "sw_dt", "was": "",
                                                          "csrf_token": token})
    assert done.status_code == 302 and world.task("C-1", "complete_pep_school_age").assignee == "sw_dt"


def test_a_task_chosen_on_the_list_and_claimed_while_the_manager_was_choosing_is_a_409(
        world: World, manager: FlaskClient) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    page = manager.get(f"/tasks/reassign?task={task.id}")
    assert f'name="was" value="{task.id}:"' in page.text
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["dt100001"])
    form = {"task": task.id, "was": f"{task.id}:", "assignee": "sw_dt", "csrf_token": csrf_token(page.text)}
    stale = manager.post("/tasks/reassign", data=form)
    assert stale.status_code == 409 and "changed hands since you looked" in stale.text
    assert world.task("C-1", "complete_pep_school_age").assignee == "dt100001" and assignments(world) == []
