"""The roll's vocabulary and its SQL pieces: allowed filter values with their labels, the year groups
as ranges of birth dates, and the correlated expressions for a child's current placement, latest PEP,
attendance and suspensions this academic year (casework/roll.py puts them together).

Year groups and key stages are decided on the date of birth: a year group is the children born
between 1 September and 31 August of one year (casework/schoolyear.py), so a filter on year groups is
a range of dates the database can use an index for, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import aliased

from .records import DISTANCES, LEGAL_STATUSES, PLACEMENT_TYPES, SCHOOL_TYPES, Child, Pep, Placement
from .school_data import AttendanceRecord, Suspension
from .schoolyear import academic_year_start

KEY_STAGES: dict[str, tuple[str, int | None, int]] = {
    "eyfs": ("Early years foundation stage", None, 0),
    "ks1": ("Key stage 1", 1, 2),
    "ks2": ("Key stage 2", 3, 6),
    "ks3": ("Key stage 3", 7, 9),
    "ks4": ("Key stage 4", 10, 11),
    "ks5": ("Key stage 5 (post-16)", 12, 13),
}
"""Key stage -> its label and its first and last year groups (None: every year before Reception)."""
YEAR_GROUPS = range(-2, 14)
SEN_STATUSES = {"none": "No SEN", "sen_support": "SEN support", "ehc_plan": "EHC plan",
                "assessment_in_progress": "EHC needs assessment in progress"}
AREAS = {"in": "In the authority's area", "out": "Out of area"}
PEP_STATUSES = {"not_started": "Not started", "in_progress": "In progress", "submitted": "Submitted",
                "returned": "Returned for changes", "complete": "Complete", "cancelled": "Cancelled",
                "none": "No PEP yet"}
RAGS = {"red": "Red", "amber": "Amber", "green": "Green"}
ATTENDANCE_BANDS = {"persistent": "Persistently absent (10% or more missed)",
                    "severe": "Severely absent (50% or more missed)",
                    "ok": "Attending (less than 10% missed)", "no_data": "No attendance recorded"}
YES = {"yes": "Yes"}
LEFT_CARE = {"include": "Include previously looked-after children", "only": "Only children who left care"}
SORTS = {"name": "Name", "ref": "Reference", "year_group": "Year group", "school": "School",
         "attendance": "Attendance", "next_pep": "PEP due"}
ORDERS = {"asc": "ascending", "desc": "descending"}
SCHOOL_TYPE_LABELS = dict(SCHOOL_TYPES)
PLACEMENT_LABELS = dict(PLACEMENT_TYPES)
LEGAL_LABELS = dict(LEGAL_STATUSES)
DISTANCE_LABELS = dict(DISTANCES)


def year_group_label(year: int) -> str:
    if year < -1:
        return "Early years"
    if year == -1:
        return "Nursery"
    if year == 0:
        return "Reception"
    return f"Year {year}"


def key_stage_of(year: int) -> str:
    return next((k for k, (_, first, last) in KEY_STAGES.items() if (first is None or year >= first)
                 and year <= last), "post_18")


def year_span(first: int | None, last: int, today: date) -> ColumnElement[bool]:
    """Children in year groups ``first``..``last`` on ``today`` (``first`` None: no lower bound): born from
    1 September ``S - last - 5`` to 31 August ``S - first - 4``, S being the year the academic year starts."""
    start = academic_year_start(today).year
    condition = Child.date_of_birth >= date(start - last - 5, 9, 1)
    if first is None:
        return condition
    return and_(condition, Child.date_of_birth <= date(start - first - 4, 8, 31))


def years_before(today: date, years: int) -> date:
    """The same day ``years`` earlier (29 February -> 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def school_year_bounds(today: date) -> tuple[date, date]:
    """The academic year ``today`` is in: [1 September, next 1 September)."""
    start = academic_year_start(today)
    return start, start.replace(year=start.year + 1)


def current_placement_id(today: date) -> Any:
    """The child's placement on ``today`` (started, not ended), correlated to :class:`Child`."""
    p = aliased(Placement)
    return (select(func.max(p.id))
            .where(p.child_id == Child.id, p.starts_on <= today, or_(p.ends_on.is_(None), p.ends_on > today))
            .correlate(Child).scalar_subquery())


def latest_pep_id(rated: bool = False) -> Any:
    """The child's latest PEP (``rated``: the latest that has a RAG rating), correlated to :class:`Child`."""
    p = aliased(Pep)
    query = select(func.max(p.id)).where(p.child_id == Child.id)
    if rated:
        query = query.where(p.rag.is_not(None))
    return query.correlate(Child).scalar_subquery()


def attendance_totals(today: date) -> Any:
    """Possible and attended sessions of each child in this academic year (periods starting in it)."""
    start, end = school_year_bounds(today)
    return (select(AttendanceRecord.child_id.label("child_id"),
                   func.sum(AttendanceRecord.possible_sessions).label("possible"),
                   func.sum(AttendanceRecord.attended_sessions).label("attended"))
            .where(AttendanceRecord.period_start >= start, AttendanceRecord.period_start < end)
            .group_by(AttendanceRecord.child_id))


def attendance_band_condition(band: str, today: date) -> ColumnElement[bool]:
    """Children in an attendance band this academic year (DfE: missed = possible - attended sessions;
    persistently absent: missed 10% or more of possible sessions, which includes the severely absent;
    severely absent: 50% or more)."""
    possible = func.sum(AttendanceRecord.possible_sessions)
    missed = possible - func.sum(AttendanceRecord.attended_sessions)
    having: dict[str, ColumnElement[bool]] = {
        "persistent": missed * 10 >= possible, "severe": missed * 2 >= possible, "ok": missed * 10 < possible,
        "no_data": possible > 0,
    }
    ids = attendance_totals(today).with_only_columns(AttendanceRecord.child_id).having(
        and_(possible > 0, having[band]))
    return Child.id.not_in(ids) if band == "no_data" else Child.id.in_(ids)


def attendance_band(possible: int | None, attended: int | None) -> str:
    """The band of one child's totals (a child is in one band here: severe before persistent)."""
    if not possible:
        return "no_data"
    missed = possible - (attended or 0)
    if missed * 2 >= possible:
        return "severe"
    return "persistent" if missed * 10 >= possible else "ok"


def suspension_days(today: date) -> Any:
    """Days of suspension of each child that started this academic year (permanent exclusions aside)."""
    start, end = school_year_bounds(today)
    return (select(Suspension.child_id.label("child_id"), func.sum(Suspension.days).label("days"))
            .where(Suspension.kind == "suspension", Suspension.starts_on >= start, Suspension.starts_on < end)
            .group_by(Suspension.child_id))


@dataclass(frozen=True)
class RollRow:
    ref: str
    name: str
    date_of_birth: date
    age: int
    year_group: int
    year_group_label: str
    key_stage: str
    school_urn: str | None
    school_name: str | None
    school_type: str | None
    area: str | None
    placement_type: str | None
    legal_status: str
    sen_status: str
    social_worker: str | None
    social_worker_name: str | None
    team: str | None
    pep_status: str
    next_pep: date | None
    rag: str | None
    attendance_percent: float | None
    attendance_band: str
    suspended_days: float
    left_care_on: date | None


EXPORT_HEADERS = [
    "Child reference", "First and last name", "Date of birth", "Age", "Year group", "Key stage", "School URN",
    "School", "School type", "In or out of area", "Placement type", "Legal status", "SEN status",
    "Social worker", "Team", "Latest PEP status", "Latest PEP due", "Latest PEP rating (RAG)",
    "Attendance this academic year (%)", "Attendance band", "Days suspended this academic year",
    "Left care on",
]
"""The columns of an export of the roll, labelled for people."""


def export_values(row: RollRow) -> list[str | int | float | date | None]:
    """One row of an export: codes as their labels, numbers as numbers, dates as dates."""
    return [
        row.ref, row.name, row.date_of_birth, row.age, row.year_group_label,
        KEY_STAGES[row.key_stage][0] if row.key_stage in KEY_STAGES else "Post-18", row.school_urn,
        row.school_name, SCHOOL_TYPE_LABELS.get(row.school_type or "", row.school_type),
        AREAS.get(row.area or ""), PLACEMENT_LABELS.get(row.placement_type or "", row.placement_type),
        f"{row.legal_status}: {LEGAL_LABELS.get(row.legal_status, '')}".rstrip(": "),
        SEN_STATUSES.get(row.sen_status, row.sen_status), row.social_worker_name or row.social_worker, row.team,
        PEP_STATUSES.get(row.pep_status, row.pep_status), row.next_pep, RAGS.get(row.rag or ""),
        row.attendance_percent, ATTENDANCE_BANDS[row.attendance_band], row.suspended_days, row.left_care_on,
    ]
