"""Attainment and post-16 education, employment or training: recorded from the PEP, by hand or imported.

One :class:`~casework.school_data.Attainment` row per child, academic year, term, subject and kind
(docs/cohort.md, "Attainment and post-16"):

- ``teacher_assessment``: a termly teacher assessment in reading, writing or maths (or English) against
  age-related expectations (``TEACHER_ASSESSMENTS``), with the target on the same scale;
- ``gcse_working_at``: at key stage 4, the GCSE grade (1-9) the pupil is working at in English or maths,
  with the target grade; ``gcse_target``: a target grade recorded on its own;
- ``ks_result``: an end-of-key-stage result, recorded in the summer term: the EYFS good level of development
  (``gld``: met or not met), the key stage 2 expected standard in reading, writing and maths (met or not
  met), and the key stage 4 grades in English and maths (1-9).

Recording the same thing again changes nothing (:func:`record` answers ``unchanged``). Services only
flush: the caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from processes.forms._attainment import (
    ASSESSED,
    EET_STATUSES,
    GCSE_GRADES,
    GCSE_SUBJECTS,
    SUBJECTS,
    TEACHER_ASSESSMENTS,
    assessment_field,
    gcse_field,
)
from processes.forms._pep_sections import SEN_SUPPORT_STATUSES

from .records import Child, Pep
from .school_data import ASSESSMENT_KINDS, Attainment, EetStatus

TERMS = ("autumn", "spring", "summer")
MET: list[tuple[str, str]] = [("met", "Met"), ("not_met", "Not met")]
KEY_STAGE_RESULTS: Mapping[str, Mapping[str, list[tuple[str, str]]]] = {
    "eyfs": {"gld": MET},
    "ks2": {"reading": MET, "writing": MET, "maths": MET},
    "ks4": {"english": GCSE_GRADES, "maths": GCSE_GRADES},
}
"""Key stage -> subject -> the results it may have: the measures the DfE publishes at the end of each."""
LABELS: Mapping[str, str] = {code: label for code, label in [*TEACHER_ASSESSMENTS, *GCSE_GRADES, *MET]}
SUBJECT_LABELS: Mapping[str, str] = dict(SUBJECTS)
EET_LABELS: Mapping[str, str] = dict(EET_STATUSES)


class AttainmentError(ValueError):
    """A value that is not a valid attainment record; the message names the field and the reason."""


def term_of(day: date) -> str:
    """The school term a day falls in: autumn (September to December), spring (January to March),
    summer (April to August)."""
    return "autumn" if day.month >= 9 else "spring" if day.month <= 3 else "summer"


def academic_year_error(text: str) -> str | None:
    """Why ``text`` is not an academic year like ``2026/27`` (None when it is one)."""
    start, _, end = text.partition("/")
    if not (len(start) == 4 and start.isdigit() and len(end) == 2 and end.isdigit()):
        return f"academic year ‘{text}’ must be written like 2026/27"
    if int(end) != (int(start) + 1) % 100:
        return f"academic year ‘{text}’ must be two years in a row, like 2026/27"
    return None


def _codes(choices: list[tuple[str, str]]) -> list[str]:
    return [code for code, _ in choices]


def value_error(subject: str, kind: str, value: str, target: str | None) -> str | None:
    """Why (subject, kind, value, target) is not a valid attainment record (None when it is)."""
    if kind not in ASSESSMENT_KINDS:
        return f"kind ‘{kind}’ must be one of {', '.join(ASSESSMENT_KINDS)}"
    if subject not in SUBJECT_LABELS:
        return f"subject ‘{subject}’ must be one of {', '.join(SUBJECT_LABELS)}"
    subjects: tuple[str, ...]
    if kind == "teacher_assessment":
        allowed, subjects = _codes(TEACHER_ASSESSMENTS), ("reading", "writing", "maths", "english")
    elif kind in ("gcse_working_at", "gcse_target"):
        allowed, subjects = _codes(GCSE_GRADES), ("english", "maths")
    else:
        results = [s for stage in KEY_STAGE_RESULTS.values() for s, _ in stage.items()]
        allowed = sorted({c for stage in KEY_STAGE_RESULTS.values() for c in _codes(stage.get(subject, []))})
        subjects = tuple(dict.fromkeys(results))
    if subject not in subjects:
        return f"subject ‘{subject}’ has no {kind} (only {', '.join(subjects)})"
    if value not in allowed:
        return f"value ‘{value}’ is not a {kind} in {subject} (one of {', '.join(allowed)})"
    if target and (kind not in ("teacher_assessment", "gcse_working_at") or target not in allowed):
        if kind not in ("teacher_assessment", "gcse_working_at"):
            return f"a {kind} has no target: leave the target blank"
        return f"target ‘{target}’ is not a {kind} in {subject} (one of {', '.join(allowed)})"
    return None


def record(session: Session, child_id: int, academic_year: str, term: str, subject: str, kind: str,
           value: str, target: str | None = None, *, at: datetime) -> str:
    """Record one assessment (the row for its child, year, term, subject and kind, made or replaced):
    ``new``, ``changed`` or ``unchanged``. A value that is not valid raises :class:`AttainmentError`."""
    problem = academic_year_error(academic_year) or (
        None if term in TERMS else f"term ‘{term}’ must be one of {', '.join(TERMS)}") or value_error(
        subject, kind, value, target)
    if problem:
        raise AttainmentError(problem[0].upper() + problem[1:])
    row = session.scalars(select(Attainment).where(
        Attainment.child_id == child_id, Attainment.academic_year == academic_year, Attainment.term == term,
        Attainment.subject == subject, Attainment.kind == kind)).one_or_none()
    target = target or None
    if row is None:
        session.add(Attainment(child_id=child_id, academic_year=academic_year, term=term, subject=subject,
                               kind=kind, value=value, target=target, recorded_at=at))
        session.flush()
        return "new"
    if (row.value, row.target) == (value, target):
        return "unchanged"
    row.value, row.target, row.recorded_at = value, target, at
    session.flush()
    return "changed"


def record_key_stage_result(session: Session, child_id: int, stage: str, academic_year: str, subject: str,
                            value: str, *, at: datetime) -> str:
    """Record an end-of-key-stage result (``stage``: eyfs, ks2 or ks4), in the summer term of its year."""
    subjects = KEY_STAGE_RESULTS.get(stage)
    if subjects is None:
        raise AttainmentError(f"Key stage ‘{stage}’ must be one of {', '.join(KEY_STAGE_RESULTS)}")
    if subject not in subjects:
        raise AttainmentError(f"Subject ‘{subject}’ has no {stage} result (only {', '.join(subjects)})")
    if value not in _codes(subjects[subject]):
        raise AttainmentError(f"Value ‘{value}’ is not a {stage} result in {subject} "
                              f"(one of {', '.join(_codes(subjects[subject]))})")
    return record(session, child_id, academic_year, "summer", subject, "ks_result", value, at=at)


def record_eet(session: Session, child_id: int, recorded_on: date, status: str, *, at: datetime) -> EetStatus:
    """Record a young person's education, employment or training status on a day (one row a day)."""
    if status not in EET_LABELS:
        raise AttainmentError(f"EET status ‘{status}’ must be one of {', '.join(EET_LABELS)}")
    row = session.scalars(select(EetStatus).where(EetStatus.child_id == child_id,
                                                  EetStatus.recorded_on == recorded_on)).first()
    if row is None:
        row = EetStatus(child_id=child_id, recorded_on=recorded_on, status=status, recorded_at=at)
        session.add(row)
    elif row.status != status:
        row.status, row.recorded_at = status, at
    session.flush()
    return row


