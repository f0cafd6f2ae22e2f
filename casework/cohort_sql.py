"""The cohort's facts as SQL: one row per child on the roll, with the columns every figure sums.

Nothing here loads a child into Python: :func:`facts` is a subquery (each child's attendance,
suspensions, PEPs and escalations aggregated by ``GROUP BY child_id`` and joined), and the dashboard
sums it grouped by each breakdown (casework/cohort_figures.py). Definitions: docs/cohort.md,
"The dashboard".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Label,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from . import roll
from . import roll_columns as rc
from .attendance_summary import AttendanceSummary, summed_in
from .cohort_period import Period
from .escalations import Escalation
from .records import Child, Pep, Placement
from .school_data import EetStatus, Suspension
from .schoolyear import academic_year_start
from .users import User

KEY_STAGES: list[tuple[str, str]] = [(k, v[0]) for k, v in rc.KEY_STAGES.items()]
"""The roll's key stages (casework/roll_columns.py), in order, with their labels."""
# The first year group of each key stage from KS1 (EYFS is everything below Year 1).
_FIRST_YEAR = (("ks5", 12), ("ks4", 10), ("ks3", 7), ("ks2", 3), ("ks1", 1))
NEET_AGES = (16, 17)


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def aged_at_least(age: int, on: date) -> ColumnElement[bool]:
    return Child.date_of_birth <= years_before(on, age)


def key_stage(on: date) -> ColumnElement[str]:
    """The child's key stage on ``on``, from the year group set by their age on the 31 August before
    the academic year (casework/schoolyear.py): Year N is reached at age N + 4 on that day."""
    august = date(academic_year_start(on).year, 8, 31)
    whens = [(Child.date_of_birth <= years_before(august, first + 4), stage) for stage, first in _FIRST_YEAR]
    return case(*whens, else_="eyfs")


def on_roll(as_of: date) -> ColumnElement[bool]:
    """The Virtual School's roll on ``as_of``, exactly as the roll page has it (casework/roll.py: looked
    after and under 18, or left care this academic year), of children looked after by then."""
    return and_(roll.on_roll(roll.Filters(), as_of), Child.looked_after_since <= as_of)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def day_end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def zero(column: ColumnElement[int] | ColumnElement[float] | None) -> ColumnElement[int]:
    return func.coalesce(column, 0)


