"""The demo authority's generated cohort: the same seed gives the same children and records, the spreads are
those docs/cohort.md states, loading twice adds nothing, and the termly job opens no process for it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.cohort import seed
from casework.access import CaseAccess
from casework.attendance_summary import AttendanceSummary
from casework.demo_cohort import Cohort, CohortSummary, load_demo_cohort
from casework.hooks import CaseworkHooks
from casework.lifecycle import Casework
from casework.records import SCHOOL_TYPES, Child, Pep, Placement, School
from casework.rules import ensure_authority
from casework.school_data import Attainment, AttendanceRecord, EetStatus, Suspension
from casework.schoolyear import SCRIPT_FUNCTIONS, academic_year_start, age_on
from casework.terms import default_term_calendar, load_default_term_dates
from casework.users import User
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Runtime
from processes.forms import FORMS
from tests.hashing import FAST_HASHER

LA = "935"


def _load(factory: sessionmaker[Session], clock: FrozenClock, cohort: Cohort | None = None) -> CohortSummary:
    with unit_of_work(factory) as session:
        ensure_authority(session, LA, "Demo Borough Council")
        load_default_term_dates(session, LA)
        return load_demo_cohort(session, clock, FAST_HASHER, cohort or Cohort())


def _fingerprint(session: Session) -> dict[str, Any]:
    """Everything generated, without row ids: children by ref, and their records summed by child."""
    children = session.execute(select(Child.ref, Child.date_of_birth, Child.upn, Child.legal_status,
                                      Child.looked_after_since, Child.social_worker, Child.school_urn,
                                      Child.left_care_on, Child.sen_status).order_by(Child.ref)).all()
    by_ref = {child_id: ref for child_id, ref in session.execute(select(Child.id, Child.ref))}

    def per_child(*columns: Any) -> list[tuple[Any, ...]]:
        table = columns[0].class_
        rows = session.execute(select(table.child_id, *columns)).all()
        return sorted((by_ref[row[0]], *row[1:]) for row in rows)

    attendance = session.execute(select(AttendanceRecord.child_id, func.count(), func.sum(
        AttendanceRecord.possible_sessions), func.sum(AttendanceRecord.attended_sessions)).group_by(
        AttendanceRecord.child_id)).all()
    return {
        "children": [tuple(row) for row in children],
        "placements": per_child(Placement.placement_type, Placement.distance, Placement.starts_on),
        "peps": per_child(Pep.kind, Pep.academic_year, Pep.term, Pep.status, Pep.rag),
        "attendance": sorted((by_ref[c], n, p, a) for c, n, p, a in attendance),
        "suspensions": per_child(Suspension.kind, Suspension.starts_on, Suspension.days, Suspension.reason),
        "attainment": per_child(Attainment.academic_year, Attainment.term, Attainment.subject, Attainment.value),
        "eet": per_child(EetStatus.status, EetStatus.recorded_on),
    }


def test_two_loads_with_the_same_seed_give_the_same_cohort_and_another_seed_another(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    small = Cohort(size=120, weeks=20)
    _load(factory, clock, small)
    with factory() as session:
        first = _fingerprint(session)
    with unit_of_work(factory) as session:
        for table in (AttendanceSummary, AttendanceRecord, Suspension, Attainment, EetStatus, Pep, Placement):
            session.execute(delete(table))
        session.execute(delete(Child))
    _load(factory, clock, small)
    with factory() as session:
        again = _fingerprint(session)
    assert len(first["children"]) == 120 and len(first["attendance"]) > 50
    assert again == first
    with unit_of_work(factory) as session:
        for table in (AttendanceSummary, AttendanceRecord, Suspension, Attainment, EetStatus, Pep, Placement):
            session.execute(delete(table))
        session.execute(delete(Child))
    _load(factory, clock, Cohort(size=120, weeks=20, seed=7))
    with factory() as session:
        assert _fingerprint(session)["children"] != first["children"]


@pytest.fixture
def loaded(factory: sessionmaker[Session], clock: FrozenClock) -> CohortSummary:
    return _load(factory, clock)


def test_the_demo_cohort_has_the_stated_spread_of_ages_placements_sen_and_schools(
    loaded: CohortSummary, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    today = clock.now().date()
    with factory() as session:
        children = session.scalars(select(Child)).all()
        placements = {p.id: p for p in session.scalars(select(Placement))}
        schools = session.scalars(select(School)).all()
        workers = session.scalars(select(User).where(User.roles == "social_worker")).all()
    n = len(children)
    assert n == loaded.children == 600
    ages = Counter(age_on(c.date_of_birth, today) for c in children)
    assert set(ages) == set(range(18)) and 0.18 <= (ages[16] + ages[17]) / n <= 0.34
    assert 0.30 <= sum(ages[a] for a in range(10, 16)) / n <= 0.46
    distances = Counter(placements[c.current_placement_id or 0].distance for c in children)
    assert 0.12 <= (n - distances["in_area"]) / n <= 0.22 and distances["out_of_area_distant"] >= 15
    sen = Counter(c.sen_status for c in children)
    assert 0.22 <= sen["sen_support"] / n <= 0.34 and 0.17 <= sen["ehc_plan"] / n <= 0.30
    assert sen["assessment_in_progress"] > 0
    legal = Counter(c.legal_status for c in children)
    assert 0.50 <= legal["C2"] / n <= 0.72 and legal["V2"] > 0 and legal["E1"] > 0
    assert 55 <= len(schools) <= 70 and {s.school_type for s in schools} == {t for t, _ in SCHOOL_TYPES}
    assert {s.la_code == LA for s in schools} == {True, False}
    out_of_area_school = [c for c in children if c.school_urn and next(
        s for s in schools if s.urn == c.school_urn).la_code != LA]
    assert 0.08 <= len(out_of_area_school) / n <= 0.25
    no_school = [c for c in children if c.school_urn is None and age_on(c.date_of_birth, today) >= 5]
    assert 0 < len(no_school) / n <= 0.12
    team_of = {w.username: w.team for w in workers}
    assert {team_of[c.social_worker or ""] for c in children if age_on(c.date_of_birth, today) >= 16} == {
        "Leaving Care 16+"}
    teams = Counter(w.team for w in workers)
    assert len(teams) == 4 and max(Counter(c.social_worker for c in children).values()) <= 40
    assert all(c.looked_after_since <= today and c.date_of_birth < c.looked_after_since for c in children)
    assert all(p.starts_on <= today and (p.ends_on is None or p.starts_on < p.ends_on) for p in placements.values())
    left = [c.left_care_on for c in children if c.left_care_on is not None]
    assert 5 <= len(left) <= 60 and all(academic_year_start(today) <= d <= today for d in left)


def test_the_demo_cohort_has_two_years_of_weekly_attendance_with_the_stated_absence(
    loaded: CohortSummary, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with factory() as session:
        rows = session.execute(select(AttendanceRecord.child_id, func.sum(AttendanceRecord.possible_sessions),
                                      func.sum(AttendanceRecord.attended_sessions), func.min(
                                          AttendanceRecord.period_start)).group_by(AttendanceRecord.child_id)).all()
        weeks = session.scalars(select(AttendanceRecord.period_start).distinct()).all()
        suspended = session.scalar(select(func.count(Suspension.child_id.distinct())))
        suspension_days = session.scalars(select(Suspension.starts_on)).all()
        eligible = session.scalar(select(func.count()).select_from(Child).where(Child.school_urn.is_not(None)))
    assert loaded.attendance > 20_000 and all(d.weekday() == 0 for d in weeks)
    assert 70 <= len(weeks) <= 82  # school weeks in two years (about 39 a year)
    assert min(r[3] for r in rows) <= clock.now().date().replace(year=clock.now().year - 2, month=12, day=31)
    missed = [1 - attended / possible for _, possible, attended, _ in rows]
    severe_children = [child_id for child_id, possible, attended, _ in rows if attended <= possible / 2]
    with factory() as session:
        workers = Counter(session.scalars(select(Child.social_worker).where(Child.id.in_(severe_children))))
    assert max(workers.values()) <= 3  # not one social worker's caseload
    persistent = sum(m >= 0.10 for m in missed) / len(missed)
    severe = sum(m >= 0.50 for m in missed) / len(missed)
    assert 0.08 <= persistent <= 0.18 and 0.005 <= severe <= 0.045
    assert sum(m < 0.10 for m in missed) / len(missed) >= 0.80  # most attend 90-100%
    assert 0.05 <= (suspended or 0) / (eligible or 1) <= 0.15 and all(d.weekday() < 5 for d in suspension_days)


def test_the_demo_cohort_has_peps_in_every_state_attainment_and_eet_for_every_sixteen_and_seventeen_year_old(
    loaded: CohortSummary, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    today = clock.now().date()
    with factory() as session:
        this_term = session.scalars(select(Pep).where(Pep.academic_year == "2026/27", Pep.term == "autumn")).all()
        older = Counter(session.scalars(select(Pep.status).where(Pep.academic_year != "2026/27", Pep.kind == "termly")))
        initial = session.scalars(select(Pep).where(Pep.kind == "initial")).all()
        kinds = Counter(session.scalars(select(Attainment.kind)))
        sixteens = {c.id for c in session.scalars(select(Child)) if age_on(c.date_of_birth, today) >= 16}
        eet = Counter(session.execute(select(EetStatus.child_id, EetStatus.status)).all())
    assert loaded.peps == len(this_term) + sum(older.values()) + len(initial)
    assert 15 <= len(initial) and {p.status for p in initial} >= {"complete", "in_progress"}
    on_time = [p for p in initial if p.completed_at and p.due_at and p.completed_at <= p.due_at]
    assert 0 < len(on_time) < len([p for p in initial if p.completed_at])  # some on time, some late
    assert {p.status for p in initial if p.due_at and p.due_at.date() > today} >= {"not_started", "in_progress"}
    assert not {p.child_id for p in initial if p.due_at and date(2026, 9, 3) <= p.due_at.date() <= date(2026, 12, 18)} & {
        p.child_id for p in this_term}  # a child whose initial PEP falls due this term has no termly one too
    states = Counter(p.status for p in this_term)
    assert set(states) == {"not_started", "in_progress", "submitted", "returned", "complete"}
    assert all(p.rag == "red" and p.return_reason for p in this_term if p.status == "returned")
    assert all(p.rag in ("green", "amber") and p.completed_at for p in this_term if p.status == "complete")
    assert all(p.instance_id is None for p in this_term)
    assert older["complete"] / sum(older.values()) >= 0.85
    assert {"teacher_assessment", "gcse_working_at", "ks_result"} <= set(kinds)
    assert {child_id for child_id, _ in eet} == sixteens
    assert "neet" in {status for _, status in eet}


def test_loading_the_demo_cohort_again_adds_nothing_and_the_termly_job_opens_no_process_for_it(
    loaded: CohortSummary, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    counts = {t.__name__: _count(factory, t) for t in (Child, Pep, AttendanceRecord, School, User, Suspension)}
    again = _load(factory, clock)
    assert (again.children, again.users, again.schools, again.peps, again.attendance) == (0, 0, 0, 0, 0)
    assert {t.__name__: _count(factory, t) for t in (Child, Pep, AttendanceRecord, School, User, Suspension)} == counts
    runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()), access=CaseAccess(),
                      hooks=CaseworkHooks(), functions=SCRIPT_FUNCTIONS)
    with unit_of_work(factory) as session:
        report = Casework(session, clock, runtime).open_termly_reviews(LA)
    assert report.opened == 0 and report.terms == ["autumn 2026/27"]


def _count(factory: sessionmaker[Session], table: Any) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_the_benchmarks_seeding_builds_a_small_authority_with_a_row_for_every_week(db_url: str) -> None:
    counts = seed(db_url, size=30, weeks=6)
    assert counts["children"] == 30 and counts["social workers"] >= 8
    with_school = counts["attendance rows"] // 6
    assert counts["attendance rows"] == 6 * with_school and 15 <= with_school <= 30


def test_the_cohort_is_generated_for_the_day_it_is_loaded(factory: sessionmaker[Session]) -> None:
    summary = _load(factory, FrozenClock(datetime(2027, 6, 14, 9, 0, tzinfo=UTC)), Cohort(size=60, weeks=10))
    with factory() as session:
        terms = set(session.execute(select(Pep.academic_year, Pep.term).distinct()).all())
        last_week = session.scalar(select(func.max(AttendanceRecord.period_start)))
    assert summary.children == 60 and ("2026/27", "summer") in terms and ("2026/27", "autumn") not in terms
    assert last_week == date(2027, 6, 7)  # the last whole week before the day of loading
