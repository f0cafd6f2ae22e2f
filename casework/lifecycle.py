"""When the statutory processes start, and with what: the domain's side of each lifecycle.

- A placement move is started for a child with the child's facts and the
  authority's configurable rules (limits, approver roles).
- A child who becomes looked after gets an initial PEP, due ``initial_pep_days``
  working (or school) days later.
- Each school term, from the authority's term dates, every looked-after child of
  school-PEP age gets one termly review, due by the end of the term's first half
  (configurable); a child whose initial PEP falls in the same term is not given a
  second one.
- An approved move with a change of school starts a new PEP meeting (see hooks).

Services flush; the caller's unit of work commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import unit_of_work
from engine.models import ProcessInstance
from engine.runtime import SYSTEM, Actor, Runtime
from engine.service import WorkflowService

from .children import ChildService
from .peps import PepService
from .processes import admission_direction, pep_review, placement_move
from .records import Child, Pep
from .rules import (
    Authority,
    calendar_for,
    initial_pep_due_on,
    rules_for,
    school_change_pep_due_on,
    termly_review_due_on,
)
from .schoolyear import age_on
from .terms import Term, term_on

PEP_AGE_LIMIT = 18  # a PEP is kept for looked-after children aged 0-18
EARLY_YEARS_FROM_AGE = 2  # early-years PEPs start from 2-3 (Promoting the education of looked after children, DfE statutory guidance 2014, key point 6)


def end_of_day(day: date) -> datetime:
    """A deadline "by ``day``": overdue from the start of the next day (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


@dataclass
class ReviewReport:
    opened: int = 0
    skipped: int = 0
    terms: list[str] = field(default_factory=list)


class Casework:
    def __init__(self, session: Session, clock: Clock, runtime: Runtime) -> None:
        self.session, self.clock, self.runtime = session, clock, runtime
        self.children = ChildService(session, clock)
        self.peps = PepService(session, clock, runtime.calendar)
        self.workflows = WorkflowService(session, clock, runtime)

    # -- children -------------------------------------------------------------------------------
    def add_child(self, actor: Actor = SYSTEM, **data: Any) -> Child:
        """Record a child who has become looked after, and open their initial PEP."""
        child = self.children.add(actor.user_id, **data)
        self.open_initial_pep(child.ref, actor)
        return child

    # -- placement moves ------------------------------------------------------------------------
    def start_move(self, ref: str, actor: Actor) -> ProcessInstance:
        child = self.children.get(ref)
        data = placement_move.start_data(self.children, ref, rules_for(self.session, child.la_code), self.clock.now())
        return self.workflows.start(placement_move.PROCESS_ID, ref, data, actor)

    def start_direction(self, ref: str, school_urn: str, actor: Actor) -> ProcessInstance:
        child = self.children.get(ref)
        data = admission_direction.start_data(self.children, child, school_urn, rules_for(self.session, child.la_code),
                                              self.clock.now())
        return self.workflows.start(admission_direction.PROCESS_ID, ref, data, actor)

    # -- PEPs -----------------------------------------------------------------------------------
    def open_initial_pep(self, ref: str, actor: Actor = SYSTEM) -> Pep:
        child = self.children.get(ref)
        due_on = initial_pep_due_on(self.session, child.la_code, child.looked_after_since)
        return self.start_pep(ref, "initial", due_on, actor=actor)

    def open_school_change_pep(self, ref: str, changed_on: date, actor: Actor = SYSTEM) -> Pep:
        child = self.children.get(ref)
        due_on = school_change_pep_due_on(self.session, child.la_code, changed_on)
        return self.start_pep(ref, "school_change", due_on, actor=actor)

    def start_pep(self, ref: str, kind: str, due_on: date, *, term: Term | None = None,
                  actor: Actor = SYSTEM) -> Pep:
        """A PEP record and its ``pep_review`` process, due by the end of ``due_on``."""
        child = self.children.get(ref)
        due_at = end_of_day(due_on)
        pep = self.peps.create(ref, kind, due_at=due_at, term=term.term if term else None,
                               academic_year=term.academic_year if term else None, actor=actor.user_id)
        data = pep_review.start_data(child, pep, kind, due_at, rules_for(self.session, child.la_code))
        instance = self.workflows.start(pep_review.PROCESS_ID, ref, data, actor)
        pep.instance_id = instance.id
        self.session.flush()
        return pep

    def open_termly_reviews(self, la_code: str, on: date | None = None) -> ReviewReport:
        """Open this term's review for every child who needs one (idempotent: one per child per term)."""
        day = on or self.clock.now().date()
        report = ReviewReport()
        term = term_on(self.session, la_code, day)
        if term is None:
            return report
        report.terms.append(f"{term.term} {term.academic_year}")
        due_on = termly_review_due_on(self.session, la_code, term)
        if due_on < day:  # opened after the window (a first run mid-term): due by the end of the term
            due_on = max(term.ends_on, day)
        in_care = select(Child).where(Child.la_code == la_code, Child.left_care_on.is_(None))  # leavers have none
        for child in self.session.scalars(in_care.order_by(Child.ref)):
            if not self._needs_termly_review(child, term):
                report.skipped += 1
                continue
            self.start_pep(child.ref, "termly", due_on, term=term)
            report.opened += 1
        return report

    def _needs_termly_review(self, child: Child, term: Term) -> bool:
        age = age_on(child.date_of_birth, term.starts_on)
        if age >= PEP_AGE_LIMIT or age < EARLY_YEARS_FROM_AGE or child.looked_after_since > term.ends_on:
            return False
        if self.peps.termly(child.id, term.academic_year, term.term) is not None:
            return False
        start, end = datetime.combine(term.starts_on, time(0, 0), tzinfo=UTC), end_of_day(term.ends_on)
        initial_this_term = select(Pep.id).where(Pep.child_id == child.id, Pep.kind == "initial",
                                                 Pep.due_at >= start, Pep.due_at <= end)
        return self.session.scalars(initial_this_term).first() is None


def open_termly_reviews_job(factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> ReviewReport:
    """The scheduler job: for each authority, one unit of work opening this term's reviews."""
    total = ReviewReport()
    with factory() as session:
        authorities = list(session.scalars(select(Authority.la_code).order_by(Authority.la_code)))
    for la_code in authorities:
        with unit_of_work(factory) as session:
            report = Casework(session, clock, runtime).open_termly_reviews(la_code)
        total.opened += report.opened
        total.skipped += report.skipped
        total.terms.extend(report.terms)
    return total


__all__ = ["Casework", "ReviewReport", "calendar_for", "end_of_day", "open_termly_reviews_job"]
