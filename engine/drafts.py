"""Drafts of task forms: what someone typed into a task's form and saved without completing it.

One draft per task (``task_draft``): the raw form fields as they were posted (text, bounded), who saved
it and when. Saving a draft checks what completing checks (the actor may act on the task's role for its
key, the task is open, and it is not held by someone else), claims an unassigned task for the actor
(through :meth:`WorkflowService.claim`, so the same rules and audit apply) and is audited as
``draft_saved`` without the answers. A draft never validates or completes anything. It is shown only to
its author and to the task's current assignee (:meth:`Drafts.for_reader`), and it is deleted when the
task is completed (:meth:`Drafts.discard`). docs/security.md, "Drafts".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from .errors import Conflict, EngineError, Forbidden, InvalidData
from .models import Base, HumanTask
from .runtime import Actor

if TYPE_CHECKING:
    from .service import WorkflowService

MAX_DRAFT_CHARACTERS = 100_000
"""The most characters a draft may hold, names and values together (the longest form takes about 37,000)."""
MAX_DRAFT_FIELDS = 1_000


class DraftTooLarge(EngineError):
    """A draft over :data:`MAX_DRAFT_CHARACTERS`: nothing was saved."""

    status = 413


class TaskDraft(Base):
    """What was typed into one task's form and saved as a draft (the raw posted fields)."""

    __tablename__ = "task_draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    saved_by: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]


class Drafts:
    """Drafts on the session of ``service``; flushes, never commits."""

    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.session = service.session

    def save(self, task_id: str, fields: Mapping[str, str], actor: Actor) -> TaskDraft:
        """Keep ``fields`` as the task's draft (replacing any earlier one), checked as completing is."""
        data = _bounded(fields)
        task = self.service.task(task_id)
        self._check_may_complete(task, actor)
        if task.assignee is None:  # saving a draft takes the task, by the same rules as "Assign to me"
            task = self.service.claim(task_id, actor)
        now = self.service.clock.now()
        draft = self.session.get(TaskDraft, task_id)
        if draft is None:
            draft = TaskDraft(task_id=task_id, saved_by=actor.user_id, data=data, saved_at=now)
            self.session.add(draft)
        else:
            draft.saved_by, draft.data, draft.saved_at = actor.user_id, data, now
        self.session.flush()
        self.service.audit.record(now, actor.user_id, "draft_saved", task, task_id=task_id,
                                  element_id=task.element_id)  # that a draft was saved; never what it says
        return draft

    def for_reader(self, task: HumanTask, actor: Actor) -> TaskDraft | None:
        """The task's draft if ``actor`` may see it: the task is open and they wrote it or now hold the task."""
        if task.state != "open":
            return None
        draft: TaskDraft | None = self.session.get(TaskDraft, task.id, populate_existing=True)
        if draft is None or actor.user_id not in (draft.saved_by, task.assignee):
            return None
        return draft

    def discard(self, task: HumanTask) -> None:
        """Delete the task's draft, and the drafts of its instance's other tasks that are no longer open."""
        closed = select(HumanTask.id).where(HumanTask.instance_id == task.instance_id, HumanTask.state != "open")
        self.session.execute(delete(TaskDraft).where(TaskDraft.task_id == task.id)
                             .execution_options(synchronize_session=False))
        self.session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(closed))
                             .execution_options(synchronize_session=False))
        self.session.flush()

    def _check_may_complete(self, task: HumanTask, actor: Actor) -> None:
        """What :meth:`WorkflowService.complete` checks before it runs a task."""
        if not self.service.runtime.access.may_act(self.session, actor, task.role, task.business_key):
            raise Forbidden(f"You may not act on '{task.title}': it is for the {task.role} role")
        if task.state != "open":
            raise Conflict(f"Task '{task.title}' is already {task.state}")
        if task.assignee is not None and task.assignee != actor.user_id:
            raise Forbidden(f"Task '{task.title}' is claimed by {task.assignee}")


def _bounded(fields: Mapping[str, str]) -> dict[str, str]:
    """The fields as plain text, refused (nothing saved) when there are too many or they are too long."""
    data = {str(name): str(value) for name, value in fields.items()}
    if len(data) > MAX_DRAFT_FIELDS:
        raise InvalidData({"draft": [f"A draft can have at most {MAX_DRAFT_FIELDS:,} fields"]})
    size = sum(len(name) + len(value) for name, value in data.items())
    if size > MAX_DRAFT_CHARACTERS:
        raise DraftTooLarge(f"Your draft is too long to save ({size:,} characters; a draft can have at most "
                            f"{MAX_DRAFT_CHARACTERS:,}): nothing was saved. Shorten the longest answers and "
                            "try again.")
    return data
