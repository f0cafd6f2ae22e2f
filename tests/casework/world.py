"""A small authority wired the way the app runs it: real records, the shipped processes, the
case access policy and the domain hooks, one unit of work per call, a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.access import CaseAccess
from casework.escalations import Escalation
from casework.hooks import CaseworkHooks
from casework.lifecycle import Casework
from casework.rules import ensure_authority
from casework.schoolyear import SCRIPT_FUNCTIONS
from casework.terms import default_term_calendar, load_default_term_dates
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import HumanTask
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService
from engine.timer_pump import fire_due_timers
from notifications.models import OutboxMessage
from processes import PROCESS_DIR
from processes.forms import FORMS
from tests.casework.records_support import LA, add_child, add_school, add_user

STAFF = {
    "sw": ["social_worker"], "other_sw": ["social_worker"], "vsh": ["vsh"], "manager": ["manager"],
    "no": ["nominated_officer"], "dcs": ["dcs"], "admissions": ["admissions_officer"], "send": ["sen_officer"],
}


class World:
    def __init__(self, factory: sessionmaker[Session], clock: FrozenClock) -> None:
        self.factory, self.clock = factory, clock
        self.runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()),
                               access=CaseAccess(), hooks=CaseworkHooks(), functions=SCRIPT_FUNCTIONS)
        self.actors: dict[str, Actor] = {}
        with self.session() as session:
            ensure_authority(session, LA, "Test Borough")
            load_default_term_dates(session, LA)
            add_school(session, clock, "100001", name="Riverside Primary", la_is_admission_authority=True)
            add_school(session, clock, "100002", name="St Anne's VA High", la_is_admission_authority=False)
            add_school(session, clock, "100003", name="Hillcrest Academy", school_type="academy",
                       la_is_admission_authority=False)
            add_school(session, clock, "100004", name="Little Acorns Nursery", school_type="early_years_setting",
                       la_is_admission_authority=False)
            add_school(session, clock, "100005", name="Northgate College", school_type="further_education",
                       la_is_admission_authority=False)
            for name, roles in STAFF.items():
                add_user(session, clock, name, roles)
                self.actors[name] = Actor(name, frozenset(roles))
            for urn in ("100001", "100002", "100003", "100004", "100005"):
                add_user(session, clock, f"dt{urn}", ["designated_teacher"], school_urn=urn)
                self.actors[f"dt{urn}"] = Actor(f"dt{urn}", frozenset({"designated_teacher"}))
            WorkflowService(session, clock, self.runtime).deploy_directory(PROCESS_DIR)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with unit_of_work(self.factory) as session:
            yield session

    @contextmanager
    def casework(self) -> Iterator[Casework]:
        with self.session() as session:
            yield Casework(session, self.clock, self.runtime)

    def child(self, ref: str, born: str, school: str | None = "100001", since: str = "2025-06-02",
              **extra: Any) -> None:
        with self.session() as session:
            add_child(session, self.clock, ref=ref, date_of_birth=born, school_urn=school,
                      looked_after_since=since, social_worker="sw", **extra)

    def at(self, when: datetime) -> None:
        self.clock.set(when if when.tzinfo else when.replace(tzinfo=UTC))
        fire_due_timers(self.factory, self.runtime, self.clock)

    def open_tasks(self, ref: str, process_id: str | None = None) -> list[tuple[str, str | None]]:
        with self.session() as session:
            query = select(HumanTask).where(HumanTask.business_key == ref, HumanTask.state == "open")
            if process_id:
                query = query.where(HumanTask.process_id == process_id)
            return sorted((t.element_id, t.role) for t in session.scalars(query))

    def task(self, ref: str, element_id: str) -> HumanTask:
        with self.session() as session:
            [row] = session.scalars(select(HumanTask).where(
                HumanTask.business_key == ref, HumanTask.state == "open", HumanTask.element_id == element_id))
            session.expunge(row)
            return row

    def complete(self, ref: str, element_id: str, data: dict[str, Any], who: str) -> None:
        task = self.task(ref, element_id)
        with self.session() as session:
            WorkflowService(session, self.clock, self.runtime).complete(task.id, data, self.actors[who])

    def escalations(self, ref: str, state: str = "open") -> list[tuple[str, str]]:
        with self.session() as session:
            rows = session.scalars(select(Escalation).where(Escalation.child_ref == ref, Escalation.state == state))
            return sorted((r.kind, str(r.details.get("element_id"))) for r in rows)

    def mail_to(self, username: str) -> list[str]:
        with self.session() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_username == username))
            return [r.subject for r in rows]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
