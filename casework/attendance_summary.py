"""Each child's attendance summed per term (and per holiday stretch), kept beside the weekly records.

The cohort dashboard sums a term's or a year's attendance for every child on the roll, and the trend does
so for six terms: over three years of weekly rows (about 780,000 for 5,000 children) that is most of its
cost. ``attendance_summary`` holds one row per child, academic year and term (``term_starts_on``; NULL for
records that start outside any term), so a term is read as one row a child and a year as four at most.

It is a cache, never the record: :func:`refresh` recomputes a child's rows from ``attendance_record`` in one
``INSERT ... SELECT`` and is called wherever those rows or the authority's term dates change (the import,
a single period recorded on screen, the term dates replaced, the demo loader). Which term a record counts
in is decided here exactly as the dashboard decided it from the records: the term (of the child's
authority) in which the period *starts*; the academic year is the one (1 September to 31 August) in which
it starts. tests/casework/test_attendance_summary.py checks it against a plain recomputation.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    case,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.models import Base

from .records import Child
from .school_data import AttendanceRecord
from .terms import terms_of

_CHUNK = 5000  # children refreshed per statement (bounded statement parameters)


class AttendanceSummary(Base):
    """One child's sessions in one term of one academic year (``term_starts_on`` NULL: outside any term)."""

    __tablename__ = "attendance_summary"
    __table_args__ = (
        Index("ix_attendance_summary_term", "term_starts_on", "child_id"),
        Index("ix_attendance_summary_year", "year_start", "child_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    year_start: Mapped[int] = mapped_column(Integer)  # 2026 for 2026/27
    term_starts_on: Mapped[date | None] = mapped_column(Date)
    possible_sessions: Mapped[int] = mapped_column(Integer)
    attended_sessions: Mapped[int] = mapped_column(Integer)


def refresh(session: Session, la_code: str, child_ids: Collection[int] | None = None) -> int:
    """Recompute the summary of ``child_ids`` (all the authority's children if None) from their records;
    returns the number of summary rows written."""
    if child_ids is None:
        ids = list(session.scalars(select(Child.id).where(Child.la_code == la_code)))
    else:
        ids = sorted(set(child_ids))
    starts = AttendanceRecord.period_start
    terms = terms_of(session, la_code)
    term: ColumnElement[date | None] = case(
        *((starts.between(first, last), literal(first, Date)) for first, last in terms),
        else_=literal(None, Date)) if terms else literal(None, Date)
    month, year = extract("month", starts), extract("year", starts)
    academic = case((month >= 9, year), else_=year - 1)
    written = 0
    for first in range(0, len(ids), _CHUNK):
        chunk = ids[first:first + _CHUNK]
        session.execute(delete(AttendanceSummary).where(AttendanceSummary.child_id.in_(chunk)))
        grouped = (select(AttendanceRecord.child_id, academic, term, func.sum(AttendanceRecord.possible_sessions),
                          func.sum(AttendanceRecord.attended_sessions))
                   .where(AttendanceRecord.child_id.in_(chunk))
                   .group_by(AttendanceRecord.child_id, academic, term))
        session.execute(insert(AttendanceSummary).from_select(
            ["child_id", "year_start", "term_starts_on", "possible_sessions", "attended_sessions"], grouped))
        written += session.scalar(select(func.count()).where(AttendanceSummary.child_id.in_(chunk))) or 0
    session.flush()
    return written


def summed_in(starts_on: date, academic_year: str, whole_year: bool) -> ColumnElement[bool]:
    """The summary rows of a term (its first day) or of a whole academic year ("2026/27")."""
    if whole_year:
        return AttendanceSummary.year_start == int(academic_year[:4])
    return AttendanceSummary.term_starts_on == starts_on
