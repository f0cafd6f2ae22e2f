"""A scenario harness for the statutory processes: the real engine, a real database,
the real forms and calendar, and a clock the test moves.

Each call is one unit of work, as in the app. Timers fire through the same pump
the scheduler runs (``fire_due_timers``), so a scenario shows who gets which task
when, after the clock has moved.

Facts the domain records supply at run time (a school's type, whether the LA is
its admission authority, whether it excluded the child) are given here per
scenario through :class:`RecordedFacts`, standing in for the school register;
``tests/casework`` shows the real records supplying them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.schoolyear import SCRIPT_FUNCTIONS
from casework.terms import default_term_calendar
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent, HumanTask, ProcessInstance, TimerRow
from engine.runtime import SYSTEM, Actor, NoHooks, Runtime
from engine.service import WorkflowService
from engine.timer_pump import FireReport, fire_due_timers
from processes import PROCESS_DIR
from processes.forms import FORMS

ROLES = (
    "social_worker", "designated_teacher", "vsh", "manager", "nominated_officer", "dcs",
    "admissions_officer", "sen_officer", "iro",
)
ACTORS: dict[str, Actor] = {role: Actor(f"{role}-1", frozenset({role})) for role in ROLES}


class RecordedFacts(NoHooks):
    """Server-side facts per user task element id, as the domain records would supply them."""

    def __init__(self) -> None:
        self.by_element: dict[str, dict[str, Any]] = {}

    def facts(self, session: Session, task: Any, data: Mapping[str, Any]) -> Mapping[str, Any]:
        return dict(self.by_element.get(task.element_id, {}))


class Scenario:
    """Drive processes the way the app does, moving a frozen clock between steps."""

    def __init__(self, factory: sessionmaker[Session], clock: FrozenClock) -> None:
        self.factory, self.clock = factory, clock
        self.facts = RecordedFacts()
        self.runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()),
                               hooks=self.facts, functions=SCRIPT_FUNCTIONS)
        self.actors = ACTORS

    @contextmanager
    def service(self) -> Iterator[WorkflowService]:
        with unit_of_work(self.factory) as session:
            yield WorkflowService(session, self.clock, self.runtime)

    # -- set-up and starting ---------------------------------------------------------------
    def deploy(self, *process_ids: str) -> None:
        with self.service() as svc:
            for process_id in process_ids:
                svc.deploy_file(PROCESS_DIR / f"{process_id}.bpmn")

    def start(self, process_id: str, business_key: str, data: dict[str, Any], actor: Actor = SYSTEM) -> int:
        with self.service() as svc:
            return svc.start(process_id, business_key, data, actor).id

    # -- time ------------------------------------------------------------------------------
    def at(self, when: datetime) -> FireReport:
        """Move the clock to ``when`` (never back) and fire every timer now due."""
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        assert when >= self.clock.now(), "a scenario's clock only moves forward"
        self.clock.set(when)
        return fire_due_timers(self.factory, self.runtime, self.clock)

    def wait(self, **delta: float) -> FireReport:
        return self.at(self.clock.now() + timedelta(**delta))

    # -- looking ---------------------------------------------------------------------------
    def open_tasks(self, instance_id: int) -> list[tuple[str, str | None]]:
        """The instance's open human tasks as sorted (element id, role) pairs."""
        with self.service() as svc:
            return sorted((t.element_id, t.role) for t in svc.instance_tasks(instance_id) if t.state == "open")

    def task(self, instance_id: int, element_id: str) -> HumanTask:
        with self.service() as svc:
            found = [t for t in svc.instance_tasks(instance_id) if t.element_id == element_id and t.state == "open"]
            assert len(found) == 1, f"expected one open '{element_id}', found {self.open_tasks(instance_id)}"
            svc.session.expunge(found[0])
            return found[0]

    def instance(self, instance_id: int) -> ProcessInstance:
        with self.service() as svc:
            row = svc.instance(instance_id)
            svc.session.expunge(row)
            return row

    def status(self, instance_id: int) -> str:
        return self.instance(instance_id).status

    def data(self, instance_id: int) -> dict[str, Any]:
        with self.service() as svc:
            return svc.instance_data(instance_id)

    def timers(self, instance_id: int) -> list[tuple[str, datetime]]:
        with self.service() as svc:
            rows: list[TimerRow] = svc.waiting_timers(instance_id)
            return [(r.element_id, r.due_at) for r in rows]

    def history(self, instance_id: int) -> list[tuple[str, str | None]]:
        """(action, element id) of every audit event, oldest first."""
        with self.service() as svc:
            events: list[AuditEvent] = svc.history(instance_id)
            return [(e.action, e.element_id) for e in events]

    # -- acting ----------------------------------------------------------------------------
    def complete(self, instance_id: int, element_id: str, data: dict[str, Any], role: str | None = None) -> HumanTask:
        """Complete the one open ``element_id`` task as an actor holding its role."""
        task = self.task(instance_id, element_id)
        actor = self.actors[role or str(task.role)]
        with self.service() as svc:
            return svc.complete(task.id, data, actor)

    def message(self, instance_id: int, name: str, payload: dict[str, Any]) -> None:
        with self.service() as svc:
            svc.send_message(instance_id, name, payload, SYSTEM)


@pytest.fixture
def scenario(factory: sessionmaker[Session], clock: FrozenClock) -> Scenario:
    return Scenario(factory, clock)
