"""Attendance: sessions possible, attended and missed, per child and period, recorded or imported from CSV.

A session is half a school day (two a day). For each period (a week or a half term) a school reports the
sessions possible and how each was spent: attended, authorised absence or unauthorised absence, so
possible = attended + authorised + unauthorised, and a period of n school days has at most 2n sessions.
The DfE's measures follow (docs/cohort.md, "Importing attendance"): attendance % = attended / possible;
persistently absent = missing 10% or more of possible sessions; severely absent = missing 50% or more.

The import (:func:`preview`, :func:`apply`) matches rows to the authority's children by UPN or case
reference and upserts by (child, period): the same file twice changes nothing, a corrected file replaces
the periods it holds, and a file with any error changes nothing. Everything is read and written in a few
bulk statements, never a query per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidData

from . import attendance_summary
from .children import ChildService
from .csv_import import (
    URN,
    ImportPreview,
    Row,
    children_by_key,
    decode,
    find_child,
    parse_date,
    plausible_date_problem,
    read_csv,
)
from .records import Child, audit_change
from .school_data import AttendanceRecord
from .schoolyear import academic_year_start

KIND = "attendance"
COUNTS = ("possible_sessions", "attended_sessions", "authorised_absence", "unauthorised_absence")
COLUMNS = ("period_start", "period_end", *COUNTS)
OPTIONAL = ("school_urn",)
CHILD_COLUMNS = ("upn", "child_ref")
COUNT = re.compile(r"[0-9]{1,6}")
PERSISTENT, SEVERE = 0.10, 0.50
"""The DfE's thresholds of absence: persistently absent at 10% of possible sessions, severely at 50%."""
BANDS = {"ok": "Not persistently absent", "persistent": "Persistently absent", "severe": "Severely absent",
         "no_data": "No attendance recorded"}


@lru_cache(maxsize=4096)
def school_days(start: date, end: date) -> int:
    """Weekdays from ``start`` to ``end``, both included (the most a period can have)."""
    days = (end - start).days + 1
    weeks, rest = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(rest) if (start + timedelta(days=i)).weekday() < 5)


def check(values: dict[str, Any], today: date) -> dict[str, str]:
    """The problems of one period's figures, by field (empty: none). Dates are dates, counts whole numbers."""
    problems: dict[str, str] = {}
    start, end = values.get("period_start"), values.get("period_end")
    for name, day in (("period_start", start), ("period_end", end)):
        if isinstance(day, date):
            problem = plausible_date_problem(day, today)
            if problem:
                problems[name] = problem
    if isinstance(start, date) and isinstance(end, date) and end < start and "period_end" not in problems:
        problems["period_end"] = "The period must end on or after the day it starts"
    counts = {name: values.get(name) for name in COUNTS}
    for name, count in counts.items():
        if isinstance(count, int) and count < 0:
            problems[name] = "The number of sessions cannot be negative"
    if all(isinstance(c, int) and c >= 0 for c in counts.values()):
        possible = int(counts["possible_sessions"] or 0)
        spent = sum(int(counts[name] or 0) for name in COUNTS[1:])
        if possible != spent:
            problems["possible_sessions"] = (f"Possible sessions ({possible}) must equal attended plus authorised "
                                             f"and unauthorised absence ({spent})")
        elif isinstance(start, date) and isinstance(end, date) and end >= start:
            most = 2 * school_days(start, end)
            if possible > most:
                days = school_days(start, end)
                problems["possible_sessions"] = (f"A period of {days} school day{'s' if days != 1 else ''} has at "
                                                 f"most {most} sessions (two a day), not {possible}")
    urn = values.get("school_urn")
    if urn and not URN.match(str(urn)):
        problems["school_urn"] = "A URN is 6 digits, like 123456"
    return problems