def record_pep(session: Session, pep: Pep, answers: Mapping[str, Any], at: datetime) -> None:
    """Keep what a PEP's stage form settled: its teacher assessments or GCSE grades (for the PEP's academic
    year and term: a PEP without a term, such as an initial PEP, counts in the term of its meeting), the
    child's SEN status, and a post-16 young person's EET status on the day of the meeting."""
    child = session.get(Child, pep.child_id)
    if child is None:
        return
    meeting = _day(answers.get("meeting_date")) or at.date()
    term = pep.term or term_of(meeting)
    for subject, _ in ASSESSED:
        value = answers.get(assessment_field(subject, "assessment"))
        if value:
            target = answers.get(assessment_field(subject, "target"))
            record(session, child.id, pep.academic_year, term, subject, "teacher_assessment", str(value),
                   str(target) if target else None, at=at)
    for subject, _ in GCSE_SUBJECTS:
        working_at, target = answers.get(gcse_field(subject, "working_at")), answers.get(gcse_field(subject, "target"))
        if working_at:
            record(session, child.id, pep.academic_year, term, subject, "gcse_working_at", str(working_at),
                   str(target) if target else None, at=at)
        elif target:
            record(session, child.id, pep.academic_year, term, subject, "gcse_target", str(target), at=at)
    sen = answers.get("sen_support_status")
    if sen in _codes(SEN_SUPPORT_STATUSES) and child.sen_status != sen:
        child.sen_status = str(sen)
    eet = answers.get("eet_status")
    if eet:
        record_eet(session, child.id, meeting, str(eet), at=at)
    session.flush()


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# -- what a child's record shows ----------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    subject: str
    kind: str
    value: str
    target: str | None

    @property
    def subject_label(self) -> str:
        return SUBJECT_LABELS.get(self.subject, self.subject)

    @property
    def value_label(self) -> str:
        return LABELS.get(self.value, self.value)

    @property
    def target_label(self) -> str:
        return LABELS.get(self.target, self.target) if self.target else "No target"

    @property
    def against_target(self) -> str | None:
        """``at_or_above`` or ``below`` the target (None: no target, or not comparable)."""
        scale = _codes(TEACHER_ASSESSMENTS) if self.kind == "teacher_assessment" else None
        if self.target is None:
            return None
        if scale is not None and self.value in scale and self.target in scale:
            return "at_or_above" if scale.index(self.value) >= scale.index(self.target) else "below"
        if self.value.isdigit() and self.target.isdigit():
            return "at_or_above" if int(self.value) >= int(self.target) else "below"
        return None


