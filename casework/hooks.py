"""The domain's part in every step (the engine's ``StepHooks``): a dispatcher to each process's glue.

Runs in the step's own transaction (docs/architecture.md, "The step's transaction").

- **Facts** and **records**: the glue of the step's process (:mod:`casework.processes`).
- **Escalations**: a manager escalation task named in the glue's rules raises an
  escalation record and tells the managers; a step the rule names resolves it, and
  so does the end of the process.
- **Notices**: every other new task tells the people who may do it (the glue picks
  which notice).
- A business key with no child record (tests, generic processes) keeps no records,
  but is noted so the people whose role may act on it can reach it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.contracts import JsonData, OpenedTask, StepEvent, TaskRef
from notifications.deadlines import task_path
from notifications.notifier import Notifier

from .directory import CaseDirectory
from .escalations import Escalations
from .processes import GLUES
from .processes.glue import ProcessGlue, child_of
from .records import Child, note_unrecorded_key

GENERIC = ProcessGlue()
"""A process with no glue of its own on a child's key: no records or escalations, plain notices."""


class CaseworkHooks:
    def __init__(self, directory: CaseDirectory | None = None, base_url: str | None = None) -> None:
        self.directory = directory or CaseDirectory()
        self.base_url = base_url

    def facts(self, session: Session, task: TaskRef, data: JsonData) -> JsonData:
        glue = GLUES.get(task.process_id)
        return glue.facts(session, task, data) if glue is not None else {}

    def after_step(self, session: Session, event: StepEvent) -> None:
        child = child_of(session, event.instance.business_key)
        if child is None:  # not a child's case (tests, generic processes): no records to keep
            note_unrecorded_key(session, event.instance.business_key, event.at)  # but reachable by role
            return
        glue = GLUES.get(event.instance.process_id, GENERIC)
        glue.after_step(session, event)
        self._escalations(session, event, child, glue)
        self._notify_new_tasks(session, event, glue)

    def _escalations(self, session: Session, event: StepEvent, child: Child, glue: ProcessGlue) -> None:
        escalations = Escalations(session)
        instance = event.instance
        reached = set(event.reached_ids())
        if event.status != "running":
            escalations.resolve(escalations.open_for_instance(instance.id), event.at, event.actor)
        elif reached & glue.resolving_steps:  # most steps resolve nothing
            done = [row for row in escalations.open_for_instance(instance.id)
                    if (rule := glue.escalations.get(str(row.details.get("element_id")))) is not None
                    and rule.resolved_by & reached and glue.resolves_item(row.details, event)]
            escalations.resolve(done, event.at, event.actor)
        for task in event.opened_tasks:
            rule = glue.escalations.get(task.element_id)
            if rule is None:
                continue
            row = escalations.raise_for(
                rule=rule, child_ref=instance.business_key, la_code=child.la_code,
                since=event.deadlines.get(task.id, event.at), raised_at=event.at, process_id=instance.process_id,
                instance_id=instance.id, task_id=task.id,
                detail={"element_id": task.element_id, "title": task.title, **glue.escalation_item(event, task)})
            self._notifier(session, event).notify(
                "escalation_raised", self._context(session, task, reason=row.reason), to_role="manager",
                business_key=instance.business_key, dedupe_key=f"escalation_raised:{task.id}")

    def _notify_new_tasks(self, session: Session, event: StepEvent, glue: ProcessGlue) -> None:
        notifier = self._notifier(session, event)
        for task in event.opened_tasks:
            if task.element_id in glue.escalations or task.role is None:
                continue
            notice = glue.notice(event, task, self._context(session, task))
            # a task opened assigned to someone (e.g. a PEP action's follow-up for its owner) is theirs alone
            whom: dict[str, Any] = ({"to_usernames": (task.assignee,)} if task.assignee
                                    else {"to_role": task.role, "business_key": event.instance.business_key})
            notifier.notify(notice.name, notice.context, dedupe_key=f"{notice.name}:{task.id}", **whom)

    def _notifier(self, session: Session, event: StepEvent) -> Notifier:
        return Notifier(session, FrozenClock(event.at), self.directory, base_url=self.base_url)

    def _context(self, session: Session, task: OpenedTask, **extra: Any) -> dict[str, Any]:
        key = task.business_key
        return {"child_ref": key, "child_name": self.directory.child_name(session, key) or key,
                "task_title": task.title, "due_at": task.due_at, "path": task_path(task.id), **extra}