def record(session: Session, clock: Clock, ref: str, actor: str, **values: Any) -> AttendanceRecord:
    """Record (or correct) one period's attendance for a child; InvalidData names each field's problem."""
    child = ChildService(session, clock).get(ref)  # NotFound for no such child
    problems = check(values, clock.now().date())
    if problems:
        raise InvalidData({name: [reason] for name, reason in problems.items()})
    now = clock.now()
    existing = session.scalars(select(AttendanceRecord).where(
        AttendanceRecord.child_id == child.id, AttendanceRecord.period_start == values["period_start"],
        AttendanceRecord.period_end == values["period_end"])).one_or_none()
    row = existing or AttendanceRecord(child_id=child.id, period_start=values["period_start"],
                                       period_end=values["period_end"])
    for name in COUNTS:
        setattr(row, name, int(values[name]))
    row.school_urn = values.get("school_urn") or None
    row.source, row.recorded_at = "manual", now
    session.add(row)
    session.flush()
    attendance_summary.refresh(session, child.la_code, [child.id])
    audit_change(session, now, actor, "attendance.recorded", ref,
                 {"period_start": values["period_start"], "period_end": values["period_end"]})
    return row


# -- the import -----------------------------------------------------------------------------------------


def _values(row: Row, preview: ImportPreview) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    fine = True
    for name in ("period_start", "period_end"):
        text = row.get(name)
        day = parse_date(text)
        if day is None:
            reason = "Enter the date" if not text else f"{text!r} is not a date written YYYY-MM-DD or DD/MM/YYYY"
            preview.error(row.line, name, reason)
            fine = False
        values[name] = day
    for name in COUNTS:
        text = row.get(name)
        if not COUNT.fullmatch(text):
            preview.error(row.line, name, "Enter a whole number of sessions, 0 or more" if not text.startswith("-")
                          else "The number of sessions cannot be negative")
            fine = False
            values[name] = None
        else:
            values[name] = int(text)
    values["school_urn"] = row.get("school_urn") or None
    return values if fine else None


def preview(session: Session, la_code: str, text: str, today: date) -> ImportPreview:
    """What importing ``text`` would do for the authority ``la_code``: nothing is written."""
    _, rows = read_csv(text, COLUMNS, OPTIONAL, one_of=CHILD_COLUMNS)
    result = ImportPreview(KIND)
    refs, upns = children_by_key(session, la_code)
    wanted: dict[tuple[int, date, date], dict[str, Any]] = {}
    first_line: dict[tuple[int, date, date], int] = {}
    for row in rows:
        result.rows += 1
        child_id = find_child(row, refs, upns, result)
        values = _values(row, result)
        if child_id is None or values is None:
            continue
        problems = check(values, today)
        for name, reason in problems.items():
            result.error(row.line, name, reason)
        key = (child_id, values["period_start"], values["period_end"])
        if key in first_line:
            result.error(row.line, "period_start", f"The same child and period is on line {first_line[key]} too")
            continue
        first_line[key] = row.line
        if not problems:
            wanted[key] = {"child_id": child_id, **values}
    if not result.ok or not wanted:
        return result
    _compare(session, la_code, wanted, first_line, result)
    return result


def _compare(session: Session, la_code: str, wanted: dict[tuple[int, date, date], dict[str, Any]],
             lines: dict[tuple[int, date, date], int], result: ImportPreview) -> None:
    """Sort the file's periods into new, changed and unchanged against what is recorded (one query)."""
    first = min(k[1] for k in wanted)
    last = max(k[2] for k in wanted)
    columns = [AttendanceRecord.id, AttendanceRecord.child_id, AttendanceRecord.period_start,
               AttendanceRecord.period_end, *(getattr(AttendanceRecord, n) for n in COUNTS),
               AttendanceRecord.school_urn]
    query = (select(*columns).join(Child, Child.id == AttendanceRecord.child_id)  # every period the file's touch
             .where(Child.la_code == la_code, AttendanceRecord.period_start <= last,
                    AttendanceRecord.period_end >= first))
    recorded = {(r.child_id, r.period_start, r.period_end): r for r in session.execute(query)}
    _overlaps(wanted, recorded, lines, result)
    for key, values in wanted.items():
        old = recorded.get(key)
        if old is None:
            result.add.append(values)
        elif all(getattr(old, n) == values[n] for n in (*COUNTS, "school_urn")):
            result.unchanged += 1
        else:
            result.replace.append({"id": old.id, **values})


