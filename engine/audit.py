"""The append-only audit trail, written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, insert, or_, select
from sqlalchemy.orm import Session

from .models import AuditEvent, HumanTask, ProcessInstance
from .paging import Page, fetch_page


@dataclass(frozen=True)
class Entries:
    """Which of an instance's audit entries a reader is shown, decided in SQL before a page is cut: those
    about one of ``elements`` (a task claimed or completed, a timer fired) and, with ``instance_entries``,
    those about no element (the instance's own: started with its data, a message received, cancelled)."""

    elements: frozenset[str] = frozenset()
    instance_entries: bool = False

    def condition(self) -> ColumnElement[bool]:
        about = AuditEvent.element_id.in_(sorted(self.elements)) if self.elements else false()
        return or_(about, AuditEvent.element_id.is_(None)) if self.instance_entries else about


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        at: datetime,
        actor: str,
        action: str,
        instance: ProcessInstance | HumanTask | None = None,
        *,
        task_id: str | None = None,
        element_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.write([entry(at, actor, action, instance, task_id=task_id, element_id=element_id, data=data)])

    def write(self, entries: list[dict[str, Any]]) -> None:
        """Insert prepared entries (see :func:`entry`) in one statement."""
        if entries:
            self.session.execute(insert(AuditEvent), entries)

    def for_instance(self, instance_id: int) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.id)
        return list(self.session.scalars(query))

    def page_for_instance(self, instance_id: int, page: int, per_page: int,
                          only: Entries | None = None) -> Page[AuditEvent]:
        """One page of an instance's history (``only`` the entries given, if any), oldest first
        (``ix_audit_instance``)."""
        query = select(AuditEvent).where(AuditEvent.instance_id == instance_id)
        if only is not None:
            query = query.where(only.condition())
        return fetch_page(self.session, query.order_by(AuditEvent.id), page, per_page)

    def answers(self, instance_id: int, only: Entries | None = None) -> dict[str, Any]:
        """Everything given to an instance so far (``only`` from the entries given, if any), from its
        audit: the start data, then each completed task's submitted answers in order (later answers
        replace earlier ones; server-side facts are left out). No workflow is loaded."""
        query = (select(AuditEvent.action, AuditEvent.data)
                 .where(AuditEvent.instance_id == instance_id,
                        AuditEvent.action.in_(["instance_started", "task_completed"]))
                 .order_by(AuditEvent.id))
        if only is not None:
            query = query.where(only.condition())
        merged: dict[str, Any] = {}
        for action, data in self.session.execute(query):
            if not isinstance(data, dict):
                continue
            given = data.get("data") if action == "instance_started" else data
            if isinstance(given, dict):
                merged.update({k: v for k, v in given.items() if k != "facts"})
        return merged

    def last_completion(self, instance_id: int, element_id: str) -> AuditEvent | None:
        """The latest completion of a user task element in an instance (``ix_audit_instance``)."""
        query = (select(AuditEvent)
                 .where(AuditEvent.instance_id == instance_id, AuditEvent.action == "task_completed",
                        AuditEvent.element_id == element_id)
                 .order_by(AuditEvent.id.desc()).limit(1))
        return self.session.scalars(query).first()


def entry(
    at: datetime,
    actor: str,
    action: str,
    instance: ProcessInstance | HumanTask | None = None,
    *,
    task_id: str | None = None,
    element_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit row, not yet written. ``instance`` may be the instance or one of its tasks."""
    instance_id = instance.instance_id if isinstance(instance, HumanTask) else getattr(instance, "id", None)
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "instance_id": instance_id,
        "process_id": instance.process_id if instance is not None else None,
        "business_key": instance.business_key if instance is not None else None,
        "task_id": task_id,
        "element_id": element_id,
        "data": data,
    }
