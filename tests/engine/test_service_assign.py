"""Giving a task to someone else (``WorkflowService.assign``): who may, to whom, and a race with a claim."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, RoleAccess
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import AuditEvent, HumanTask
from tests.engine.conftest import MANAGER, OTHER_SOCIAL_WORKER, SOCIAL_WORKER, VSH, Harness
from tests.engine.test_service import open_task, start_review


def _draft(wf: Harness) -> HumanTask:
    return open_task(wf, start_review(wf), "draft")


def _holder(wf: Harness, task_id: str) -> str | None:
    with wf() as svc:
        return svc.task(task_id).assignee


def _assignments(wf: Harness) -> list[tuple[str, Any]]:
    with wf() as svc:
        rows = svc.session.scalars(select(AuditEvent).where(AuditEvent.action == "task_assigned"))
        return [(row.actor, row.data) for row in rows]


def test_a_manager_gives_an_unassigned_task_to_a_holder_of_its_role_and_it_is_audited(wf: Harness) -> None:
    task = _draft(wf)
    with wf() as svc:
        assert svc.assign(task.id, SOCIAL_WORKER, MANAGER).assignee == "sam"
    assert _holder(wf, task.id) == "sam"
    assert _assignments(wf) == [("mo", {"to": "sam", "was": None})]


def test_a_manager_moves_a_claimed_task_from_one_holder_to_another(wf: Harness) -> None:
    task = _draft(wf)
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with wf() as svc:
        svc.assign(task.id, OTHER_SOCIAL_WORKER, MANAGER, seen="sam")
    assert _holder(wf, task.id) == "sid"
    assert _assignments(wf) == [("mo", {"to": "sid", "was": "sam"})]
    with wf() as svc:  # the old holder no longer has it among their own
        assert [t.id for t in svc.tasks(assignee="sam")] == []
        assert [t.id for t in svc.tasks(assignee="sid")] == [task.id]


def test_only_a_manager_may_assign_and_a_refusal_changes_nothing(wf: Harness) -> None:
    task = _draft(wf)
    for actor in (SOCIAL_WORKER, VSH):
        with pytest.raises(Forbidden, match="only a manager"), wf() as svc:
            svc.assign(task.id, OTHER_SOCIAL_WORKER, actor)
    assert _holder(wf, task.id) is None and _assignments(wf) == []


def test_a_person_without_the_tasks_role_cannot_be_given_it_naming_the_assignee(wf: Harness) -> None:
    task = _draft(wf)
    with pytest.raises(InvalidData) as refused, wf() as svc:
        svc.assign(task.id, VSH, MANAGER)
    assert refused.value.errors == {"assignee": ["val may not act on 'Write the draft'"]}
    assert _holder(wf, task.id) is None and _assignments(wf) == []


def test_a_task_that_changed_hands_since_the_manager_looked_is_a_conflict(wf: Harness) -> None:
    task = _draft(wf)
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with pytest.raises(Conflict, match="changed hands since you looked"), wf() as svc:
        svc.assign(task.id, OTHER_SOCIAL_WORKER, MANAGER, seen=None)
    assert _holder(wf, task.id) == "sam" and _assignments(wf) == []


def test_a_claim_that_lands_between_the_check_and_the_write_is_a_conflict_and_the_claim_stands(
        wf: Harness) -> None:
    task = _draft(wf)

    class ClaimMeanwhile(RoleAccess):
        """Lets someone claim the task in their own transaction just as the assignee is checked."""

        def may_act(self, session: Session, actor: Actor, role: str | None, business_key: str) -> bool:
            if actor == OTHER_SOCIAL_WORKER:
                with wf() as other:
                    other.claim(task.id, SOCIAL_WORKER)
            return super().may_act(session, actor, role, business_key)

    wf.runtime.access = ClaimMeanwhile()
    with pytest.raises(Conflict, match="changed hands at the same time"), wf() as svc:
        svc.assign(task.id, OTHER_SOCIAL_WORKER, MANAGER)
    assert _holder(wf, task.id) == "sam" and _assignments(wf) == []


def test_a_task_already_done_cannot_be_assigned(wf: Harness) -> None:
    task = _draft(wf)
    with wf() as svc:
        svc.complete(task.id, {"summary": "Settled well", "meeting_date": "2026-12-03", "attendance_percent": 96},
                     SOCIAL_WORKER)
    with pytest.raises(Conflict, match="already completed"), wf() as svc:
        svc.assign(task.id, OTHER_SOCIAL_WORKER, MANAGER)


def test_assigning_a_task_to_the_person_who_holds_it_changes_and_audits_nothing(wf: Harness) -> None:
    task = _draft(wf)
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.assign(task.id, SOCIAL_WORKER, MANAGER, seen=None).assignee == "sam"
    assert _assignments(wf) == []
