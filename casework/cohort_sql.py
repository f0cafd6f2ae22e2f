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
from .cohort_period import Period
from .escalations import Escalation
from .records import Child, Pep, Placement
from .school_data import AttendanceRecord, EetStatus, Suspension
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


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _zero(column: ColumnElement[int] | ColumnElement[float] | None) -> ColumnElement[int]:
    return func.coalesce(column, 0)


def area(distance: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    """``in`` (the current placement is in the authority's area), ``out``, or ``unknown`` (none recorded)."""
    return case((distance == "in_area", "in"), (distance.is_not(None), "out"), else_="unknown")


def facts(visible: ColumnElement[bool], period: Period, today: date,
          escalation_kinds: Collection[str] | None = None, *, slim: bool = False) -> Select[*tuple[Any, ...]]:
    """One row per child the viewer may see who is on the roll on the period's as-of day. ``slim``: only
    the columns of the trend (TREND_SUMMED), without the breakdowns' joins (a term of the trend)."""
    as_of = period.as_of(today)
    start, end = period.starts_on, period.ends_on
    attendance = (
        select(AttendanceRecord.child_id.label("child_id"),
               func.sum(AttendanceRecord.possible_sessions).label("possible"),
               func.sum(AttendanceRecord.attended_sessions).label("attended"))
        .where(AttendanceRecord.period_start >= start, AttendanceRecord.period_start <= end)
        .group_by(AttendanceRecord.child_id).subquery("att"))
    suspensions = (
        select(Suspension.child_id.label("child_id"),
               func.sum(_flag(Suspension.kind == "suspension")).label("suspensions"),
               func.sum(case((Suspension.kind == "suspension", Suspension.days), else_=0.0)).label("days"),
               func.sum(_flag(Suspension.kind == "permanent_exclusion")).label("exclusions"))
        .where(Suspension.starts_on >= start, Suspension.starts_on <= end)
        .group_by(Suspension.child_id).subquery("susp"))
    in_period = Pep.due_at.between(day_start(start), day_end(end))
    signed_off = and_(Pep.status == "complete", Pep.completed_at.between(day_start(start), day_end(end)))
    termly = and_(Pep.kind == "termly", Pep.academic_year == period.academic_year, Pep.term.in_(period.terms))
    peps = (
        select(Pep.child_id.label("child_id"),
               func.sum(_flag(and_(Pep.kind == "initial", in_period))).label("initial_due"),
               func.sum(_flag(and_(Pep.kind == "initial", in_period, Pep.status == "complete",
                                   Pep.completed_at <= Pep.due_at))).label("initial_on_time"),
               func.sum(_flag(termly)).label("termly_due"),
               func.sum(_flag(and_(termly, Pep.status == "complete"))).label("termly_done"),
               *(func.sum(_flag(and_(signed_off, Pep.rag == rag))).label(f"rag_{rag}")
                 for rag in ("red", "amber", "green")))
        .where(or_(in_period, termly, signed_off))
        .group_by(Pep.child_id).subquery("peps"))
    open_escalations = select(Escalation.child_ref.label("child_ref"), func.count().label("escalations")).where(
        Escalation.state == "open")
    if escalation_kinds is not None:
        open_escalations = open_escalations.where(Escalation.kind.in_(sorted(escalation_kinds)))
    escalations = open_escalations.group_by(Escalation.child_ref).subquery("esc")
    placement = aliased(Placement)
    worker = aliased(User)
    latest = aliased(EetStatus)
    latest_day = (select(func.max(latest.recorded_on))
                  .where(latest.child_id == Child.id, latest.recorded_on <= as_of).correlate(Child).scalar_subquery())
    neet_now = exists().where(EetStatus.child_id == Child.id, EetStatus.status == "neet",
                              EetStatus.recorded_on == latest_day).correlate(Child)
    aged_16_17 = and_(aged_at_least(NEET_AGES[0], as_of), ~aged_at_least(NEET_AGES[1] + 1, as_of))
    possible, attended = _zero(attendance.c.possible), _zero(attendance.c.attended)
    missed = possible - attended
    where = area(placement.distance)
    core = [
        literal(1, Integer).label("children"),
        _flag(possible > 0).label("with_attendance"),
        possible.label("possible"),
        attended.label("attended"),
        _flag(and_(possible > 0, missed * 10 >= possible)).label("persistent"),
        _flag(and_(possible > 0, missed * 2 >= possible)).label("severe"),
        _flag(_zero(suspensions.c.suspensions) > 0).label("suspended"),
        _zero(suspensions.c.days).label("suspension_days"),
        _flag(_zero(suspensions.c.exclusions) > 0).label("excluded"),
        _zero(peps.c.initial_due).label("initial_due"),
        _zero(peps.c.initial_on_time).label("initial_on_time"),
        _zero(peps.c.termly_due).label("termly_due"),
        _zero(peps.c.termly_done).label("termly_done"),
        _zero(peps.c.rag_red).label("rag_red"),
        _zero(peps.c.rag_amber).label("rag_amber"),
        _zero(peps.c.rag_green).label("rag_green"),
    ]
    joined = (select(*core).select_from(Child)
              .outerjoin(attendance, attendance.c.child_id == Child.id)
              .outerjoin(suspensions, suspensions.c.child_id == Child.id)
              .outerjoin(peps, peps.c.child_id == Child.id)
              .where(visible, on_roll(as_of)))
    if slim:
        return joined
    return (
        joined.add_columns(
            Child.id.label("child_id"),
            key_stage(as_of).label("key_stage"),
            Child.school_urn.label("school"),
            Child.social_worker.label("social_worker"),
            worker.team.label("team"),
            where.label("area"),
            _flag(Child.school_urn.is_(None)).label("no_school"),
            _flag(where == "out").label("out_of_area"),
            _flag(Child.sen_status == "sen_support").label("sen_support"),
            _flag(Child.sen_status == "ehc_plan").label("ehcp"),
            _flag(aged_16_17).label("aged_16_17"),
            _flag(and_(aged_16_17, neet_now)).label("neet"),
            _zero(escalations.c.escalations).label("escalations"),
        )
        .outerjoin(placement, placement.id == rc.current_placement_id(as_of))
        .outerjoin(worker, worker.username == Child.social_worker)
        .outerjoin(escalations, escalations.c.child_ref == Child.ref)
    )


TREND_SUMMED = ("children", "with_attendance", "possible", "attended", "persistent", "severe", "suspended",
                "suspension_days", "excluded", "initial_due", "initial_on_time", "termly_due", "termly_done",
                "rag_red", "rag_amber", "rag_green")
"""The columns of a slim :func:`facts` (a term of the trend)."""
SUMMED = ("children", "with_attendance", "possible", "attended", "persistent", "severe", "suspended",
          "suspension_days", "excluded", "no_school", "out_of_area", "sen_support", "ehcp", "aged_16_17", "neet",
          "initial_due", "initial_on_time", "termly_due", "termly_done", "rag_red", "rag_amber", "rag_green",
          "escalations")
"""The columns of :func:`facts` that figures sum."""
