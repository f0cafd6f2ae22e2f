"""The dashboard's trend: the headline sums of each of the last terms, all terms in ONE pass.

Each term's figures are exactly what :func:`casework.cohort_sql.facts` gives for that term alone (the
children on the roll on the term's as-of day, their attendance, suspensions and PEPs in it), but every
table is read once for all the terms: the terms are a small derived table, each child's rows are keyed by
(child, term) and summed by term. tests/casework/test_cohort_trend.py checks the trend against each term's
figures computed on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from engine.models import UTCDateTime

from .attendance_summary import AttendanceSummary
from .cohort_figures import Figures
from .cohort_period import Period
from .cohort_sql import TREND_SUMMED, day_end, day_start, flag, on_roll, pep_sums, zero
from .records import Child, Pep
from .school_data import Suspension


def _terms_table(periods: Sequence[Period]) -> Any:
    rows = [select(literal(i, Integer).label("i"), literal(p.academic_year, String).label("academic_year"),
                   literal(p.term or "", String).label("term"),
                   literal(day_start(p.starts_on), UTCDateTime()).label("from_at"),
                   literal(day_end(p.ends_on), UTCDateTime()).label("to_at"))
            for i, p in enumerate(periods)]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("terms")


def _term_of(column: Any, periods: Sequence[Period]) -> ColumnElement[int]:
    """The index of the term whose days include ``column`` (a date), NULL outside them."""
    return case(*((column.between(p.starts_on, p.ends_on), i) for i, p in enumerate(periods)), else_=None)


def trend_totals(session: Session, visible: ColumnElement[bool], periods: Sequence[Period],
                 today: date) -> list[Figures]:
    """The trend's columns (TREND_SUMMED) for each term of ``periods``, in one query."""
    if not periods:
        return []
    assert all(p.term is not None for p in periods), "the trend is of terms"
    roll = union_all(*(select(literal(i, Integer).label("i"), Child.id.label("child_id"))
                       .where(visible, on_roll(p.as_of(today))) for i, p in enumerate(periods))).subquery("roll")
    attendance_term = case(*((AttendanceSummary.term_starts_on == literal(p.starts_on, Date), i)
                             for i, p in enumerate(periods)), else_=None)
    attendance = (select(AttendanceSummary.child_id.label("child_id"), attendance_term.label("i"),
                         func.sum(AttendanceSummary.possible_sessions).label("possible"),
                         func.sum(AttendanceSummary.attended_sessions).label("attended"))
                  .where(AttendanceSummary.term_starts_on.in_([p.starts_on for p in periods]))
                  .group_by(AttendanceSummary.child_id, attendance_term).subquery("att"))
    suspension_term = _term_of(Suspension.starts_on, periods)
    suspensions = (
        select(Suspension.child_id.label("child_id"), suspension_term.label("i"),
               func.sum(flag(Suspension.kind == "suspension")).label("suspensions"),
               func.sum(case((Suspension.kind == "suspension", Suspension.days), else_=0.0)).label("days"),
               func.sum(flag(Suspension.kind == "permanent_exclusion")).label("exclusions"))
        .where(or_(*(Suspension.starts_on.between(p.starts_on, p.ends_on) for p in periods)))
        .group_by(Suspension.child_id, suspension_term).subquery("susp"))
    terms = _terms_table(periods)
    in_period = Pep.due_at.between(terms.c.from_at, terms.c.to_at)
    signed_off = and_(Pep.status == "complete", Pep.completed_at.between(terms.c.from_at, terms.c.to_at))
    termly = and_(Pep.kind == "termly", Pep.academic_year == terms.c.academic_year, Pep.term == terms.c.term)
    peps = (
        select(Pep.child_id.label("child_id"), terms.c.i.label("i"), *pep_sums(in_period, termly, signed_off))
        .join(terms, or_(in_period, termly, signed_off))
        .group_by(Pep.child_id, terms.c.i).subquery("peps"))
    possible, attended = zero(attendance.c.possible), zero(attendance.c.attended)
    missed = possible - attended
    columns = {
        "children": func.count(),
        "with_attendance": func.sum(flag(possible > 0)),
        "possible": func.sum(possible),
        "attended": func.sum(attended),
        "persistent": func.sum(flag(and_(possible > 0, missed * 10 >= possible))),
        "severe": func.sum(flag(and_(possible > 0, missed * 2 >= possible))),
        "suspended": func.sum(flag(zero(suspensions.c.suspensions) > 0)),
        "suspension_days": func.sum(zero(suspensions.c.days)),
        "excluded": func.sum(flag(zero(suspensions.c.exclusions) > 0)),
        **{name: func.sum(zero(getattr(peps.c, name)))
           for name in ("initial_due", "initial_on_time", "termly_due", "termly_done", "rag_red", "rag_amber",
                        "rag_green")},
    }
    assert set(columns) == set(TREND_SUMMED)

    def same(table: Any) -> ColumnElement[bool]:
        return and_(table.c.child_id == roll.c.child_id, table.c.i == roll.c.i)

    query = (select(roll.c.i, *(column.label(name) for name, column in columns.items()))
             .select_from(roll)
             .outerjoin(attendance, same(attendance))
             .outerjoin(suspensions, same(suspensions))
             .outerjoin(peps, same(peps))
             .group_by(roll.c.i))
    found = {int(row["i"]): Figures.of(row) for row in session.execute(query).mappings()}
    return [found.get(i, Figures()) for i in range(len(periods))]
