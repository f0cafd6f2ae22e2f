"""Escalations: a first-class record of a deadline that passed and who must act on it.

An escalation is raised when a process opens one of its manager escalation tasks, and
resolved when its cause is resolved: the overdue step is done, or the process ends.
``since`` is when the timer that opened the task was due, however late the scheduler
ran. The table is indexed for the managers' dashboard; how many working or school days
overdue is worked out from the deadline's last day with the authority's calendar when
the dashboard is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from string import Formatter
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.calendar import BusinessCalendar, due_by_day
from engine.models import Base
from engine.paging import PAGE_SIZE, Page, fetch_page


@dataclass(frozen=True)
class Rule:
    """Which escalation a manager task raises, and which steps (BPMN element ids) resolve it.

    Each process's rules are in its glue module (:mod:`casework.processes`).
    """

    kind: str
    label: str
    resolved_by: frozenset[str]
    reason: str
    detailed_reason: str = ""
    """The reason naming facts from the escalation's detail (``{field}``), given when the detail has them all."""

    def reason_for(self, detail: Mapping[str, Any]) -> str:
        wanted = {name for _, name, _, _ in Formatter().parse(self.detailed_reason) if name}
        if self.detailed_reason and wanted <= detail.keys():
            return self.detailed_reason.format_map(detail)
        return self.reason


class Escalation(Base):
    __tablename__ = "escalation"
    __table_args__ = (
        Index("ix_escalation_open", "state", "la_code", "since"),
        Index("ix_escalation_instance", "instance_id", "state"),
        Index("ix_escalation_state_since", "state", "since", "id"),
        Index("ix_escalation_state_resolved", "state", "resolved_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    child_ref: Mapped[str] = mapped_column(String(100), index=True)
    la_code: Mapped[str | None] = mapped_column(String(10))
    since: Mapped[datetime]
    owner_role: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))  # open | resolved
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    process_id: Mapped[str] = mapped_column(String(100))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[str | None] = mapped_column(String(64))
    raised_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str | None] = mapped_column(String(200))
    """What the manager decided on the escalation task (the choice's wording), if the task asks."""
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        from .processes import KINDS  # the kinds are the processes' own (their glue modules)

        return KINDS.get(self.kind, self.kind)

    @property
    def details(self) -> dict[str, Any]:
        return dict(json.loads(self.detail or "{}"))


@dataclass(frozen=True)
class Overdue:
    escalation: Escalation
    working_days: int
    school_days: int | None


COUNT_UP_TO = 1000


class Escalations:
    """Raise, resolve and list escalations; flushes, never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def raise_for(self, *, rule: Rule, child_ref: str, la_code: str | None, since: datetime, raised_at: datetime,
                  process_id: str, instance_id: int, task_id: str | None, detail: dict[str, Any]) -> Escalation:
        """``since``: when the deadline passed; ``raised_at``: when the step that noticed it ran."""
        row = Escalation(kind=rule.kind, child_ref=child_ref, la_code=la_code, since=since, owner_role="manager",
                         owner=None, state="open", reason=rule.reason_for(detail), detail=json.dumps(detail, sort_keys=True),
                         process_id=process_id, instance_id=instance_id, task_id=task_id, raised_at=raised_at,
                         resolved_at=None, resolved_by=None)
        self.session.add(row)
        self.session.flush()
        return row

    def resolve(self, rows: list[Escalation], at: datetime, by: str) -> int:
        for row in rows:
            row.state, row.resolved_at, row.resolved_by = "resolved", at, by
        self.session.flush()
        return len(rows)

    def record_decision(self, task_id: str, *, decision: str | None, note: str | None, by: str,
                        at: datetime) -> Escalation | None:
        """What the manager decided when completing the escalation task ``task_id`` (None: no such escalation)."""
        row = self.session.scalars(select(Escalation).where(Escalation.task_id == task_id)).first()
        if row is not None:
            row.decision, row.decision_note = (decision or None), (note or None)
            row.decided_by, row.decided_at = by, at
            self.session.flush()
        return row

    def open_for_instance(self, instance_id: int) -> list[Escalation]:
        query = select(Escalation).where(Escalation.instance_id == instance_id, Escalation.state == "open")
        return list(self.session.scalars(query.order_by(Escalation.id)))

    def open_for_child(self, child_ref: str, kind: str | None = None) -> list[Escalation]:
        query = select(Escalation).where(Escalation.child_ref == child_ref, Escalation.state == "open")
        if kind is not None:
            query = query.where(Escalation.kind == kind)
        return list(self.session.scalars(query.order_by(Escalation.since)))

    def _listed(self, visible: ColumnElement[bool], kind: str | None, state: str) -> Select[Escalation]:
        query = select(Escalation).where(Escalation.state == state, visible)
        return query if kind is None else query.where(Escalation.kind == kind)

    def dashboard(self, at: datetime, calendar: BusinessCalendar, visible: ColumnElement[bool],
                  kind: str | None = None, state: str = "open", page: int = 1,
                  per_page: int = PAGE_SIZE) -> Page[Overdue]:
        """One page of the escalations ``visible`` admits (the reader's access scope, joined in
        SQL), longest overdue first (``state="resolved"``: the most recently resolved first), with
        working and school days overdue as of ``at``."""
        query = self._listed(visible, kind, state)
        if state == "resolved":  # the most recently resolved first
            query = query.order_by(Escalation.resolved_at.desc(), Escalation.id.desc())
        else:
            query = query.order_by(Escalation.since, Escalation.id)
        rows = fetch_page(self.session, query, page, per_page)
        # counted from the deadline's last day: a PEP due by Tuesday is 1 working day overdue on Wednesday
        return Page([Overdue(row, calendar.working_days_between(due_by_day(row.since), row.resolved_at or at),
                             _school_days(calendar, due_by_day(row.since), row.resolved_at or at))
                     for row in rows.items],
                    rows.number, rows.size, rows.has_next)

    def count(self, visible: ColumnElement[bool], kind: str | None = None, state: str = "open",
              up_to: int = COUNT_UP_TO) -> int:
        """How many escalations ``visible`` admits, counting no further than ``up_to`` (a dashboard
        says "1,000 or more" rather than read every row of a large authority)."""
        rows = self._listed(visible, kind, state).with_only_columns(Escalation.id).limit(up_to).subquery()
        return int(self.session.scalar(select(func.count()).select_from(rows)) or 0)


def _school_days(calendar: BusinessCalendar, last_day: date, at: datetime) -> int | None:
    try:
        return calendar.school_days_between(last_day, at)
    except ValueError:
        return None
