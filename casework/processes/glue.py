"""What every process's glue module provides, and the parts they share.

A process's glue (one module per BPMN file: ``placement_move``, ``admission_direction``,
``pep_review``) names its elements once, in a ``Step`` enum, and owns:

- its **start data** (a function building the data the process starts with);
- its **facts**: which form fields name a school, so the register adds the school's
  facts server-side (:class:`SchoolField`);
- its **after-step handling**: the records a step keeps (``after_step``);
- its **escalation rules**: which manager task raises which escalation, which steps
  resolve it (``escalations``), and for a per-item escalation which item it is;
- which **notice** tells people of a new task, when it is not the plain "task assigned".

:mod:`casework.hooks` dispatches every step to the glue of its process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.contracts import JsonData, OpenedTask, StepEvent, TaskRef
from engine.errors import InvalidData

from ..children import ChildService
from ..escalations import Rule
from ..records import Child


@dataclass(frozen=True)
class SchoolField:
    """A form field naming a school by URN.

    ``directing``: the school may be directed to admit the child, so a school that
    permanently excluded the child is refused at once. ``adds_facts``: the school's
    facts (type, admission authority, exclusion) are added to the task data.
    """

    field: str
    directing: bool = False
    adds_facts: bool = True


@dataclass(frozen=True)
class Notice:
    """Which notice tells people of a new task, with what context."""

    name: str
    context: dict[str, Any]


class ProcessGlue:
    """The domain's side of one process. Subclasses set the class attributes and override what they need."""

    process_id: ClassVar[str]
    steps: ClassVar[type[StrEnum]]
    school_fields: ClassVar[Mapping[str, SchoolField]] = {}
    escalations: ClassVar[Mapping[str, Rule]] = {}
    """Manager escalation task (element id) -> the escalation it raises."""

    @property
    def resolving_steps(self) -> frozenset[str]:
        """Every step that can resolve one of this process's escalations (other steps need no query)."""
        return frozenset(step for rule in self.escalations.values() for step in rule.resolved_by)

    # -- facts ----------------------------------------------------------------------------------
    def facts(self, session: Session, task: TaskRef, data: JsonData) -> JsonData:
        school = self.school_fields.get(task.element_id)
        if school is None or not data.get(school.field) or child_of(session, task.business_key) is None:
            return {}
        urn = str(data[school.field])
        children = ChildService(session, FrozenClock(task.created_at))
        try:
            facts = children.school_facts(task.business_key, urn)
        except InvalidData:
            raise InvalidData({school.field: [f"No school with URN {urn} is in the schools register"]}) from None
        if school.directing and facts["permanently_excluded_from_school"]:
            raise InvalidData({school.field: [f"{facts['school_name']} permanently excluded this child, so the "
                                              "child cannot be directed there: choose another school"]})
        return facts if school.adds_facts else {}

    # -- after each step ------------------------------------------------------------------------
    def after_step(self, session: Session, event: StepEvent) -> None:
        """Keep the records this step settles (the step's own transaction)."""

    # -- escalations ----------------------------------------------------------------------------
    def escalation_item(self, event: StepEvent, task: OpenedTask) -> dict[str, Any]:
        """For an escalation about one item of many (an overdue PEP action): which item."""
        return {}

    def resolves_item(self, details: Mapping[str, Any], event: StepEvent) -> bool:
        """Whether this step resolved the item an open escalation is about."""
        return True

    # -- notices --------------------------------------------------------------------------------
    def notice(self, event: StepEvent, task: OpenedTask, context: dict[str, Any]) -> Notice:
        return Notice("task_assigned", context)


def child_of(session: Session, ref: str) -> Child | None:
    return session.scalars(select(Child).where(Child.ref == ref)).one_or_none()


def day_of(value: Any) -> date:
    """A date from ISO text (a date, or the date part of a date-time)."""
    return date.fromisoformat(str(value)[:10])
