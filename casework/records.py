"""The domain's tables: authorities, schools, children, placements, PEPs, SEND referrals, term dates.

Long-lived facts about a child live here, not in workflow data (docs/engine.md, "Bounded cost"). Every process
instance about a child has the child's ``ref`` (e.g. ``C-1001``) as its business key.

Codes are the ones social care and schools already use: SSDA903 legal statuses, the placement types of
the placement-move form, DfE-style school types. ``la_code`` columns are plain indexed text (the
three-digit LA number), so records can be loaded before the authority row exists.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.audit import AuditLog, entry
from engine.models import Base
from processes.forms.placement_move import DISTANCES as DISTANCES  # re-exported: one list for form and record
from processes.forms.placement_move import PLACEMENT_TYPES as PLACEMENT_TYPES

LEGAL_STATUSES: list[tuple[str, str]] = [
    ("C1", "Interim care order"),
    ("C2", "Full care order"),
    ("D1", "Freeing order granted"),
    ("E1", "Placement order granted"),
    ("J1", "Remanded to local authority accommodation or youth detention accommodation"),
    ("J2", "Placed under police protection in local authority accommodation (PACE)"),
    ("J3", "Sentenced to a youth rehabilitation order with residence or fostering requirement"),
    ("L1", "Under police protection and in local authority accommodation"),
    ("L2", "Emergency protection order"),
    ("L3", "Under child assessment order and in local authority accommodation"),
    ("V2", "Single period of accommodation under section 20 (Children Act 1989)"),
    ("V3", "Accommodated under an agreed series of short-term breaks, single placements"),
    ("V4", "Accommodated under an agreed series of short-term breaks, multiple placements"),
]
# Placement types and distance categories are the placement-move form's: one list for the form and the record.
SCHOOL_TYPES: list[tuple[str, str]] = [
    ("maintained", "LA-maintained school (community, voluntary or foundation)"),
    ("academy", "Academy or free school"),
    ("independent", "Independent school"),
    ("la_special", "LA-maintained special school"),
    ("early_years_setting", "Early years setting (nursery, pre-school, childminder)"),
    ("further_education", "Further education college or sixth-form college"),
]
PEP_KINDS = ("initial", "termly", "school_change")
RAG_RATINGS = ("red", "amber", "green")
TERM_NAMES = ("autumn", "spring", "summer")
SEND_DECISIONS = ("assess", "not_assess")


def values(choices: list[tuple[str, str]]) -> list[str]:
    return [value for value, _ in choices]


class School(Base):
    __tablename__ = "school"

    urn: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[str] = mapped_column(String(30))
    la_is_admission_authority: Mapped[bool] = mapped_column(Boolean)
    la_code: Mapped[str] = mapped_column(String(10), index=True)
    phase: Mapped[str | None] = mapped_column(String(30))
    # from the GIAS establishment download (casework/gias.py, docs/import-schools.md)
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")  # open|proposed|closed
    establishment_type: Mapped[str | None] = mapped_column(String(100))  # TypeOfEstablishment (name)
    la_name: Mapped[str | None] = mapped_column(String(100))
    statutory_low_age: Mapped[int | None] = mapped_column(Integer)
    statutory_high_age: Mapped[int | None] = mapped_column(Integer)
    postcode: Mapped[str | None] = mapped_column(String(10))


class Child(Base):
    __tablename__ = "child"
    __table_args__ = (Index("ix_child_la_name", "la_code", "last_name", "ref"),)  # an authority's case list

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    upn: Mapped[str | None] = mapped_column(String(13))
    legal_status: Mapped[str] = mapped_column(String(2))
    looked_after_since: Mapped[date] = mapped_column(Date)
    la_code: Mapped[str] = mapped_column(String(10), index=True)
    social_worker: Mapped[str | None] = mapped_column(String(100), index=True)  # app_user.username
    school_urn: Mapped[str | None] = mapped_column(ForeignKey("school.urn"), index=True)
    current_placement_id: Mapped[int | None] = mapped_column(Integer)
    left_care_on: Mapped[date | None] = mapped_column(Date)  # stays on the Virtual School's roll that year
    sen_status: Mapped[str] = mapped_column(String(30), default="none", server_default="none")
    """none | sen_support | ehc_plan | assessment_in_progress: the latest PEP's, or as recorded/imported."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class UnrecordedKey(Base):
    """A business key that work was opened for with no child record (a generic process).

    Written by the step hooks the first time such a key's process takes a step, so the access
    rule can reach these keys from a short positive list instead of scanning every task for
    keys that are not children (``casework.access``)."""

    __tablename__ = "unrecorded_key"

    business_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_seen_at: Mapped[datetime]


def note_unrecorded_key(session: Session, business_key: str, at: datetime) -> None:
    """Remember that ``business_key`` has work but no child record (once; flushes)."""
    if session.get(UnrecordedKey, business_key) is None:
        session.add(UnrecordedKey(business_key=business_key, first_seen_at=at))
        session.flush()


