"""Starting instances, listing, claiming and completing human tasks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.engine.conftest import MANAGER, OTHER_SOCIAL_WORKER, SOCIAL_WORKER, Harness

GOOD_DRAFT = {"summary": "Settled well", "meeting_date": "2026-12-03", "attendance_percent": 96}


def start_review(wf: Harness, key: str = "child-1") -> int:
    with wf() as svc:
        return svc.start("review", key, {"started_at": wf.clock.now().isoformat()}, SOCIAL_WORKER).id


def open_task(wf: Harness, instance_id: int, element_id: str) -> HumanTask:
    with wf() as svc:
        [task] = [t for t in svc.instance_tasks(instance_id) if t.element_id == element_id and t.state == "open"]
        return task


def test_starting_an_instance_opens_the_first_task_in_its_lane_role_with_its_due_date(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    assert task.role == "social_worker"
    assert task.title == "Write the draft"
    assert task.business_key == "child-1"
    # 5 working days from Tuesday 1 December 2026
    assert task.due_at == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_starting_an_unknown_process_is_not_found(wf: Harness) -> None:
    with pytest.raises(NotFound, match="nope"), wf() as svc:
        svc.start("nope", "child-1", {}, SOCIAL_WORKER)


def test_start_data_that_is_not_plain_json_is_refused_naming_the_field(wf: Harness) -> None:
    with pytest.raises(InvalidData) as error, wf() as svc:
        svc.start("review", "child-1", {"when": object()}, SOCIAL_WORKER)
    assert "data" in error.value.errors


def test_tasks_are_listed_by_role_assignee_business_key_state_and_due_date(wf: Harness) -> None:
    first, second = start_review(wf, "child-1"), start_review(wf, "child-2")
    task = open_task(wf, second, "draft")
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with wf() as svc:
        assert {t.business_key for t in svc.tasks(roles=["social_worker"])} == {"child-1", "child-2"}
        assert [t.business_key for t in svc.tasks(assignee="sam")] == ["child-2"]
        assert [t.instance_id for t in svc.tasks(business_key="child-1")] == [first]
        assert svc.tasks(roles=["manager"]) == []
        assert svc.tasks(state="completed") == []
        assert len(svc.tasks(due_before=datetime(2026, 12, 9, tzinfo=UTC))) == 2
        assert svc.tasks(due_before=datetime(2026, 12, 8, tzinfo=UTC)) == []


def test_inbox_shows_claimable_tasks_of_my_roles_and_my_claimed_tasks_but_not_others_claims(wf: Harness) -> None:
    start_review(wf, "child-1")
    second = start_review(wf, "child-2")
    with wf() as svc:
        svc.claim(open_task(wf, second, "draft").id, OTHER_SOCIAL_WORKER)
    with wf() as svc:
        assert [t.business_key for t in svc.inbox(SOCIAL_WORKER).items] == ["child-1"]
        assert sorted(t.business_key for t in svc.inbox(OTHER_SOCIAL_WORKER).items) == ["child-1", "child-2"]
        assert svc.inbox(MANAGER).items == []


def test_a_task_claimed_by_someone_else_cannot_be_claimed_or_completed(wf: Harness) -> None:
    task = open_task(wf, start_review(wf), "draft")
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with pytest.raises(Conflict, match="claimed by someone else"), wf() as svc:
        svc.claim(task.id, OTHER_SOCIAL_WORKER)
    with pytest.raises(Forbidden, match="claimed by sam"), wf() as svc:
        svc.complete(task.id, GOOD_DRAFT, OTHER_SOCIAL_WORKER)


def test_unclaiming_returns_the_task_to_the_role_and_is_audited(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.unclaim(task.id, SOCIAL_WORKER).assignee is None
    with wf() as svc:
        assert [e.action for e in svc.history(instance_id)][-2:] == ["task_claimed", "task_unclaimed"]


def test_a_social_worker_cannot_complete_a_manager_task(wf: Harness) -> None:
    instance_id = start_review(wf)
    with wf() as svc:
        svc.complete(open_task(wf, instance_id, "draft").id, GOOD_DRAFT, SOCIAL_WORKER)
    approve = open_task(wf, instance_id, "approve")
    with pytest.raises(Forbidden, match="manager"), wf() as svc:
        svc.complete(approve.id, {"decision": "approve"}, SOCIAL_WORKER)


def test_bad_data_names_each_field_and_changes_nothing(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    with wf() as svc:
        before = (svc.instance(instance_id).version, len(svc.history(instance_id)))
    with pytest.raises(InvalidData) as error, wf() as svc:
        svc.complete(task.id, {"summary": "x", "meeting_date": "31/02/2026", "attendance_percent": 140}, SOCIAL_WORKER)
    assert set(error.value.errors) == {"summary", "meeting_date", "attendance_percent"}
    with wf() as svc:
        assert svc.task(task.id).state == "open"
        assert (svc.instance(instance_id).version, len(svc.history(instance_id))) == before


def test_completing_moves_the_process_on_and_stores_the_validated_data(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    with wf() as svc:
        done = svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
        assert (done.state, done.completed_by) == ("completed", "sam")
    approve = open_task(wf, instance_id, "approve")
    assert approve.role == "manager"
    with wf() as svc:
        data = svc.instance_data(instance_id)
        assert data["attendance_percent"] == 96
        assert data["drafted_at"] == wf.clock.now().isoformat()  # the script task used the engine clock
        assert svc.waiting_timers(instance_id) == []  # the draft's deadline went with it
    with wf() as svc:
        svc.complete(approve.id, {"decision": "approve"}, MANAGER)
    with wf() as svc:
        row = svc.instance(instance_id)
        assert (row.status, row.ended_at) == ("completed", wf.clock.now())


def test_completing_an_already_completed_task_is_a_conflict_and_adds_nothing(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    with wf() as svc:
        svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        events = len(svc.history(instance_id))
    with pytest.raises(Conflict, match="already completed"), wf() as svc:
        svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        assert len(svc.history(instance_id)) == events


def test_an_unknown_task_is_not_found(wf: Harness) -> None:
    with pytest.raises(NotFound), wf() as svc:
        svc.complete("00000000-0000-0000-0000-000000000000", {}, SOCIAL_WORKER)


def test_every_change_is_audited_with_who_when_and_the_data(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
        svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        history = svc.history(instance_id)
    assert [(e.action, e.actor) for e in history] == [
        ("instance_started", "sam"), ("task_claimed", "sam"), ("task_completed", "sam"),
    ]
    assert history[2].data == GOOD_DRAFT
    assert history[2].element_id == "draft" and history[2].at == wf.clock.now()


def test_failed_completion_leaves_no_trace_in_any_table(wf: Harness) -> None:
    instance_id = start_review(wf)
    task = open_task(wf, instance_id, "draft")

    def counts() -> tuple[int, int, int]:
        with wf() as svc:
            s = svc.session
            return (
                s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
                s.scalar(select(func.count()).select_from(HumanTask)) or 0,
                s.scalar(select(ProcessInstance.version).where(ProcessInstance.id == instance_id)) or 0,
            )

    before = counts()
    with pytest.raises(InvalidData), wf() as svc:
        svc.complete(task.id, {}, SOCIAL_WORKER)
    assert counts() == before


def test_the_database_refuses_to_change_or_delete_audit_events(wf: Harness) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    start_review(wf)
    for statement in (update(AuditEvent).values(actor="someone else"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"), wf() as svc:
            svc.session.execute(statement)
    with wf() as svc:
        assert [e.actor for e in svc.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == ["system", "sam"]
