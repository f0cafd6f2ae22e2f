"""What a task's form starts from: facts the records already hold, and last term's PEP carried forward.

- :func:`prefill`: answers the records know, keyed by field name. The PEP stage forms get the child's
  school (or early years setting, or post-16 provider) from the child's record, the year group from the
  date of birth (:func:`casework.schoolyear.year_group`) and the SEN status from the child's latest PEP;
  a placement move's school discussion gets the designated teacher of the child's school.
- :func:`carried_forward`: the sections of the child's latest signed-off PEP of the same stage, for the
  stage form of a new PEP. Its actions are not carried: they belong to that PEP.
- :func:`starting_answers`: the two together. The earlier PEP wins, except for the facts the records
  know as they are today (the school's name, the year group), which a PEP from another term may have
  out of date. A draft and a red return's answers come before both (web/tasks.py).

Element ids come only from the glue modules' ``Step`` enums (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from processes.forms import FORMS
from processes.forms._pep_sections import SEN_SUPPORT_STATUSES

from .processes import pep_review, placement_move
from .records import Child, Pep, School
from .schoolyear import year_group
from .users import User

UK = ZoneInfo("Europe/London")
PepStep = pep_review.Step
MoveStep = placement_move.Step
PLACE_FIELD = {PepStep.COMPLETE_PEP_EARLY_YEARS: "setting_name", PepStep.COMPLETE_PEP_SCHOOL_AGE: "school_name",
               PepStep.COMPLETE_PEP_POST_16: "provider_name"}
"""Each PEP stage form -> the field naming where the child is educated."""
RECORD_FACTS = frozenset({"school_name", "setting_name", "provider_name", "school_year_group"})
"""Fields the records know as they are today: prefilled from them rather than carried from an older PEP."""
NOT_CARRIED = frozenset({"actions", "suspected_unidentified_sen", "sen_concern", "meeting_date"})
"""What belongs to that PEP alone: its meeting, its actions, its SEN screening (a referral of its own)."""
KIND_NAMES = {"initial": "initial", "school_change": "change of school"}


class TaskLike(Protocol):
    @property
    def instance_id(self) -> int: ...
    @property
    def process_id(self) -> str: ...
    @property
    def business_key(self) -> str: ...
    @property
    def element_id(self) -> str: ...


@dataclass(frozen=True)
class CarriedForward:
    """Answers taken from an earlier PEP, and which PEP they came from."""

    answers: dict[str, Any]
    pep_name: str  # "the autumn 2026 PEP"
    signed_off_on: str  # "3 December 2026"

    @property
    def message(self) -> str:
        return (f"Started from {self.pep_name}, signed off on {self.signed_off_on}: check and update each "
                "answer. Its actions are not carried forward: they belong to that PEP.")


def _is_stage_task(task: TaskLike) -> bool:
    return task.process_id == pep_review.PROCESS_ID and task.element_id in PLACE_FIELD


def prefill(session: Session, clock: Clock, task: TaskLike) -> dict[str, Any]:
    """Answers for ``task``'s form from the records, keyed by field name (empty when nothing is known)."""
    child = session.scalars(select(Child).where(Child.ref == task.business_key)).one_or_none()
    if child is None:
        return {}
    school = session.get(School, child.school_urn) if child.school_urn else None
    if _is_stage_task(task):
        answers: dict[str, Any] = {}
        if school is not None:
            answers[PLACE_FIELD[PepStep(task.element_id)]] = school.name
        if task.element_id == PepStep.COMPLETE_PEP_SCHOOL_AGE:
            group = year_group(child.date_of_birth, clock.now().astimezone(UK).date())
            if 0 <= group <= 13:
                answers["school_year_group"] = group
            status = _latest_section(session, child, "sen_support_status")
            if status in {value for value, _ in SEN_SUPPORT_STATUSES}:
                answers["sen_support_status"] = status
        return answers
    if (task.process_id, task.element_id) == (placement_move.PROCESS_ID, MoveStep.DISCUSS_SCHOOL_CHOICE):
        teacher = _designated_teacher(session, child.school_urn)
        return {"designated_teacher_name": teacher} if teacher else {}
    return {}


def carried_forward(session: Session, task: TaskLike) -> CarriedForward | None:
    """The sections of the child's latest signed-off PEP of the same stage, for a PEP stage form."""
    if not _is_stage_task(task):
        return None
    current = session.scalars(select(Pep).where(Pep.instance_id == task.instance_id)).first()
    if current is None:
        return None
    earlier = session.scalars(
        select(Pep).where(Pep.child_id == current.child_id, Pep.stage == current.stage, Pep.id != current.id,
                          Pep.status == "complete", Pep.completed_at.is_not(None), Pep.sections != "{}")
        .order_by(Pep.completed_at.desc(), Pep.id.desc()).limit(1)).first()
    if earlier is None or earlier.completed_at is None:
        return None
    names = _field_names(FORMS.get(task.process_id, {}).get(task.element_id)) - NOT_CARRIED
    answers = {k: v for k, v in _sections(earlier).items() if k in names and v not in (None, "")}
    if not answers:
        return None
    signed = earlier.completed_at.replace(tzinfo=earlier.completed_at.tzinfo or UTC).astimezone(UK)
    return CarriedForward(answers, _pep_name(earlier), f"{signed.day} {signed:%B %Y}")


def starting_answers(session: Session, clock: Clock, task: TaskLike) -> tuple[dict[str, Any], CarriedForward | None]:
    """What the form starts from: last term's PEP over the records' facts, but today's school and year group."""
    facts = prefill(session, clock, task)
    carried = carried_forward(session, task)
    if carried is None:
        return facts, None
    today = {k: v for k, v in facts.items() if k in RECORD_FACTS}
    return {**facts, **carried.answers, **today}, carried


def _pep_name(pep: Pep) -> str:
    start = int(pep.academic_year[:4]) if pep.academic_year[:4].isdigit() else None
    if pep.kind == "termly" and pep.term and start is not None:
        return f"the {pep.term} {start if pep.term == 'autumn' else start + 1} PEP"
    return f"the {KIND_NAMES.get(pep.kind, pep.kind.replace('_', ' '))} PEP of {pep.academic_year}"


def _sections(pep: Pep) -> dict[str, Any]:
    try:
        sections = json.loads(pep.sections or "{}")
    except ValueError:
        return {}
    return sections if isinstance(sections, dict) else {}


def _latest_section(session: Session, child: Child, name: str) -> Any:
    """The value of section ``name`` in the child's most recent PEP that has it (None if none does)."""
    peps = session.scalars(select(Pep).where(Pep.child_id == child.id, Pep.sections != "{}")
                           .order_by(Pep.created_at.desc(), Pep.id.desc()).limit(20))
    for pep in peps:
        value = _sections(pep).get(name)
        if value not in (None, ""):
            return value
    return None


def _designated_teacher(session: Session, school_urn: str | None) -> str | None:
    """The name of the designated teacher of the school, when the school has exactly one."""
    if not school_urn:
        return None
    users = session.scalars(select(User).where(User.school_urn == school_urn, User.active.is_(True)).limit(50))
    teachers = [u.display_name for u in users if "designated_teacher" in u.roles_set]
    return teachers[0] if len(teachers) == 1 else None


def _field_names(schema: type[Schema] | None) -> set[str]:
    if schema is None:
        return set()
    fields: Mapping[str, Any] = schema().fields
    return {f.data_key or name for name, f in fields.items()}