@dataclass(frozen=True)
class ChildAttainment:
    """The child's latest termly assessments (one term), end-of-key-stage results, and latest EET status."""

    academic_year: str | None = None
    term: str | None = None
    latest: list[Measure] = field(default_factory=list)
    results: list[tuple[str, Measure]] = field(default_factory=list)  # (academic year, result)
    eet: EetStatus | None = None

    @property
    def eet_label(self) -> str | None:
        return EET_LABELS.get(self.eet.status, self.eet.status) if self.eet else None

    @property
    def empty(self) -> bool:
        return not (self.latest or self.results or self.eet)


def for_child(session: Session, child_id: int) -> ChildAttainment:
    """What the child's record shows: a child's rows are few (a handful a term), so they are read at once."""
    rows = list(session.scalars(select(Attainment).where(Attainment.child_id == child_id)))
    termly = [r for r in rows if r.kind != "ks_result"]
    eet = session.scalars(select(EetStatus).where(EetStatus.child_id == child_id)
                          .order_by(EetStatus.recorded_on.desc(), EetStatus.id.desc()).limit(1)).first()
    results = sorted(((r.academic_year, Measure(r.subject, r.kind, r.value, r.target))
                      for r in rows if r.kind == "ks_result"), key=lambda pair: pair[0], reverse=True)
    if not termly:
        return ChildAttainment(results=results, eet=eet)
    year, term = max(((r.academic_year, r.term) for r in termly), key=lambda yt: (yt[0], TERMS.index(yt[1])))
    order = [code for code, _ in SUBJECTS]
    latest = sorted((Measure(r.subject, r.kind, r.value, r.target) for r in termly
                     if (r.academic_year, r.term) == (year, term)),
                    key=lambda m: (order.index(m.subject) if m.subject in order else 99, m.kind))
    return ChildAttainment(year, term, latest, results, eet)
