"""Drafts of task forms: saved as typed, checked as completing is, shown to their author and the assignee only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.drafts import MAX_DRAFT_CHARACTERS, Drafts, DraftTooLarge, TaskDraft
from engine.errors import Conflict, Forbidden, InvalidData
from engine.models import AuditEvent, HumanTask
from tests.engine.conftest import MANAGER, OTHER_SOCIAL_WORKER, SOCIAL_WORKER, Harness
from tests.engine.test_service import GOOD_DRAFT, open_task, start_review

TYPED = {"summary": "Settled well, half", "meeting_date-day": "3", "attendance_percent": "ninety"}


def _draft_task(wf: Harness) -> HumanTask:
    return open_task(wf, start_review(wf), "draft")


def _audit(wf: Harness, action: str) -> list[AuditEvent]:
    with wf() as svc:
        return list(svc.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_draft_keeps_what_was_typed_even_invalid_and_completes_nothing(wf: Harness) -> None:
    task = _draft_task(wf)
    with wf() as svc:
        draft = Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
        assert draft.saved_at == wf.clock.now() and draft.saved_by == "sam"
    with wf() as svc:
        stored = svc.session.get(TaskDraft, task.id)
        assert stored is not None and stored.data == TYPED
        row = svc.task(task.id)
        assert row.state == "open"
    assert _audit(wf, "task_completed") == []


def test_saving_a_draft_on_an_unassigned_task_assigns_it_to_you_with_the_claims_audit(wf: Harness) -> None:
    task = _draft_task(wf)
    assert task.assignee is None
    with wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.task(task.id).assignee == "sam"
    assert [e.actor for e in _audit(wf, "task_claimed")] == ["sam"]


def test_the_audit_says_a_draft_was_saved_and_never_what_it_says(wf: Harness) -> None:
    task = _draft_task(wf)
    with wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    [saved] = _audit(wf, "draft_saved")
    assert (saved.actor, saved.task_id, saved.element_id, saved.data) == ("sam", task.id, "draft", None)
    with wf() as svc:
        assert "Settled well" not in str(svc.answers(task.instance_id))


def test_saving_again_replaces_the_draft_and_keeps_one_row(wf: Harness) -> None:
    task = _draft_task(wf)
    with wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    wf.clock.advance(timedelta(minutes=5))
    with wf() as svc:
        Drafts(svc).save(task.id, {"summary": "Second go"}, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.session.scalar(select(func.count()).select_from(TaskDraft)) == 1
        stored = svc.session.get(TaskDraft, task.id)
        assert stored is not None and stored.data == {"summary": "Second go"}
        assert stored.saved_at == wf.clock.now()


def test_only_someone_who_may_complete_the_task_may_save_a_draft(wf: Harness) -> None:
    task = _draft_task(wf)
    with pytest.raises(Forbidden, match="social_worker"), wf() as svc:
        Drafts(svc).save(task.id, TYPED, MANAGER)
    with wf() as svc:
        svc.claim(task.id, SOCIAL_WORKER)
    with pytest.raises(Forbidden, match="claimed by sam"), wf() as svc:
        Drafts(svc).save(task.id, TYPED, OTHER_SOCIAL_WORKER)
    with wf() as svc:
        svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
    with pytest.raises(Conflict, match="already completed"), wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.session.scalar(select(func.count()).select_from(TaskDraft)) == 0
    assert _audit(wf, "draft_saved") == []


def test_an_oversized_draft_is_413_with_a_clear_message_and_nothing_is_saved(wf: Harness) -> None:
    task = _draft_task(wf)
    with pytest.raises(DraftTooLarge, match="too long to save") as error, wf() as svc:
        Drafts(svc).save(task.id, {"summary": "x" * MAX_DRAFT_CHARACTERS}, SOCIAL_WORKER)
    assert error.value.status == 413
    with pytest.raises(InvalidData), wf() as svc:
        Drafts(svc).save(task.id, {f"f{n}": "" for n in range(1001)}, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.session.get(TaskDraft, task.id) is None
        assert svc.task(task.id).assignee is None  # refused before the task was taken


def test_the_draft_is_shown_to_its_author_and_the_current_assignee_only(wf: Harness) -> None:
    task = _draft_task(wf)
    with wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    with wf() as svc:
        row = svc.task(task.id)
        assert Drafts(svc).for_reader(row, SOCIAL_WORKER) is not None
        assert Drafts(svc).for_reader(row, OTHER_SOCIAL_WORKER) is None  # may see the task, not the draft
        svc.unclaim(task.id, SOCIAL_WORKER)
    with wf() as svc:
        svc.claim(task.id, OTHER_SOCIAL_WORKER)  # reassigned: the draft goes with the task
    with wf() as svc:
        row = svc.task(task.id)
        draft = Drafts(svc).for_reader(row, OTHER_SOCIAL_WORKER)
        assert draft is not None and draft.saved_by == "sam"
        assert Drafts(svc).for_reader(row, SOCIAL_WORKER) is not None  # still its author's
        assert Drafts(svc).for_reader(row, MANAGER) is None


def test_discarding_on_completion_deletes_the_draft_and_a_completed_tasks_draft_is_never_shown(
    wf: Harness,
) -> None:
    task = _draft_task(wf)
    with wf() as svc:
        Drafts(svc).save(task.id, TYPED, SOCIAL_WORKER)
    with wf() as svc:
        svc.complete(task.id, GOOD_DRAFT, SOCIAL_WORKER)
        row = svc.task(task.id)
        assert Drafts(svc).for_reader(row, SOCIAL_WORKER) is None  # closed: not shown even before it goes
        Drafts(svc).discard(row)
    with wf() as svc:
        assert svc.session.get(TaskDraft, task.id) is None
