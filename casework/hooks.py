"""The domain's part in every step (the engine's ``StepHooks``), in the step's own transaction.

- **Facts.** When a form names a school, the school register adds its type and
  whether the council is its admission authority, and whether it permanently
  excluded the child; a direction to such a school is refused at once.
- **Records.** An approved move records the new placement and school and opens a
  new PEP meeting when the school changes; an admission records the school; each
  PEP review step updates its PEP record (``pep_sync``).
- **Other processes.** A manager's decision to start a direction starts
  ``admission_direction``.
- **Escalations and notices.** A manager escalation task raises an escalation
  record and tells the managers; the step that removes the cause resolves it.
  Every other new task tells the people who may do it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.errors import InvalidData
from engine.runtime import Actor, StepEvent
from notifications.deadlines import task_path
from notifications.notifier import Notifier

from .children import ChildService
from .directory import CaseDirectory
from .escalations import RESOLVING_STEPS, RULES, Escalations
from .pep_sync import sync_pep
from .records import Child, note_unrecorded_key

SCHOOL_FIELDS = {
    ("placement_move", "apply_for_school_place"): "school_urn",
    ("admission_direction", "choose_another_school"): "school_urn",
    ("placement_move", "escalate_no_school_place"): "direction_school_urn",
}


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


class CaseworkHooks:
    def __init__(self, directory: CaseDirectory | None = None, base_url: str | None = None) -> None:
        self.directory = directory or CaseDirectory()
        self.base_url = base_url

    # -- facts ----------------------------------------------------------------------------------
    def facts(self, session: Session, task: Any, data: Mapping[str, Any]) -> Mapping[str, Any]:
        field = SCHOOL_FIELDS.get((task.process_id, task.element_id))
        if field is None or not data.get(field) or _child(session, task.business_key) is None:
            return {}
        children = ChildService(session, FrozenClock(task.created_at))
        try:
            facts = children.school_facts(task.business_key, str(data[field]))
        except InvalidData:
            raise InvalidData({field: [f"No school with URN {data[field]} is in the schools register"]}) from None
        directing = field == "direction_school_urn" or task.process_id == "admission_direction"
        if directing and facts["permanently_excluded_from_school"]:
            raise InvalidData({field: [f"{facts['school_name']} permanently excluded this child, so the child "
                                       "cannot be directed there: choose another school"]})
        if field == "direction_school_urn":
            return {}  # the direction starts with the facts; the move keeps the school it applied to
        return facts

    # -- after each step ------------------------------------------------------------------------
    def after_step(self, session: Session, event: StepEvent) -> None:
        child = _child(session, event.instance.business_key)
        if child is None:  # not a child's case (tests, generic processes): no records to keep
            note_unrecorded_key(session, event.instance.business_key, event.at)  # but reachable by role
            return
        process_id = event.instance.process_id
        if process_id == "placement_move":
            self._placement_move(session, event)
        elif process_id == "admission_direction":
            self._direction(session, event)
        elif process_id == "pep_review":
            sync_pep(session, event)
        self._escalations(session, event, child)
        self._notify_new_tasks(session, event)

    def _placement_move(self, session: Session, event: StepEvent) -> None:
        from .lifecycle import Casework

        ref, actor = event.instance.business_key, event.actor
        escalated = event.data_at("escalate_no_school_place")
        if escalated is not None and escalated.get("decision") == "start_direction":
            Casework(session, FrozenClock(event.at), event.runtime).start_direction(
                ref, str(escalated["direction_school_urn"]), Actor(actor))
        approved = event.data_at("move_approved")
        if approved is None:
            return
        children = ChildService(session, FrozenClock(event.at))
        children.record_placement(
            ref, actor, placement_type=approved["placement_type"], carer_name=approved.get("carer_name", ""),
            starts_on=_day(approved["placement_start_date"]), distance=approved["distance"],
            area_authority=approved.get("area_authority") or None)
        if approved.get("school_changed") and approved.get("school_urn"):
            children.change_school(ref, str(approved["school_urn"]), actor)
            changed_on = _day(approved.get("start_date") or approved["planned_move_date"])
            Casework(session, FrozenClock(event.at), event.runtime).open_school_change_pep(ref, changed_on)

    def _direction(self, session: Session, event: StepEvent) -> None:
        admitted = event.data_at("child_admitted")
        if admitted is not None:
            ref = event.instance.business_key
            ChildService(session, FrozenClock(event.at)).change_school(ref, str(admitted["school_urn"]), event.actor)
            resolved = Escalations(session).open_for_child(ref, "no_school_place")
            Escalations(session).resolve(resolved, event.at, event.actor)

    def _escalations(self, session: Session, event: StepEvent, child: Child) -> None:
        escalations = Escalations(session)
        instance = event.instance
        reached = set(event.reached_ids())
        if event.status != "running":
            escalations.resolve(escalations.open_for_instance(instance.id), event.at, event.actor)
        elif reached & RESOLVING_STEPS.get(instance.process_id, frozenset()):  # most steps resolve nothing
            done = [row for row in escalations.open_for_instance(instance.id)
                    if RULES[(row.process_id, _task_element(row))].resolved_by & reached
                    and _same_item(row.details, event)]
            escalations.resolve(done, event.at, event.actor)
        for task in event.opened_tasks:
            rule = RULES.get((instance.process_id, task["element_id"]))
            if rule is None:
                continue
            item = _item_of(event, task)
            row = escalations.raise_for(
                rule=rule, child_ref=instance.business_key, la_code=child.la_code,
                since=event.deadlines.get(task["id"], event.at), raised_at=event.at, process_id=instance.process_id,
                instance_id=instance.id, task_id=task["id"],
                detail={"element_id": task["element_id"], "title": task["title"], **item})
            self._notifier(session, event).notify(
                "escalation_raised", self._context(session, task, reason=row.reason), to_role="manager",
                business_key=instance.business_key, dedupe_key=f"escalation_raised:{task['id']}")

    def _notify_new_tasks(self, session: Session, event: StepEvent) -> None:
        notifier = self._notifier(session, event)
        assured = event.data_at("quality_assure_pep") or {}
        for task in event.opened_tasks:
            if (event.instance.process_id, task["element_id"]) in RULES or task["role"] is None:
                continue
            context = self._context(session, task)
            name = "task_assigned"
            if task["element_id"].startswith("complete_pep_") and assured.get("rag") == "red":
                name = "pep_returned"
                context.update(returned_by="The virtual school head", reason=str(assured.get("return_reason", "")))
            elif event.instance.process_id == "admission_direction" and task["due_at"] is not None:
                name = "direction_deadline"
                context = {"child_ref": context["child_ref"], "child_name": context["child_name"],
                           "school_name": _latest(event, "school_name") or "the school",
                           "step": task["title"], "deadline": task["due_at"], "path": context["path"]}
            notifier.notify(name, context, to_role=task["role"], business_key=event.instance.business_key,
                            dedupe_key=f"{name}:{task['id']}")

    # -- helpers --------------------------------------------------------------------------------
    def _notifier(self, session: Session, event: StepEvent) -> Notifier:
        return Notifier(session, FrozenClock(event.at), self.directory, base_url=self.base_url)

    def _context(self, session: Session, task: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        key = str(task["business_key"])
        return {"child_ref": key, "child_name": self.directory.child_name(session, key) or key,
                "task_title": task["title"], "due_at": task["due_at"], "path": task_path(str(task["id"])), **extra}


def _child(session: Session, ref: str) -> Child | None:
    return session.scalars(select(Child).where(Child.ref == ref)).one_or_none()


def _task_element(row: Any) -> str:
    return str(row.details.get("element_id"))


def _item_of(event: StepEvent, task: Mapping[str, Any]) -> dict[str, Any]:
    """For an overdue action: which action (the multi-instance item the timer belonged to)."""
    if task["element_id"] != "escalate_overdue_action":
        return {}
    data = event.data_at("action_overdue") or {}
    action = data.get("action")
    return {"action": dict(action)} if isinstance(action, Mapping) else {}


def _same_item(details: Mapping[str, Any], event: StepEvent) -> bool:
    if "action" not in details:
        return True
    done = event.data_at("confirm_action_done") or {}
    return bool(done.get("action") == details["action"])


def _latest(event: StepEvent, key: str) -> Any:
    for reached in reversed(event.reached):
        if key in reached.data:
            return reached.data[key]
    return None
