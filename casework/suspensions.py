"""Suspensions and permanent exclusions, recorded on a child's record or imported from CSV.

The rules are the DfE's ("Suspension and permanent exclusion from maintained schools, academies and pupil
referral units in England", statutory guidance; docs/cohort.md, "Suspensions and exclusions"): a suspension
is for a fixed number of school days (halves allowed), and a pupil may be suspended for at most 45 school
days in an academic year (the head teacher's limit, so counted per school); each has a reason category of
the school census. A permanent exclusion has no days; it is also written as the
:class:`~casework.records.PermanentExclusion` the admission-direction rule reads (School Standards and
Framework Act 1998 s97A: no direction to a school that permanently excluded the child), so both agree.

The import key is (child, school, start date, kind): the same file twice changes nothing, a corrected file
replaces the days and reason of the rows it holds, a file with any error changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import InvalidData

from .children import ChildService
from .csv_import import (
    ImportPreview,
    Row,
    children_by_key,
    decode,
    find_child,
    parse_date,
    plausible_date_problem,
    read_csv,
)
from .records import Child, PermanentExclusion, School, audit_change
from .school_data import EXCLUSION_REASONS, SUSPENSION_KINDS, Suspension
from .schoolyear import academic_year_label, academic_year_start

KIND = "suspensions"
YEAR_LIMIT = 45.0
"""School days a pupil may be suspended for in one academic year (DfE)."""
COLUMNS = ("kind", "school_urn", "start_date", "reason")
OPTIONAL = ("days",)
CHILD_COLUMNS = ("upn", "child_ref")
REASONS = dict(EXCLUSION_REASONS)
KIND_LABELS = {"suspension": "Suspension", "permanent_exclusion": "Permanent exclusion"}
Key = tuple[int, str, date, str]


def check(values: dict[str, Any], today: date) -> dict[str, str]:
    """The problems of one suspension's fields, by field (schools and the yearly limit are checked apart)."""
    problems: dict[str, str] = {}
    kind = values.get("kind")
    if kind not in SUSPENSION_KINDS:
        problems["kind"] = "Choose suspension or permanent exclusion (suspension or permanent_exclusion)"
    starts = values.get("starts_on")
    if not isinstance(starts, date):
        problems["starts_on"] = "Enter the date it starts, like 27/3/2026"
    else:
        problem = plausible_date_problem(starts, today)
        if problem:
            problems["starts_on"] = problem
    days = values.get("days")
    if kind == "suspension":
        if not isinstance(days, float) or not 0.5 <= days <= YEAR_LIMIT or (days * 2) % 1:
            problems["days"] = f"Enter the school days of the suspension, from 0.5 to {YEAR_LIMIT:g} in halves"
    elif kind == "permanent_exclusion" and days not in (None, 0.0):
        problems["days"] = "A permanent exclusion has no days: leave days blank or 0"
    if values.get("reason") not in REASONS:
        problems["reason"] = "Choose a reason category, like PD (persistent disruptive behaviour)"
    if not re.fullmatch(r"\d{6}", str(values.get("school_urn") or "")):
        problems["school_urn"] = "Enter the school's URN: 6 digits, like 123456"
    return problems


def parse_days(text: str) -> float | None:
    if not text:
        return None
    try:
        return float(text) if re.fullmatch(r"\d{1,3}(\.\d{1,2})?", text) else -1.0
    except ValueError:
        return -1.0


def _over_limit(existing_days: float, days: float, year: str, urn: str) -> str:
    return (f"A pupil may be suspended for at most {YEAR_LIMIT:g} school days in an academic year: with "
            f"{existing_days:g} already recorded at school {urn} in {year}, {days:g} more would make "
            f"{existing_days + days:g}")


def days_this_year(session: Session, child_id: int, school_urn: str, on: date, leave_out: int | None = None) -> float:
    start = academic_year_start(on)
    query = select(func.coalesce(func.sum(Suspension.days), 0.0)).where(
        Suspension.child_id == child_id, Suspension.school_urn == school_urn, Suspension.kind == "suspension",
        Suspension.starts_on >= start, Suspension.starts_on < start.replace(year=start.year + 1))
    if leave_out is not None:
        query = query.where(Suspension.id != leave_out)
    return float(session.scalar(query) or 0.0)


