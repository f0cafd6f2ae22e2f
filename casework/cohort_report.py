"""The virtual school head's annual report for an academic year, for the corporate parenting board.

The cohort's profile (ages, key stages, legal statuses, placement types, time in care), where the
children live and go to school, and how they are doing (attendance, suspensions and exclusions,
attainment against target and key stage results, PEP compliance): tables counted in SQL (GROUP BY, one
query each), with short sentences written from the numbers. Definitions: docs/cohort.md, "The annual report".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from . import roll_columns as rc
from .cohort import Dashboard, dashboard
from .cohort_figures import percent
from .cohort_period import year_period
from .cohort_sql import key_stage, on_roll, years_before
from .cohort_tables import Table
from .records import LEGAL_STATUSES, PLACEMENT_TYPES, SCHOOL_TYPES, Child, Placement, School
from .school_data import SUBJECTS, Attainment

AGE_BANDS = [("Under 5", 0, 4), ("5 to 10", 5, 10), ("11 to 15", 11, 15), ("16 and 17", 16, 17), ("18 and over", 18, 99)]
CARE_BANDS = [("Less than 1 year", 0, 1), ("1 to 2 years", 1, 2), ("2 to 5 years", 2, 5), ("5 years or more", 5, 99)]
TA_RANK = {"below": 0, "towards": 1, "expected": 2, "greater_depth": 3}


@dataclass(frozen=True)
class Section:
    heading: str
    sentences: list[str]
    tables: list[Table]


@dataclass(frozen=True)
class Report:
    year: str
    as_of: date
    board: Dashboard
    sections: list[Section]


def _band(column: Any, bands: list[tuple[str, int, int]], as_of: date) -> Any:
    """The band label of a date column: ``bands`` of whole years before ``as_of`` (upper bound excluded
    for time in care, included for ages)."""
    return case(*((column > years_before(as_of, high + 1), label) for label, _low, high in bands[:-1]),
                else_=bands[-1][0])


def _care_band(column: Any, as_of: date) -> Any:
    return case(*((column > years_before(as_of, high), label) for label, _low, high in CARE_BANDS[:-1]),
                else_=CARE_BANDS[-1][0])


def _count(session: Session, visible: ColumnElement[bool], as_of: date, column: Any, *joins: Any) -> dict[str, int]:
    query = select(column.label("value"), func.count()).select_from(Child)
    for target, on in joins:
        query = query.outerjoin(target, on)
    query = query.where(visible, on_roll(as_of)).group_by(column)
    return {str(value) if value is not None else "": int(n) for value, n in session.execute(query)}


def _table(name: str, title: str, heading: str, counts: dict[str, int], labels: list[tuple[str, str]],
           missing: str = "Not recorded") -> Table:
    total = sum(counts.values())
    rows: list[list[str | int | float | None]] = [
        [label, counts[value], percent(counts[value], total)] for value, label in labels if counts.get(value)]
    known = {value for value, _ in labels}
    rows += [[missing if not value else value, n, percent(n, total)] for value, n in counts.items()
             if value not in known]
    return Table(name, title, [heading, "Children", "%"], rows, [[] for _ in rows])


def _share(part: int, whole: int) -> str:
    value = percent(part, whole)
    return "none" if value is None else f"{part} ({value}%)"


def annual_report(session: Session, visible: ColumnElement[bool], year: str, today: date, *,
                  la_code: str | None = None, escalation_kinds: Any = None) -> Report:
    period = year_period(year)
    board = dashboard(session, visible, period, today, la_code=la_code, escalation_kinds=escalation_kinds)
    as_of, f = board.as_of, board.total
    place, school = aliased(Placement), aliased(School)
    placement_join = (place, place.id == rc.current_placement_id(as_of))
    ages = _count(session, visible, as_of, _band(Child.date_of_birth, AGE_BANDS, as_of))
    stages = _count(session, visible, as_of, key_stage(as_of))
    legal = _count(session, visible, as_of, Child.legal_status)
    placements = _count(session, visible, as_of, place.placement_type, placement_join)
    in_care = _count(session, visible, as_of, _care_band(Child.looked_after_since, as_of))
    school_types = _count(session, visible, as_of, school.school_type, (school, school.urn == Child.school_urn))
    band_labels = [(b[0], b[0]) for b in AGE_BANDS]
    stage_labels = [(k, v[0]) for k, v in rc.KEY_STAGES.items()]
    profile = Section("The cohort", [
        f"On {as_of:%-d %B %Y} the Virtual School had {f.children} children on its roll.",
        f"{_share(stages.get('ks4', 0), f.children)} were in key stage 4 and "
        f"{_share(stages.get('ks5', 0), f.children)} were post-16.",
        f"{_share(f.sen_support, f.children)} had SEN support and {_share(f.ehcp, f.children)} an EHC plan.",
    ], [
        _table("ages", "Ages", "Age", ages, band_labels),
        _table("key_stages", "Key stages", "Key stage", stages, stage_labels),
        _table("legal_statuses", "Legal statuses", "Legal status", legal, LEGAL_STATUSES),
        _table("placement_types", "Placement types", "Placement", placements, PLACEMENT_TYPES),
        _table("time_in_care", "Time in care", "Looked after for", in_care, [(b[0], b[0]) for b in CARE_BANDS]),
    ])
    areas = {g.value or "": g.figures.children for g in board.breakdowns["area"]}
    schools = {g.label: g.figures.children for g in board.breakdowns["school"]}
    where = Section("Where they live and go to school", [
        f"{_share(f.out_of_area, f.children)} lived out of the authority's area.",
        f"{_share(f.no_school, f.children)} had no school place on {as_of:%-d %B %Y}.",
        f"The children attended {len([s for s in board.breakdowns['school'] if s.value])} schools.",
    ], [
        _table("areas", "Where they live", "Area", areas, [("in", "In the authority's area"), ("out", "Out of area")],
               "No placement recorded"),
        _table("school_types", "School types", "School type", school_types, SCHOOL_TYPES, "No school place"),
        _table("schools", "Schools", "School", schools, []),
    ])
    doing = Section("How they are doing", _doing_sentences(board), [
        Table("attendance", "Attendance by key stage", ["Key stage", "Children with attendance", "Attendance %",
                                                        "Persistently absent %", "Severely absent %"],
              [[g.label, g.figures.with_attendance, g.figures.attendance_percent, g.figures.persistent_percent,
                g.figures.severe_percent] for g in board.breakdowns["key_stage"]]),
        Table("exclusions", "Suspensions and permanent exclusions", ["Figure", "Value"],
              [["Children suspended", f.suspended], ["Days of suspension", f.suspension_days],
               ["Permanently excluded", f.excluded]]),
        _assessments(session, visible, as_of, year),
        _results(session, visible, as_of, year),
        Table("peps", "PEP compliance", ["Figure", "Due", "Done", "%"],
              [["Initial PEPs in timescale", f.initial_due, f.initial_on_time, f.initial_percent],
               ["Termly PEPs complete", f.termly_due, f.termly_done, f.termly_percent]]),
    ])
    return Report(year, as_of, board, [profile, where, doing])


def _doing_sentences(board: Dashboard) -> list[str]:
    f = board.total
    said = [f"Attendance was {f.attendance_percent}% of possible sessions for the {f.with_attendance} children "
            f"with attendance recorded." if f.attendance_percent is not None else "No attendance was recorded.",
            f"{_share(f.persistent, f.with_attendance)} were persistently absent and "
            f"{_share(f.severe, f.with_attendance)} severely absent.",
            f"{f.suspended} {'child was' if f.suspended == 1 else 'children were'} suspended, for "
            f"{f.suspension_days:g} days in all; {f.excluded} permanently excluded."]
    if f.termly_due:
        said.append(f"{f.termly_done} of {f.termly_due} termly PEPs were completed ({f.termly_percent}%).")
    if f.initial_due:
        said.append(f"{f.initial_on_time} of {f.initial_due} initial PEPs were completed in timescale "
                    f"({f.initial_percent}%).")
    return said


def _assessments(session: Session, visible: ColumnElement[bool], as_of: date, year: str) -> Table:
    """Termly teacher assessments and GCSE working-at grades, at or above their target, by term and subject."""
    rank_value = case(*((Attainment.value == k, v) for k, v in TA_RANK.items()), else_=-1)
    rank_target = case(*((Attainment.target == k, v) for k, v in TA_RANK.items()), else_=99)
    met = case((Attainment.kind == "gcse_working_at", case((Attainment.value >= Attainment.target, 1), else_=0)),
               else_=case((rank_value >= rank_target, 1), else_=0))
    query = (select(Attainment.term, Attainment.subject, func.count(), func.sum(met)).join(Child, Child.id ==
             Attainment.child_id).where(visible, on_roll(as_of), Attainment.academic_year == year,
                                        Attainment.kind.in_(("teacher_assessment", "gcse_working_at")),
                                        Attainment.target.is_not(None))
             .group_by(Attainment.term, Attainment.subject))
    subjects, order = dict(SUBJECTS), {"autumn": 0, "spring": 1, "summer": 2}
    rows = sorted(session.execute(query).all(), key=lambda r: (order.get(r[0], 9), str(r[1])))
    body: list[list[str | int | float | None]] = [
        [str(term).title(), subjects.get(str(subject), str(subject)), int(n), int(hit or 0), percent(int(hit or 0), int(n))]
        for term, subject, n, hit in rows]
    return Table("attainment", "Attainment against target", ["Term", "Subject", "Assessed", "At or above target",
                                                              "%"], body, [[] for _ in body])


def _results(session: Session, visible: ColumnElement[bool], as_of: date, year: str) -> Table:
    """End-of-key-stage results: EYFS good level of development and KS2 expected standard (met), KS4
    grades in English and maths (4 or above, 5 or above)."""
    passed = case((Attainment.value == "met", 1), (Attainment.value.in_(tuple("456789")), 1), else_=0)
    strong = case((Attainment.value.in_(tuple("56789")), 1), else_=0)
    query = (select(Attainment.subject, func.count(), func.sum(passed), func.sum(strong))
             .join(Child, Child.id == Attainment.child_id)
             .where(visible, on_roll(as_of), Attainment.academic_year == year, Attainment.kind == "ks_result")
             .group_by(Attainment.subject).order_by(Attainment.subject))
    subjects = dict(SUBJECTS)
    body: list[list[str | int | float | None]] = [
        [subjects.get(str(s), str(s)), int(n), int(p or 0), percent(int(p or 0), int(n)), int(g or 0)]
        for s, n, p, g in session.execute(query)]
    return Table("results", "Key stage results", ["Subject", "Results", "Met the standard (KS4: grade 4 or above)",
                                                  "%", "KS4: grade 5 or above"], body, [[] for _ in body])
