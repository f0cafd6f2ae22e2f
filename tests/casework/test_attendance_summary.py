"""The per-term attendance summary always agrees with a plain recomputation from the weekly records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework import attendance
from casework.attendance_summary import AttendanceSummary, refresh
from casework.demo_cohort import Cohort, load_demo_cohort
from casework.records import Child
from casework.rules import ensure_authority
from casework.school_data import AttendanceRecord
from casework.terms import import_term_dates_csv, load_default_term_dates, terms_of
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER

from .records_support import LA, add_child, add_school

Totals = dict[tuple[int, int, date | None], tuple[int, int]]
HEADER = "child_ref,period_start,period_end,possible_sessions,attended_sessions,authorised_absence,unauthorised_absence\n"
# The autumn term starts a week later than the default dates: its first week falls outside any term.
LATER_AUTUMN = ("kind,academic_year,term,starts_on,ends_on\n"
                "term,2026/27,autumn,2026-09-10,2026-12-18\n"
                "term,2026/27,spring,2027-01-05,2027-03-25\n")


def recomputed(session: Session, la_code: str) -> Totals:
    """Each child's sessions by academic year and term, summed in Python from the records."""
    terms = terms_of(session, la_code)
    sums: dict[tuple[int, int, date | None], list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(select(AttendanceRecord).join(Child, Child.id == AttendanceRecord.child_id)
                           .where(Child.la_code == la_code)).scalars()
    for row in rows:
        start = row.period_start
        year = start.year if start.month >= 9 else start.year - 1
        term = next((first for first, last in terms if first <= start <= last), None)
        total = sums[(row.child_id, year, term)]
        total[0] += row.possible_sessions
        total[1] += row.attended_sessions
    return {key: (p, a) for key, (p, a) in sums.items()}


def summarised(session: Session) -> Totals:
    return {(s.child_id, s.year_start, s.term_starts_on): (s.possible_sessions, s.attended_sessions)
            for s in session.scalars(select(AttendanceSummary))}


@pytest.fixture
def session(factory: sessionmaker[Session], clock: FrozenClock) -> Iterator[Session]:
    with unit_of_work(factory) as setup:
        add_school(setup, clock, "100001")
        for ref in ("C-1", "C-2", "C-3"):
            add_child(setup, clock, ref=ref, school_urn="100001")
    with unit_of_work(factory) as session:
        yield session


def test_the_demo_cohorts_summary_is_what_summing_its_records_gives(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        ensure_authority(session, LA, "Demo Borough Council")
        load_default_term_dates(session, LA)
        load_demo_cohort(session, clock, FAST_HASHER, Cohort(size=60, weeks=70))
    with factory() as session:
        expected = recomputed(session, LA)
        assert len(expected) > 100 and any(term is None for _, _, term in expected)  # holidays count too
        assert summarised(session) == expected


def test_an_import_and_a_corrected_import_keep_the_summary_equal_to_the_records(
    session: Session, clock: FrozenClock
) -> None:
    attendance.apply(session, clock, LA, HEADER + "C-1,2026-11-02,2026-11-06,10,9,1,0\n"
                     "C-2,2026-11-02,2026-11-06,10,10,0,0\nC-2,2026-10-26,2026-10-30,0,0,0,0\n", "vsh")
    assert summarised(session) == recomputed(session, LA)
    attendance.apply(session, clock, LA, HEADER + "C-1,2026-11-02,2026-11-06,10,5,5,0\n"
                     "C-1,2026-09-01,2026-09-04,6,6,0,0\n", "vsh")
    totals = summarised(session)
    assert totals == recomputed(session, LA)
    [c1] = session.scalars(select(Child.id).where(Child.ref == "C-1"))
    assert totals[(c1, 2026, date(2026, 9, 3))] == (10, 5)  # corrected in place, in the autumn term
    assert totals[(c1, 2026, None)] == (6, 6)  # 1 September: before the term starts


def test_one_period_recorded_on_screen_is_summarised_at_once(session: Session, clock: FrozenClock) -> None:
    attendance.record(session, clock, "C-3", "dt", period_start=date(2026, 11, 9), period_end=date(2026, 11, 13),
                      possible_sessions=10, attended_sessions=7, authorised_absence=3, unauthorised_absence=0)
    [c3] = session.scalars(select(Child.id).where(Child.ref == "C-3"))
    assert summarised(session) == {(c3, 2026, date(2026, 9, 3)): (10, 7)} == recomputed(session, LA)


def test_new_term_dates_move_each_week_into_its_new_term(session: Session, clock: FrozenClock) -> None:
    attendance.apply(session, clock, LA, HEADER + "C-1,2026-09-07,2026-09-11,10,8,2,0\n"
                     "C-1,2026-09-14,2026-09-18,10,10,0,0\n", "vsh")
    [c1] = session.scalars(select(Child.id).where(Child.ref == "C-1"))
    assert summarised(session) == {(c1, 2026, date(2026, 9, 3)): (20, 18)}
    import_term_dates_csv(session, LA, LATER_AUTUMN)
    assert summarised(session) == {(c1, 2026, None): (10, 8), (c1, 2026, date(2026, 9, 10)): (10, 10)}
    assert summarised(session) == recomputed(session, LA)


def test_refreshing_twice_writes_the_same_rows(session: Session, clock: FrozenClock) -> None:
    attendance.apply(session, clock, LA, HEADER + "C-2,2026-11-02,2026-11-06,10,9,1,0\n", "vsh")
    before = summarised(session)
    assert refresh(session, LA) == 1
    assert summarised(session) == before