def record(session: Session, clock: Clock, ref: str, actor: str, **values: Any) -> Suspension:
    """Record one suspension or permanent exclusion on the child's record; InvalidData names each field."""
    children = ChildService(session, clock)
    child = children.get(ref)
    problems = check(values, clock.now().date())
    urn = str(values.get("school_urn") or "")
    if "school_urn" not in problems and session.get(School, urn) is None:
        problems["school_urn"] = f"No school with URN {urn} is recorded"
    if not problems and values["kind"] == "suspension":
        before = days_this_year(session, child.id, urn, values["starts_on"])
        if before + values["days"] > YEAR_LIMIT:
            problems["days"] = _over_limit(before, values["days"], academic_year_label(values["starts_on"]), urn)
    if problems:
        raise InvalidData({name: [reason] for name, reason in problems.items()})
    same = select(Suspension.id).where(Suspension.child_id == child.id, Suspension.school_urn == urn,
                                       Suspension.starts_on == values["starts_on"], Suspension.kind == values["kind"])
    if session.scalars(same).first() is not None:
        raise InvalidData({"starts_on": [f"A {KIND_LABELS[values['kind']].lower()} from this school starting that "
                                         "day is already recorded"]})
    if values["kind"] == "permanent_exclusion":
        on = session.scalars(select(PermanentExclusion.excluded_on).where(
            PermanentExclusion.child_id == child.id, PermanentExclusion.school_urn == urn)).first()
        if on is None:
            children.record_permanent_exclusion(ref, urn, values["starts_on"], actor)
        elif on != values["starts_on"]:
            raise InvalidData({"starts_on": [f"{child.full_name} is already recorded as permanently excluded "
                                             f"from this school on {on:%d/%m/%Y}"]})
    now = clock.now()
    row = Suspension(child_id=child.id, kind=values["kind"], school_urn=urn, starts_on=values["starts_on"],
                     days=values.get("days") or 0.0, reason=values["reason"], recorded_at=now, recorded_by=actor)
    session.add(row)
    session.flush()
    audit_change(session, now, actor, "suspension.recorded", ref,
                 {"kind": row.kind, "school_urn": urn, "starts_on": row.starts_on, "days": row.days,
                  "reason": row.reason})
    return row


# -- the import -----------------------------------------------------------------------------------------


def _values(row: Row, result: ImportPreview, today: date) -> dict[str, Any] | None:
    text = row.get("start_date")
    values: dict[str, Any] = {"kind": row.get("kind").lower(), "school_urn": row.get("school_urn"),
                              "starts_on": parse_date(text), "days": parse_days(row.get("days")),
                              "reason": row.get("reason").upper()}
    problems = check(values, today)
    if values["starts_on"] is None and text:
        problems["starts_on"] = f"{text!r} is not a date written YYYY-MM-DD or DD/MM/YYYY"
    for name, reason in problems.items():
        result.error(row.line, {"starts_on": "start_date"}.get(name, name), reason)
    return None if problems else values


def preview(session: Session, la_code: str, text: str, today: date) -> ImportPreview:
    """What importing ``text`` would do for the authority ``la_code``: nothing is written."""
    _, rows = read_csv(text, COLUMNS, OPTIONAL, one_of=CHILD_COLUMNS)
    result = ImportPreview(KIND)
    refs, upns = children_by_key(session, la_code)
    schools = set(session.scalars(select(School.urn)))
    wanted: dict[Key, dict[str, Any]] = {}
    lines: dict[Key, int] = {}
    for row in rows:
        result.rows += 1
        child_id = find_child(row, refs, upns, result)
        values = _values(row, result, today)
        if values is not None and values["school_urn"] not in schools:
            result.error(row.line, "school_urn", f"No school with URN {values['school_urn']} is recorded")
            values = None
        if child_id is None or values is None:
            continue
        key = (child_id, values["school_urn"], values["starts_on"], values["kind"])
        if key in lines:
            result.error(row.line, "start_date", f"The same child, school, start date and kind is on line {lines[key]} too")
            continue
        lines[key] = row.line
        wanted[key] = {"child_id": child_id, **values, "days": values["days"] or 0.0}
    if wanted:
        _compare(session, la_code, wanted, lines, result)
    return result


