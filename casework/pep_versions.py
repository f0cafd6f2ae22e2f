"""The versions of a PEP: each submission (its sections as submitted), each red return (with the reason)
and the sign-off (the rating and the virtual school head's feedback), numbered, with who and when.

Written by :class:`casework.peps.PepService` (``submit``, ``return_for_revision``, ``complete``) in the
step's own transaction; read by the PEP document (``casework/pep_document.py``), which shows what changed
between one submission and the next with :func:`differences` (docs/processes.md, "The PEP document").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.audit import AuditLog
from engine.models import Base
from processes.forms._pep_sections import PepSections
from processes.forms.pep_review import CONTRIBUTION_TASKS, FORMS, SECTIONS

SUBMITTED, RETURNED, SIGNED_OFF = "submitted", "returned", "signed_off"
KINDS = (SUBMITTED, RETURNED, SIGNED_OFF)
ADDED, REMOVED, CHANGED = "added", "removed", "changed"


class PepVersion(Base):
    """One event in a PEP's life: submitted (``content``: the sections and actions as submitted),
    returned (``reason``) or signed off (``rag`` and ``feedback``)."""

    __tablename__ = "pep_version"
    __table_args__ = (UniqueConstraint("pep_id", "number", name="uq_pep_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pep_id: Mapped[int] = mapped_column(ForeignKey("pep.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]
    content: Mapped[str | None] = mapped_column(Text)  # JSON text: {"sections": {...}, "actions": [...]}
    rag: Mapped[str | None] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)

    @property
    def submitted(self) -> dict[str, Any]:
        """What was submitted: ``sections`` and ``actions`` (empty for a return or a sign-off)."""
        loaded = json.loads(self.content) if self.content else {}
        return {"sections": dict(loaded.get("sections") or {}), "actions": list(loaded.get("actions") or [])}


def record_version(session: Session, pep: Any, kind: str, actor: str, at: datetime, **details: Any) -> PepVersion:
    """Append the next version of ``pep`` (a :class:`casework.records.Pep`); flushes."""
    if kind not in KINDS:
        raise ValueError(f"not a kind of PEP version: {kind!r}")
    last = session.scalar(select(func.max(PepVersion.number)).where(PepVersion.pep_id == pep.id))
    version = PepVersion(pep_id=pep.id, number=int(last or 0) + 1, kind=kind, actor=actor, at=at, **details)
    if kind == SUBMITTED:
        sections = json.loads(pep.sections or "{}")
        version.content = json.dumps({"sections": sections, "actions": submitted_actions(session, pep)},
                                     sort_keys=True)
    session.add(version)
    session.flush()
    return version


def submitted_actions(session: Session, pep: Any) -> list[dict[str, Any]]:
    """The actions as the designated teacher last gave them (the review's answers, from its audit trail),
    or, for a PEP kept without a review, its recorded actions."""
    if pep.instance_id is not None:
        given = AuditLog(session).answers(pep.instance_id).get("actions")
        if isinstance(given, list):
            return [{"description": str(a.get("description", "")), "owner": str(a.get("owner", "")),
                     "due_date": str(a.get("due_date", ""))[:10]} for a in given if isinstance(a, dict)]
    from .records import PepAction

    rows = session.scalars(select(PepAction).where(PepAction.pep_id == pep.id).order_by(PepAction.id))
    return [{"description": a.description, "owner": a.owner, "due_date": a.due_on.isoformat()} for a in rows]


def feedback_given(session: Session, pep: Any) -> str | None:
    """The VSH's feedback: recorded on the PEP, else the last given in its review (its audit trail)."""
    if pep.feedback:
        return str(pep.feedback)
    if pep.instance_id is None:
        return None
    given = AuditLog(session).answers(pep.instance_id).get("feedback")
    return (str(given).strip() or None) if given else None


def versions(session: Session, pep_id: int) -> list[PepVersion]:
    return list(session.scalars(select(PepVersion).where(PepVersion.pep_id == pep_id).order_by(PepVersion.number)))


# -- labels and differences ----------------------------------------------------------------------------
def stage_schema(stage: str) -> type[Schema]:
    """The designated teacher's form for a PEP of ``stage`` (its own fields are sections of that stage)."""
    shared = PepSections._declared_fields
    for task in CONTRIBUTION_TASKS:
        schema = FORMS[task]
        own = [n for n in schema._declared_fields if n not in shared]
        if issubclass(schema, PepSections) and all(n in SECTIONS[stage] for n in own):
            return schema
    raise ValueError(f"no form for a {stage} PEP")


def section_fields(stage: str) -> dict[str, fields.Field[Any]]:
    """Each section of a PEP of ``stage``, in the forms' order, with its form field (label, kind, choices)."""
    found: dict[str, fields.Field[Any]] = {}
    own = stage_schema(stage)
    schemas: list[type[Schema]] = [own, *(FORMS[t] for t in CONTRIBUTION_TASKS if not issubclass(FORMS[t], PepSections))]
    for schema in schemas:
        for name, field in schema._declared_fields.items():
            if name in SECTIONS[stage]:
                found.setdefault(name, field)
    return {name: found[name] for name in SECTIONS[stage] if name in found}


def label_of(field: fields.Field[Any], name: str) -> str:
    return str(field.metadata.get("label") or name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Difference:
    """One section (or action) that changed between two submissions: ``change`` is added, removed or
    changed; ``before``/``after`` are the stored answers (None when absent)."""

    name: str
    label: str
    change: str
    before: Any
    after: Any


def differences(before: dict[str, Any], after: dict[str, Any], stage: str) -> list[Difference]:
    """What changed from one submission to the next (each as :attr:`PepVersion.submitted`): the sections
    by their labels in form order, then the actions, one by one (matched by what they say)."""
    found: list[Difference] = []
    old, new = before.get("sections") or {}, after.get("sections") or {}
    for name, field in section_fields(stage).items():
        was, now = _blank_as_none(old.get(name)), _blank_as_none(new.get(name))
        if was != now:
            change = ADDED if was is None else REMOVED if now is None else CHANGED
            found.append(Difference(name, label_of(field, name), change, was, now))
    old_actions = {str(a.get("description")): a for a in before.get("actions") or []}
    new_actions = {str(a.get("description")): a for a in after.get("actions") or []}
    for description in [*old_actions, *(d for d in new_actions if d not in old_actions)]:
        was_action, now_action = old_actions.get(description), new_actions.get(description)
        if was_action != now_action:
            change = ADDED if was_action is None else REMOVED if now_action is None else CHANGED
            found.append(Difference("actions", f"Action: {description}", change, was_action, now_action))
    return found


def _blank_as_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value