def area(distance: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    """``in`` (the current placement is in the authority's area), ``out``, or ``unknown`` (none recorded)."""
    return case((distance == "in_area", "in"), (distance.is_not(None), "out"), else_="unknown")


def pep_sums(in_period: ColumnElement[bool], termly: ColumnElement[bool],
             signed_off: ColumnElement[bool]) -> list[Label[Any]]:
    """A child's PEP counts in a period: initial PEPs due in it (``in_period``: due then) and done on time,
    termly PEPs of its terms (``termly``) due and done, and the RAG ratings of those signed off in it."""
    return [
        func.sum(flag(and_(Pep.kind == "initial", in_period))).label("initial_due"),
        func.sum(flag(and_(Pep.kind == "initial", in_period, Pep.status == "complete",
                            Pep.completed_at <= Pep.due_at))).label("initial_on_time"),
        func.sum(flag(termly)).label("termly_due"),
        func.sum(flag(and_(termly, Pep.status == "complete"))).label("termly_done"),
        *(func.sum(flag(and_(signed_off, Pep.rag == rag))).label(f"rag_{rag}") for rag in ("red", "amber", "green")),
    ]


def facts(visible: ColumnElement[bool], period: Period, today: date,
          escalation_kinds: Collection[str] | None = None) -> Select[*tuple[Any, ...]]:
    """One row per child the viewer may see who is on the roll on the period's as-of day."""
    as_of = period.as_of(today)
    start, end = period.starts_on, period.ends_on
    attendance = (  # summed per term on write (casework/attendance_summary.py): a row or four a child
        select(AttendanceSummary.child_id.label("child_id"),
               func.sum(AttendanceSummary.possible_sessions).label("possible"),
               func.sum(AttendanceSummary.attended_sessions).label("attended"))
        .where(summed_in(period.starts_on, period.academic_year, period.term is None))
        .group_by(AttendanceSummary.child_id).subquery("att"))
    suspensions = (
        select(Suspension.child_id.label("child_id"),
               func.sum(flag(Suspension.kind == "suspension")).label("suspensions"),
               func.sum(case((Suspension.kind == "suspension", Suspension.days), else_=0.0)).label("days"),
               func.sum(flag(Suspension.kind == "permanent_exclusion")).label("exclusions"))
        .where(Suspension.starts_on >= start, Suspension.starts_on <= end)
        .group_by(Suspension.child_id).subquery("susp"))
    in_period = Pep.due_at.between(day_start(start), day_end(end))
    signed_off = and_(Pep.status == "complete", Pep.completed_at.between(day_start(start), day_end(end)))
    termly = and_(Pep.kind == "termly", Pep.academic_year == period.academic_year, Pep.term.in_(period.terms))
    peps = (
        select(Pep.child_id.label("child_id"), *pep_sums(in_period, termly, signed_off))
        .where(or_(in_period, termly, signed_off))
        .group_by(Pep.child_id).subquery("peps"))
    open_escalations = select(Escalation.child_ref.label("child_ref"), func.count().label("escalations")).where(
        Escalation.state == "open")
    if escalation_kinds is not None:
        open_escalations = open_escalations.where(Escalation.kind.in_(sorted(escalation_kinds)))
    escalations = open_escalations.group_by(Escalation.child_ref).subquery("esc")
    placement = aliased(Placement)
    current = (  # each child's placement on the as-of day (started, not ended), as one grouped scan
        select(Placement.child_id.label("child_id"), func.max(Placement.id).label("placement_id"))
        .where(Placement.starts_on <= as_of, or_(Placement.ends_on.is_(None), Placement.ends_on > as_of))
        .group_by(Placement.child_id).subquery("current_placement"))
    worker = aliased(User)
    latest = aliased(EetStatus)
    latest_day = (select(func.max(latest.recorded_on))
                  .where(latest.child_id == Child.id, latest.recorded_on <= as_of).correlate(Child).scalar_subquery())
    neet_now = exists().where(EetStatus.child_id == Child.id, EetStatus.status == "neet",
                              EetStatus.recorded_on == latest_day).correlate(Child)
    aged_16_17 = and_(aged_at_least(NEET_AGES[0], as_of), ~aged_at_least(NEET_AGES[1] + 1, as_of))
    possible, attended = zero(attendance.c.possible), zero(attendance.c.attended)
    missed = possible - attended
    where = area(placement.distance)
    core = [
        literal(1, Integer).label("children"),
        flag(possible > 0).label("with_attendance"),
        possible.label("possible"),
        attended.label("attended"),
        flag(and_(possible > 0, missed * 10 >= possible)).label("persistent"),
        flag(and_(possible > 0, missed * 2 >= possible)).label("severe"),
        flag(zero(suspensions.c.suspensions) > 0).label("suspended"),
        zero(suspensions.c.days).label("suspension_days"),
        flag(zero(suspensions.c.exclusions) > 0).label("excluded"),
        zero(peps.c.initial_due).label("initial_due"),
        zero(peps.c.initial_on_time).label("initial_on_time"),
        zero(peps.c.termly_due).label("termly_due"),
        zero(peps.c.termly_done).label("termly_done"),
        zero(peps.c.rag_red).label("rag_red"),
        zero(peps.c.rag_amber).label("rag_amber"),
        zero(peps.c.rag_green).label("rag_green"),
    ]
    joined = (select(*core).select_from(Child)
              .outerjoin(attendance, attendance.c.child_id == Child.id)
              .outerjoin(suspensions, suspensions.c.child_id == Child.id)
              .outerjoin(peps, peps.c.child_id == Child.id)
              .where(visible, on_roll(as_of)))
    return (
        joined.add_columns(
            Child.id.label("child_id"),
            key_stage(as_of).label("key_stage"),
            Child.school_urn.label("school"),
            Child.social_worker.label("social_worker"),
            worker.team.label("team"),
            where.label("area"),
            flag(Child.school_urn.is_(None)).label("no_school"),
            flag(where == "out").label("out_of_area"),
            flag(Child.sen_status == "sen_support").label("sen_support"),
            flag(Child.sen_status == "ehc_plan").label("ehcp"),
            flag(aged_16_17).label("aged_16_17"),
            flag(and_(aged_16_17, neet_now)).label("neet"),
            zero(escalations.c.escalations).label("escalations"),
        )
        .outerjoin(current, current.c.child_id == Child.id)
        .outerjoin(placement, placement.id == current.c.placement_id)
        .outerjoin(worker, worker.username == Child.social_worker)
        .outerjoin(escalations, escalations.c.child_ref == Child.ref)
    )


TREND_SUMMED = ("children", "with_attendance", "possible", "attended", "persistent", "severe", "suspended",
                "suspension_days", "excluded", "initial_due", "initial_on_time", "termly_due", "termly_done",
                "rag_red", "rag_amber", "rag_green")
"""The columns the trend sums for each term (casework/cohort_trend.py)."""
SUMMED = ("children", "with_attendance", "possible", "attended", "persistent", "severe", "suspended",
          "suspension_days", "excluded", "no_school", "out_of_area", "sen_support", "ehcp", "aged_16_17", "neet",
          "initial_due", "initial_on_time", "termly_due", "termly_done", "rag_red", "rag_amber", "rag_green",
          "escalations")
"""The columns of :func:`facts` that figures sum."""
