"""The demo authority, at start, has a PEP waiting for the VSH's rating and a returned PEP waiting for the teacher."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.access import CaseAccess
from casework.demo import load_demo
from casework.demo_peps import AWAITING_QUALITY_ASSURANCE, RETURN_REASON, RETURNED
from casework.hooks import CaseworkHooks
from casework.processes.pep_review import Step
from casework.records import Child, Pep
from casework.schoolyear import SCRIPT_FUNCTIONS
from casework.terms import default_term_calendar
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import HumanTask
from engine.runtime import Runtime
from processes.forms import FORMS
from tests.hashing import FAST_HASHER

AUTUMN_TERM_DAY = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _load(factory: sessionmaker[Session]) -> None:
    clock = FrozenClock(AUTUMN_TERM_DAY)
    runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()), access=CaseAccess(),
                      hooks=CaseworkHooks(), functions=SCRIPT_FUNCTIONS)
    with unit_of_work(factory) as session:
        load_demo(session, clock, runtime, hasher=FAST_HASHER)


def _open_pep_tasks(session: Session, ref: str) -> list[tuple[str, str | None]]:
    rows = session.execute(select(HumanTask.element_id, HumanTask.role).where(
        HumanTask.business_key == ref, HumanTask.state == "open", HumanTask.process_id == "pep_review"))
    return sorted((element, role) for element, role in rows)


def _termly(session: Session, ref: str) -> Pep:
    return session.scalars(select(Pep).join(Child, Child.id == Pep.child_id).where(
        Child.ref == ref, Pep.kind == "termly")).one()


def test_the_demo_starts_with_a_pep_waiting_for_the_vshs_rating_and_a_returned_one_waiting_for_the_teacher(
    factory: sessionmaker[Session],
) -> None:
    _load(factory)
    with factory() as session:
        assert (Step.QUALITY_ASSURE_PEP.value, "vsh") in _open_pep_tasks(session, AWAITING_QUALITY_ASSURANCE)
        assert _termly(session, AWAITING_QUALITY_ASSURANCE).status == "submitted"
        returned = _termly(session, RETURNED)
        assert (returned.status, returned.rag, returned.return_reason) == ("returned", "red", RETURN_REASON)
        assert (Step.COMPLETE_PEP_SCHOOL_AGE.value, "designated_teacher") in _open_pep_tasks(session, RETURNED)


def test_loading_the_demo_twice_moves_no_pep_a_second_time(factory: sessionmaker[Session]) -> None:
    _load(factory)
    with factory() as session:
        before = _open_pep_tasks(session, AWAITING_QUALITY_ASSURANCE), _open_pep_tasks(session, RETURNED)
    _load(factory)
    with factory() as session:
        assert (_open_pep_tasks(session, AWAITING_QUALITY_ASSURANCE), _open_pep_tasks(session, RETURNED)) == before