def _compare(session: Session, la_code: str, wanted: dict[Key, dict[str, Any]], lines: dict[Key, int],
             result: ImportPreview) -> None:
    """New, changed or unchanged against what is recorded; then the yearly limit and the permanent
    exclusions, over what the authority's records would hold once the file is applied."""
    first = min(k[2] for k in wanted)
    query = (select(Suspension).join(Child, Child.id == Suspension.child_id)
             .where(Child.la_code == la_code, Suspension.starts_on >= academic_year_start(first)))
    recorded = {(s.child_id, s.school_urn or "", s.starts_on, s.kind): s for s in session.scalars(query)}
    totals: dict[tuple[int, str, date], float] = defaultdict(float)
    for key, old in recorded.items():
        if key not in wanted and old.kind == "suspension":
            totals[(old.child_id, key[1], academic_year_start(old.starts_on))] += old.days
    for key, values in sorted(wanted.items(), key=lambda item: lines[item[0]]):
        found = recorded.get(key)
        if found is None:
            result.add.append(values)
        elif found.days == values["days"] and found.reason == values["reason"]:
            result.unchanged += 1
        else:
            result.replace.append({"id": found.id, "days": values["days"], "reason": values["reason"]})
        if values["kind"] == "suspension":
            year = (key[0], key[1], academic_year_start(key[2]))
            if totals[year] + values["days"] > YEAR_LIMIT:
                result.error(lines[key], "days", _over_limit(totals[year], values["days"],
                                                             academic_year_label(key[2]), key[1]))
            totals[year] += values["days"]
    excluded = {(e.child_id, e.school_urn): e.excluded_on for e in session.scalars(
        select(PermanentExclusion).join(Child, Child.id == PermanentExclusion.child_id)
        .where(Child.la_code == la_code))}
    for key in wanted:
        on = excluded.get((key[0], key[1]))
        if key[3] == "permanent_exclusion" and on is not None and on != key[2]:
            result.error(lines[key], "start_date", f"The child is already recorded as permanently excluded from "
                                                   f"school {key[1]} on {on:%d/%m/%Y}")
        if key[3] == "permanent_exclusion":
            excluded.setdefault((key[0], key[1]), key[2])
    if not result.ok:
        result.add, result.replace, result.unchanged = [], [], 0


def apply(session: Session, clock: Clock, la_code: str, text: str, actor: str) -> ImportPreview:
    """Import the file: all of it, or (any error) nothing, raising InvalidData. Idempotent."""
    result = preview(session, la_code, text, clock.now().date())
    if not result.ok:
        raise InvalidData({"file": [f"{result.error_count} rows have errors: nothing was imported"]})
    now = clock.now()
    if result.add:
        session.execute(insert(Suspension), [{**v, "recorded_at": now, "recorded_by": actor} for v in result.add])
        exclusions = [{"child_id": v["child_id"], "school_urn": v["school_urn"], "excluded_on": v["starts_on"]}
                      for v in result.add if v["kind"] == "permanent_exclusion"]
        known = {(r.child_id, r.school_urn) for r in session.execute(
            select(PermanentExclusion.child_id, PermanentExclusion.school_urn)
            .join(Child, Child.id == PermanentExclusion.child_id).where(Child.la_code == la_code))}
        exclusions = [e for e in exclusions if (e["child_id"], e["school_urn"]) not in known]
        if exclusions:
            session.execute(insert(PermanentExclusion), exclusions)
            refs = {r.id: r.ref for r in session.execute(select(Child.id, Child.ref).where(
                Child.id.in_({e["child_id"] for e in exclusions})))}
            for e in exclusions:  # as ChildService.record_permanent_exclusion audits one
                audit_change(session, now, actor, "child.permanently_excluded", refs[e["child_id"]],
                             {"school_urn": e["school_urn"], "excluded_on": e["excluded_on"]})
    if result.replace:
        session.execute(update(Suspension), [{**v, "recorded_at": now, "recorded_by": actor} for v in result.replace])
    session.flush()
    audit_change(session, now, actor, "suspensions.imported", None,
                 {"la_code": la_code, "rows": result.rows, "added": len(result.add),
                  "replaced": len(result.replace), "unchanged": result.unchanged})
    return result


def import_bytes(session: Session, clock: Clock, la_code: str, data: bytes, actor: str) -> ImportPreview:
    return apply(session, clock, la_code, decode(data), actor)


@dataclass(frozen=True)
class ChildSuspensions:
    rows: list[Suspension]

    @property
    def days(self) -> float:
        return sum(s.days for s in self.rows if s.kind == "suspension")


def for_child(session: Session, child_id: int, today: date) -> ChildSuspensions:
    """The child's suspensions and permanent exclusions this academic year, newest first."""
    query = (select(Suspension).where(Suspension.child_id == child_id,
                                      Suspension.starts_on >= academic_year_start(today))
             .order_by(Suspension.starts_on.desc(), Suspension.id.desc()))
    return ChildSuspensions(list(session.scalars(query)))
