"""What the engine hands the layer above it during a step: typed, with no ``Any`` at the boundary.

The layer above (the domain) takes part in every step through :class:`StepHooks`:
``facts`` before a human task runs, ``after_step`` once the step's write has
succeeded, in the same transaction (docs/architecture.md, "The step's transaction").
Everything it receives is one of the frozen dataclasses below; task data stays a
mapping of JSON values, because its shape is each process's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from .models import HumanTask, ProcessInstance
    from .runtime import Runtime

JsonData = Mapping[str, Any]
"""Task data: JSON values (text, numbers, booleans, lists, objects) keyed by name."""


@dataclass(frozen=True)
class Reached:
    """A BPMN element completed during a step (a user task, script, gateway, timer, end event)."""

    element_id: str
    name: str
    data: JsonData


@dataclass(frozen=True)
class TaskRef:
    """The human task whose form is being submitted (what ``facts`` is asked about)."""

    id: str
    instance_id: int
    process_id: str
    business_key: str
    element_id: str
    title: str
    created_at: datetime

    @classmethod
    def of(cls, row: HumanTask) -> TaskRef:
        return cls(row.id, row.instance_id, row.process_id, row.business_key, row.element_id, row.title,
                   row.created_at)


@dataclass(frozen=True)
class OpenedTask:
    """A human task this step opened (now in the ``human_task`` table)."""

    id: str
    instance_id: int
    process_id: str
    business_key: str
    element_id: str
    title: str
    role: str | None
    due_at: datetime | None
    created_at: datetime
    assignee: str | None = None
    """Who the task opened assigned to (the process data's ``task_assignees``), or None: anyone in its role."""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> OpenedTask:
        """From the row values the step wrote."""
        return cls(str(values["id"]), int(values["instance_id"]), str(values["process_id"]),
                   str(values["business_key"]), str(values["element_id"]), str(values["title"]),
                   values["role"], values["due_at"], values["created_at"], values.get("assignee"))


@dataclass(frozen=True)
class ClosedTask:
    """A human task this step closed: ``completed`` by someone, or ``cancelled`` by the process."""

    id: str
    state: str
    done_by: str | None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ClosedTask:
        return cls(str(values["id"]), str(values["state"]), values["done_by"])


@dataclass(frozen=True)
class StepEvent:
    """What one committed-to-be step did, handed to :class:`StepHooks` in the step's transaction."""

    at: datetime
    actor: str
    instance: ProcessInstance
    runtime: Runtime
    reached: tuple[Reached, ...]
    opened_tasks: tuple[OpenedTask, ...]
    closed_tasks: tuple[ClosedTask, ...]
    status: str
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    """Opened task id -> when the deadline that opened it passed: the due time of the timer
    that fired just before it (an escalation is overdue since then, not since the pump ran)."""

    def reached_ids(self) -> list[str]:
        return [r.element_id for r in self.reached]

    def data_at(self, element_id: str) -> JsonData | None:
        """The task data as it stood when ``element_id`` completed in this step, if it did."""
        for reached in reversed(self.reached):
            if reached.element_id == element_id:
                return reached.data
        return None

    def latest(self, key: str) -> Any:
        """The newest value of ``key`` in the data of the elements this step completed."""
        for reached in reversed(self.reached):
            if key in reached.data:
                return reached.data[key]
        return None


class StepHooks(Protocol):
    """How the layer above the engine takes part in a step, inside its transaction.

    ``facts`` runs after a human task's form data is validated and before the task
    runs: it may add server-side facts to the task data (looked up from records,
    never typed by the user) or refuse the data with ``InvalidData``.
    ``after_step`` runs once the step's write has succeeded, in the same
    transaction: it may write records, start other processes, queue notices.
    Anything it raises rolls the whole step back.
    """

    def facts(self, session: Session, task: TaskRef, data: JsonData) -> JsonData: ...

    def after_step(self, session: Session, event: StepEvent) -> None: ...


class NoHooks:
    def facts(self, session: Session, task: TaskRef, data: JsonData) -> JsonData:
        return {}

    def after_step(self, session: Session, event: StepEvent) -> None:
        return None
