"""The data a school keeps about its pupils, kept by the Virtual School for the children on its roll.

Monitored "as if those children attended a single school" (Promoting the education of looked-after and
previously looked-after children, DfE statutory guidance 2018): attendance in sessions (two a day),
suspensions and permanent exclusions, attainment (termly teacher assessments against target, and
end-of-key-stage results), and post-16 education, employment or training. Definitions are the DfE's
(docs/cohort.md): attendance % = attended / possible sessions; persistently absent = missing 10% or
more of possible sessions; severely absent = missing 50% or more.

Each row belongs to a child (``child_id``); who may read it is who may read the child's education
(casework/need_to_know.py, "education").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base
from processes.forms._attainment import EET_STATUSES as EET_STATUSES
from processes.forms._attainment import SUBJECTS as SUBJECTS
from processes.forms._attainment import TEACHER_ASSESSMENTS as TEACHER_ASSESSMENTS

ATTENDANCE_SOURCES = ("import", "pep", "manual")
SUSPENSION_KINDS = ("suspension", "permanent_exclusion")
# The DfE's reason categories for suspensions and permanent exclusions (school census), by code.
EXCLUSION_REASONS: list[tuple[str, str]] = [
    ("PA", "Physical assault against a pupil"),
    ("PP", "Physical assault against an adult"),
    ("VA", "Verbal abuse or threatening behaviour against a pupil"),
    ("VP", "Verbal abuse or threatening behaviour against an adult"),
    ("US", "Use or threat of use of an offensive weapon or prohibited item"),
    ("BU", "Bullying"),
    ("RA", "Racist abuse"),
    ("AB", "Abuse against sexual orientation or gender identity"),
    ("AD", "Abuse relating to disability"),
    ("SM", "Sexual misconduct"),
    ("DA", "Drug and alcohol related"),
    ("DM", "Damage"),
    ("TH", "Theft"),
    ("MT", "Inappropriate use of social media or online technology"),
    ("PD", "Persistent disruptive behaviour"),
    ("WB", "Wilful and repeated transgression of protective measures"),
    ("OT", "Other"),
]
# Termly teacher assessments against age-related expectations, and the GCSE grades at key stage 4.
ASSESSMENT_KINDS = ("teacher_assessment", "gcse_working_at", "gcse_target", "ks_result")
# TEACHER_ASSESSMENTS, SUBJECTS, EET_STATUSES: one list each, shared with the PEP forms (imported above).


class AttendanceRecord(Base):
    """Sessions in one period (a week or a half term) at school: possible, attended, absent."""

    __tablename__ = "attendance_record"
    __table_args__ = (
        UniqueConstraint("child_id", "period_start", "period_end", name="uq_attendance_child_period"),
        Index("ix_attendance_period", "period_start", "period_end"),
        # the last day each child was at a school (the dashboard's "without a school place since")
        Index("ix_attendance_at_school", "child_id", "period_end", postgresql_where=text("school_urn IS NOT NULL"),
              sqlite_where=text("school_urn IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    possible_sessions: Mapped[int] = mapped_column(Integer)
    attended_sessions: Mapped[int] = mapped_column(Integer)
    authorised_absence: Mapped[int] = mapped_column(Integer, default=0)
    unauthorised_absence: Mapped[int] = mapped_column(Integer, default=0)
    school_urn: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(20), default="import")
    recorded_at: Mapped[datetime]


class Suspension(Base):
    """A suspension (fixed-period exclusion) or a permanent exclusion from a school."""

    __tablename__ = "suspension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # SUSPENSION_KINDS
    school_urn: Mapped[str | None] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    days: Mapped[float] = mapped_column(Float)  # school days (halves allowed); a permanent exclusion: 0
    reason: Mapped[str] = mapped_column(String(2))  # EXCLUSION_REASONS code
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(100))


class Attainment(Base):
    """One assessment in one subject: a termly teacher assessment (with its target) or a key stage result."""

    __tablename__ = "attainment"
    __table_args__ = (
        UniqueConstraint("child_id", "academic_year", "term", "subject", "kind", name="uq_attainment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    academic_year: Mapped[str] = mapped_column(String(7))  # "2026/27"
    term: Mapped[str] = mapped_column(String(10))  # autumn | spring | summer
    subject: Mapped[str] = mapped_column(String(20))  # SUBJECTS
    kind: Mapped[str] = mapped_column(String(20))  # ASSESSMENT_KINDS
    value: Mapped[str] = mapped_column(String(20))  # a TEACHER_ASSESSMENTS code, a GCSE grade 1-9, "met"/"not_met"
    target: Mapped[str | None] = mapped_column(String(20))
    recorded_at: Mapped[datetime]


class EetStatus(Base):
    """A young person's post-16 education, employment or training status, as recorded on a day."""

    __tablename__ = "eet_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    recorded_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # EET_STATUSES
    recorded_at: Mapped[datetime]
