"""Caseloads over HTTP (web/caseloads.py): the lists, allocating a child, handing over a whole caseload."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.records import Child
from casework.users import UserService
from engine.db import unit_of_work
from engine.models import HumanTask, ProcessInstance
from notifications.models import OutboxMessage
from tests.hashing import FAST_HASHER

from .support import CHILD, PASSWORD, login, post_form


@pytest.fixture
def manager(app: Flask, started: ProcessInstance, first_task_id: str) -> FlaskClient:
    """Max manages LA-100. Sam holds CHILD-001's first task and has CHILD-001 and C-2; Amy is a social worker;
    Oz is one of another authority."""
    state = app.extensions["vsw"]
    with unit_of_work(state.sessions) as session:
        users = UserService(session, state.clock, FAST_HASHER)
        users.add("max", "Max Manager", "max@la.example", PASSWORD, ["manager"], "LA-100")
        users.add("amy", "Amy Able", "amy@la.example", PASSWORD, ["social_worker"], "LA-100")
        users.add("oz", "Oz Other", "oz@la.example", PASSWORD, ["social_worker"], "LA-200")
        now = state.clock.now()
        for ref, first in ((CHILD, "Ethan"), ("C-2", "Fay"), ("C-3", "Gus")):  # the web tests' authority, LA-100
            session.add(Child(ref=ref, first_name=first, last_name="Stone", date_of_birth=date(2014, 1, 2),
                              legal_status="C2", looked_after_since=date(2025, 1, 6), la_code="LA-100",
                              social_worker=None if ref == "C-3" else "sam", created_at=now, updated_at=now))
        task = session.get(HumanTask, first_task_id)
        assert task is not None
        task.assignee = "sam"
    client = app.test_client()
    login(client, "max")
    return client


def test_the_caseloads_list_each_social_worker_with_their_number_of_children(manager: FlaskClient) -> None:
    page = manager.get("/admin/caseloads")
    assert 'href="/admin/caseloads" aria-current="page"' in page.text  # a manager's navigation has Caseloads
    assert page.status_code == 200
    assert 'data-children="sam">2<' in page.text and 'data-children="amy">0<' in page.text
    assert "Oz Other" not in page.text
    assert "Stone" in manager.get("/admin/caseloads/sam").text
    unallocated = manager.get("/admin/caseloads/unallocated")
    assert "Gus Stone" in unallocated.text and "Ethan" not in unallocated.text


def test_a_manager_hands_over_a_caseload_with_its_tasks_and_the_new_worker_is_told(
        app: Flask, manager: FlaskClient) -> None:
    page = manager.get("/admin/caseloads/sam")
    assert '<option value="amy"' in page.text and '<option value="oz"' not in page.text
    assert '<option value="sam"' not in page.text
    done = post_form(manager, "/admin/caseloads/sam", "/admin/caseloads/sam/hand-over", {"to": "amy"})
    assert done.status_code == 302 and done.location.endswith("/admin/caseloads/amy")
    assert "2 children and 1 open task handed over to amy" in manager.get("/admin/caseloads/amy").text
    with app.extensions["vsw"].sessions() as session:
        assert set(session.scalars(select(Child.social_worker))) == {"amy", None}
        assert session.scalars(select(HumanTask.assignee).where(HumanTask.state == "open")).all() == ["amy"]
        mail = session.scalars(select(OutboxMessage)).one()
        assert (mail.recipient_username, mail.subject) == ("amy", "2 children have been allocated to you")


def test_a_hand_over_to_someone_not_allowed_is_refused_and_changes_nothing(
        app: Flask, manager: FlaskClient) -> None:
    for to, reason in (("oz", "not an active social worker"), ("", "Choose a social worker")):
        refused = post_form(manager, "/admin/caseloads/sam", "/admin/caseloads/sam/hand-over", {"to": to})
        assert refused.status_code == 400 and reason in refused.text and 'href="#to"' in refused.text
    with app.extensions["vsw"].sessions() as session:
        assert set(session.scalars(select(Child.social_worker))) == {"sam", None}
    assert manager.get("/admin/caseloads/nobody").status_code == 404


def test_a_child_is_allocated_from_the_picker(app: Flask, manager: FlaskClient) -> None:
    form = manager.get("/admin/caseloads/allocate?child=C-3")
    assert form.status_code == 200 and "Gus Stone" in form.text
    done = post_form(manager, "/admin/caseloads/allocate?child=C-3", "/admin/caseloads/allocate",
                     {"child": "C-3", "social_worker": "amy"})
    assert done.status_code == 302
    refused = post_form(manager, "/admin/caseloads/allocate?child=C-3", "/admin/caseloads/allocate",
                        {"child": "C-3", "social_worker": "oz"})
    assert refused.status_code == 400 and 'href="#social_worker"' in refused.text
    assert manager.get("/admin/caseloads/allocate?child=NOPE").status_code == 404
    with app.extensions["vsw"].sessions() as session:
        assert session.scalars(select(Child.social_worker).where(Child.ref == "C-3")).one() == "amy"


@pytest.mark.parametrize("username", ["sam", "val", "tess"])
def test_only_an_administrator_or_a_manager_may_see_or_change_caseloads(
        app: Flask, manager: FlaskClient, username: str) -> None:
    client = app.test_client()
    login(client, username)
    for path in ("/admin/caseloads", "/admin/caseloads/sam", "/admin/caseloads/unallocated",
                 "/admin/caseloads/allocate?child=C-3"):
        assert client.get(path).status_code == 403, path
