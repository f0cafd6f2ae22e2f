"""Moving running cases to a process's newest version, through HTTP, over the case world (shipped processes)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TimerRow
from engine.service import WorkflowService
from processes import PROCESS_DIR
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

ENGINE_BPMN = Path(__file__).resolve().parents[1] / "engine" / "bpmn"
PEP = "/admin/processes/pep_review/migrate"
TEST = "/admin/processes/migration/migrate"
PEP_FORM = {
    "meeting_date": "2026-12-01", "school_name": "Riverside Primary", "school_year_group": 5,
    "attendance_percent": 91.5, "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
    "sen_support_status": "none", "pupil_premium_plus_spend": 300, "pupil_premium_plus_purpose": "Maths tutoring.",
    "targets": "Read every day.",
    "actions": [{"description": "Weekly reading with the TA", "owner": "Ms Patel", "due_date": "2027-01-12"}],
}
RELABELLED = (PROCESS_DIR / "pep_review.bpmn").read_text(encoding="utf-8").replace(
    'name="Record the child\'s views"', 'name="Record what the child says"')


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str = "admin") -> str:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return csrf_token(client.get("/").text)


def deploy(world: World, text: str, filename: str) -> None:
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).deploy_text(text, filename)


def start_test_cases(world: World) -> tuple[int, int]:
    """The small test process: C-1's case waits at 'gather', C-3's at 'review'."""
    deploy(world, (ENGINE_BPMN / "migration_v1.bpmn").read_text(), "migration_v1.bpmn")
    with world.session() as session:
        service = WorkflowService(session, world.clock, world.runtime)
        at_gather = service.start("migration", "C-1", {}, world.actors["sw"]).id
        at_review = service.start("migration", "C-3", {}, world.actors["sw"]).id
    world.complete("C-3", "gather", {}, "sw")
    return at_gather, at_review


def version_of(world: World, instance_id: int) -> int:
    with world.session() as session:
        return session.scalars(select(ProcessDefinition.version).join(
            ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == instance_id)).one()


def pep_instance(world: World) -> int:
    with world.session() as session:
        return session.scalars(select(ProcessInstance.id).where(
            ProcessInstance.process_id == "pep_review", ProcessInstance.business_key == "C-1")).one()


@pytest.mark.parametrize("username", ["sw", "vsh", "manager", "dt100001"])
def test_everyone_but_an_administrator_is_refused_the_dry_run_and_the_move(
        client: FlaskClient, world: World, username: str) -> None:
    deploy(world, RELABELLED, "pep_review.bpmn")
    token = login(client, username)
    assert client.get(PEP).status_code == 403
    assert client.post(PEP, data={"csrf_token": token}).status_code == 403
    assert version_of(world, pep_instance(world)) == 1


def test_the_versions_page_links_an_older_version_with_running_cases_to_its_move(
        client: FlaskClient, world: World) -> None:
    login(client)
    assert "data-migrate" not in client.get("/admin/settings/processes").text  # one version: nothing to move
    deploy(world, RELABELLED, "pep_review.bpmn")
    listed = client.get("/admin/settings/processes").text
    row = re.search(r'data-definition="pep_review-1">(.*?)</tr>', listed, re.S)
    assert row and f'href="{PEP}"' in row.group(1)
    assert 'data-definition="pep_review-2">' in listed and listed.count("data-migrate") == 1


def test_the_shipped_pep_review_relabelled_moves_mid_way_keeping_its_tasks_and_timers_and_runs_on(
        client: FlaskClient, world: World) -> None:
    world.complete("C-1", "complete_pep_school_age", PEP_FORM, "dt100001")  # mid-way: the parts are open
    instance = pep_instance(world)
    with world.session() as session:
        before = {t.element_id: (t.id, t.assignee, t.due_at) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance, HumanTask.state == "open"))}
        timers = sorted((t.id, t.task_id, t.due_at) for t in session.scalars(
            select(TimerRow).where(TimerRow.instance_id == instance, TimerRow.state == "waiting")))
    assert "record_childs_views" in before and timers  # the PEP is due: its timer waits
    deploy(world, RELABELLED, "pep_review.bpmn")
    token = login(client)

    shown = client.get(PEP)
    assert shown.status_code == 200
    text = html.unescape(shown.text)
    assert "Move running cases to version 2" in text and f'data-instance="{instance}"' in text
    assert "Can move" in text and "Record the child's views" in text and "which version 2 keeps" in text
    assert version_of(world, instance) == 1  # the dry run changed nothing

    moved = client.post(PEP, data={"csrf_token": token, "page": "1"})
    assert moved.status_code == 302 and moved.location.endswith(f"{PEP}?page=1")
    assert "Moved to version 2: 1. Cannot move: 0." in html.unescape(client.get(PEP).text)
    assert version_of(world, instance) == 2
    with world.session() as session:
        after = {t.element_id: (t.id, t.assignee, t.due_at) for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance, HumanTask.state == "open"))}
        titles = {t.element_id: t.title for t in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance, HumanTask.state == "open"))}
        still = sorted((t.id, t.task_id, t.due_at) for t in session.scalars(
            select(TimerRow).where(TimerRow.instance_id == instance, TimerRow.state == "waiting")))
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_migrated"))
    assert after == before and still == timers
    assert titles["record_childs_views"] == "Record what the child says"
    assert (audit.actor, audit.instance_id, audit.data) == ("admin", instance, {"from_version": 1, "to_version": 2})

    world.complete("C-1", "social_worker_contribution", {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    assert ("quality_assure_pep", "vsh") in world.open_tasks("C-1", "pep_review")  # runs on, on version 2


def test_the_dry_run_says_which_cases_cannot_move_and_why_and_the_move_leaves_them_on_their_version(
        client: FlaskClient, world: World) -> None:
    at_gather, at_review = start_test_cases(world)
    deploy(world, (ENGINE_BPMN / "migration_removed.bpmn").read_text(), "migration_removed.bpmn")
    token = login(client)
    text = html.unescape(client.get(TEST).text)
    row = re.search(rf'data-instance="{at_review}">(.*?)</tr>', text, re.S)
    assert row and "Cannot move" in row.group(1)
    assert "waits at 'Review the case' (review), which version 2 removed" in row.group(1)
    assert re.search(r'data-count="movable">1<', text) and re.search(r'data-count="cannot">1<', text)
    assert "Move the 1 case that can move" in text

    assert client.post(TEST, data={"csrf_token": token, "page": "1"}).status_code == 302
    assert "Moved to version 2: 1. Cannot move: 1." in html.unescape(client.get(TEST).text)
    assert (version_of(world, at_gather), version_of(world, at_review)) == (2, 1)
    world.complete("C-3", "review", {}, "manager")  # keeps running on version 1
    with world.session() as session:
        assert session.get(ProcessInstance, at_review).status == "completed"  # type: ignore[union-attr]


def test_a_move_without_the_forms_token_is_refused_and_moves_nothing(client: FlaskClient, world: World) -> None:
    deploy(world, RELABELLED, "pep_review.bpmn")
    login(client)
    assert client.post(PEP, data={"page": "1"}).status_code == 400
    assert version_of(world, pep_instance(world)) == 1


def test_an_unknown_process_is_not_found_and_a_bad_page_names_the_field(client: FlaskClient, world: World) -> None:
    token = login(client)
    assert client.get("/admin/processes/nope/migrate").status_code == 404
    assert client.post("/admin/processes/nope/migrate", data={"csrf_token": token}).status_code == 404
    bad = client.get(f"{PEP}?page=abc")
    assert bad.status_code == 400 and "page" in bad.text
    refused = client.post(PEP, data={"csrf_token": token, "page": "0"})
    assert refused.status_code == 400 and "page" in refused.text
    assert "No running case of this process is on an older version" in client.get(PEP).text