class Placement(Base):
    __tablename__ = "placement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    placement_type: Mapped[str] = mapped_column(String(30))
    carer_name: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    distance: Mapped[str] = mapped_column(String(30))
    area_authority: Mapped[str | None] = mapped_column(String(200))
    # the notices of the placement decision (reg. 13 Care Planning, Placement and Case Review (England)
    # Regulations 2010), kept by the placement move: none for a placement recorded another way
    area_notified_on: Mapped[date | None] = mapped_column(Date)
    """The area authority was told of the out-of-area placement (reg. 13(4))."""
    school_notified_on: Mapped[date | None] = mapped_column(Date)
    """The child's school or education provider was told (reg. 13(2)(h)); none when the child has none."""
    iro_notified_on: Mapped[date | None] = mapped_column(Date)
    """The independent reviewing officer was told (reg. 13(2)(i))."""

    def is_current(self, today: date) -> bool:
        """Started by ``today`` and not ended (a placement ends the day the next one starts)."""
        return self.starts_on <= today and (self.ends_on is None or self.ends_on > today)

    def is_planned(self, today: date) -> bool:
        """Not started yet: it starts after ``today``."""
        return self.starts_on > today


class PermanentExclusion(Base):
    """A child cannot be directed to a school that permanently excluded them (SSFA 1998 s97A)."""

    __tablename__ = "permanent_exclusion"
    __table_args__ = (UniqueConstraint("child_id", "school_urn", name="uq_exclusion_child_school"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    school_urn: Mapped[str] = mapped_column(ForeignKey("school.urn"))
    excluded_on: Mapped[date] = mapped_column(Date)


class Pep(Base):
    """A Personal Education Plan. One termly PEP per child per term (a partial unique index)."""

    __tablename__ = "pep"
    __table_args__ = (
        Index(
            "uq_pep_one_termly_per_term",
            "child_id",
            "academic_year",
            "term",
            unique=True,
            sqlite_where=text("kind = 'termly'"),
            postgresql_where=text("kind = 'termly'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[str | None] = mapped_column(String(10))
    stage: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    rag: Mapped[str | None] = mapped_column(String(5))
    return_reason: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)  # the VSH's feedback with the rating
    sections: Mapped[str] = mapped_column(Text, default="{}")  # JSON text: section -> content
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    instance_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class PepAction(Base):
    __tablename__ = "pep_action"
    __table_args__ = (Index("ix_pep_action_state_due", "state", "due_on"),
                      UniqueConstraint("pep_id", "number", name="uq_pep_action_number"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pep_id: Mapped[int] = mapped_column(ForeignKey("pep.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    """The action's number in its PEP (1, 2, ...: pep_review's ``number_actions``); None if added by hand."""
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    owner_user: Mapped[str | None] = mapped_column(String(100))
    """The owner's username when the owner uses the service (the follow-up goes to them)."""
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open|done
    overdue_escalated_at: Mapped[datetime | None]


class SendReferral(Base):
    """A referral for an EHC needs assessment: the LA decides whether to assess within 6 weeks."""

    __tablename__ = "send_referral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    pep_id: Mapped[int | None] = mapped_column(ForeignKey("pep.id"))
    referred_on: Mapped[date] = mapped_column(Date)
    decision_due_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(20))
    decided_on: Mapped[date | None] = mapped_column(Date)


class TermDate(Base):
    """One school term of one authority, with its half term (inclusive dates)."""

    __tablename__ = "term_date"
    __table_args__ = (UniqueConstraint("la_code", "academic_year", "term", name="uq_term_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_code: Mapped[str] = mapped_column(String(10), index=True)
    academic_year: Mapped[str] = mapped_column(String(7))
    term: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    half_term_starts_on: Mapped[date | None] = mapped_column(Date)
    half_term_ends_on: Mapped[date | None] = mapped_column(Date)


class InsetDay(Base):
    """A training day when an authority's schools are closed to pupils."""

    __tablename__ = "inset_day"
    __table_args__ = (UniqueConstraint("la_code", "day", name="uq_inset_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_code: Mapped[str] = mapped_column(String(10), index=True)
    day: Mapped[date] = mapped_column(Date)


def audit_change(
    session: Session, at: datetime, actor: str, action: str, business_key: str | None, data: dict[str, Any]
) -> None:
    """Append a record change to the audit trail (no process instance; keyed by the child's ref)."""
    row = entry(at, actor, action, None, data=_jsonable(data))
    row["business_key"] = business_key
    AuditLog(session).write([row])


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in data.items()}


from . import attendance_summary as attendance_summary  # noqa: E402  (each child's attendance per term)
from . import csv_import as csv_import  # noqa: E402  (import_upload: a file waiting for its confirmation)
from . import data_version as data_version  # noqa: E402  (raised by each write to the cohort's records)
from . import pep_versions as pep_versions  # noqa: E402  (its table joins the metadata with these)
from . import school_data as school_data  # noqa: E402  (attendance, suspensions, attainment, EET)