def _overlaps(wanted: Collection[tuple[int, date, date]], recorded: Collection[tuple[int, date, date]],
              lines: dict[tuple[int, date, date], int], result: ImportPreview) -> None:
    """A period sharing a day with another of the same child's (in the file, or recorded and not replaced by
    the file) would count those days twice: an error on the file's line, naming the other period."""
    periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for child_id, start, end in {*wanted, *recorded}:
        periods[child_id].append((start, end))
    for child_id, spans in periods.items():
        spans.sort()
        widest: tuple[int, date, date] | None = None  # of the periods so far, the one ending last
        for start, end in spans:
            here = (child_id, start, end)
            if widest is not None and start <= widest[2]:
                _clash(here, widest, lines, result)
            if widest is None or end > widest[2]:
                widest = here


def _clash(one: tuple[int, date, date], other: tuple[int, date, date], lines: dict[tuple[int, date, date], int],
           result: ImportPreview) -> None:
    if one not in lines and other not in lines:
        return  # both recorded before this file: not the file's to correct
    if one not in lines or (other in lines and lines[other] > lines[one]):
        one, other = other, one  # the error goes on the file's (later) line
    where = f"on line {lines[other]}" if other in lines else "already recorded"
    result.error(lines[one], "period_start", f"The period {other[1].isoformat()} to {other[2].isoformat()} {where} "
                                             "shares days with this one: each day may be counted once")


def apply(session: Session, clock: Clock, la_code: str, text: str, actor: str) -> ImportPreview:
    """Import the file: all of it, or (any error) nothing, raising InvalidData. Idempotent."""
    result = preview(session, la_code, text, clock.now().date())
    if not result.ok:
        raise InvalidData({"file": [f"{result.error_count} rows have errors: nothing was imported"]})
    now = clock.now()
    if result.add:
        session.execute(insert(AttendanceRecord), [{**v, "source": "import", "recorded_at": now} for v in result.add])
    if result.replace:
        session.execute(update(AttendanceRecord), [{**v, "source": "import", "recorded_at": now}
                                                   for v in result.replace])
    session.flush()
    attendance_summary.refresh(session, la_code, {int(v["child_id"]) for v in (*result.add, *result.replace)})
    audit_change(session, now, actor, "attendance.imported", None,
                 {"la_code": la_code, "rows": result.rows, "added": len(result.add),
                  "replaced": len(result.replace), "unchanged": result.unchanged})
    return result


def import_bytes(session: Session, clock: Clock, la_code: str, data: bytes, actor: str) -> ImportPreview:
    return apply(session, clock, la_code, decode(data), actor)


# -- a child's attendance this year ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChildAttendance:
    possible: int
    attended: int
    periods: list[AttendanceRecord]

    @property
    def percent(self) -> float | None:
        return None if not self.possible else 100 * self.attended / self.possible

    @property
    def band(self) -> str:
        return band(self.possible, self.attended)


def band(possible: int, attended: int) -> str:
    """``no_data``, ``severe`` (missed 50% or more), ``persistent`` (10% or more) or ``ok``."""
    if possible <= 0:
        return "no_data"
    missed = (possible - attended) / possible
    return "severe" if missed >= SEVERE else "persistent" if missed >= PERSISTENT else "ok"


def for_child(session: Session, child_id: int, today: date, shown: int = 6) -> ChildAttendance:
    """The academic year's totals so far and the last ``shown`` periods recorded (any year)."""
    start = academic_year_start(today)
    possible, attended = session.execute(
        select(func.coalesce(func.sum(AttendanceRecord.possible_sessions), 0),
               func.coalesce(func.sum(AttendanceRecord.attended_sessions), 0))
        .where(and_(AttendanceRecord.child_id == child_id, AttendanceRecord.period_start >= start,
                    AttendanceRecord.period_start <= today))).one()
    periods = list(session.scalars(select(AttendanceRecord).where(AttendanceRecord.child_id == child_id)
                                   .order_by(AttendanceRecord.period_start.desc()).limit(shown)))
    return ChildAttendance(int(possible), int(attended), periods)
