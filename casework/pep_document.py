"""The PEP as a document: every section of its stage in the forms' order, each answer as people write it,
the actions and their state, who contributed what and when, the rating and the feedback, the versions and
what changed between submissions (docs/processes.md, "The PEP document").

What a reader is shown follows their need to know (docs/access.md): the document is education; the social
worker's contribution is care and the SEND referral is SEND, shown only to those who read those kinds.
Built from the records and the review's audit trail; no workflow is loaded.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import Entries
from engine.models import AuditEvent, HumanTask
from processes.forms._fields import long_date
from processes.forms.pep_review import CONTRIBUTION_TASKS, EHC_DECISIONS, FORMS, RAG_RATINGS, SECTIONS

from .need_to_know import CARE, EDUCATION, SEND
from .pep_versions import (
    RETURNED,
    SIGNED_OFF,
    SUBMITTED,
    Difference,
    differences,
    feedback_given,
    label_of,
    section_fields,
    stage_schema,
    versions,
)
from .processes.pep_review import READ_AS, Step
from .records import Child, Pep, PepAction, SendReferral
from .users import User

KIND_TITLES = {"initial": "Initial PEP", "termly": "Termly PEP", "school_change": "New school PEP"}
STAGE_TITLES = {"early_years": "Early years", "school_age": "School age", "post_16": "Post-16"}
STATUS_TITLES = {"not_started": "Not started", "in_progress": "In progress", "submitted": "Submitted",
                 "returned": "Returned for changes", "complete": "Signed off",
                 "cancelled": "Cancelled"}
GROUP_TITLES = {Step.SOCIAL_WORKER_CONTRIBUTION: "The social worker's contribution",
                Step.RECORD_CHILDS_VIEWS: "The child's views"}
VERSION_TITLES = {SUBMITTED: "Submitted", RETURNED: "Returned for changes", SIGNED_OFF: "Signed off"}
NOT_GIVEN = "Not given"
ALL_KINDS = frozenset({EDUCATION, CARE, SEND})


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


@dataclass(frozen=True)
class Group:
    title: str
    answers: list[Answer]


@dataclass(frozen=True)
class ActionLine:
    description: str
    owner: str
    due: str
    state: str  # proposed (not yet signed off), open, done or overdue
    done_on: str = ""


@dataclass(frozen=True)
class Contribution:
    what: str
    who: str
    when: dt.datetime


@dataclass(frozen=True)
class Change:
    label: str
    change: str
    before: str
    after: str


@dataclass(frozen=True)
class Version:
    number: int
    kind: str
    title: str
    who: str
    when: dt.datetime
    rag: str | None = None
    reason: str | None = None
    feedback: str | None = None
    changes: list[Change] | None = None  # None: the first submission (nothing to compare it with)


@dataclass(frozen=True)
class Referral:
    referred_on: str
    decision_due_on: str
    decision: str


@dataclass(frozen=True)
class PepDocument:
    pep: Pep
    child: Child
    title: str
    stage: str
    status: str
    groups: list[Group]
    actions: list[ActionLine]
    contributions: list[Contribution]
    versions: list[Version]
    rag: str | None
    feedback: str | None
    return_reason: str | None
    referrals: list[Referral] = field(default_factory=list)

    @property
    def filename(self) -> str:
        """A file name for the PDF: the child's reference, the PEP and its year (``PEP-C-1-autumn-2026-27.pdf``)."""
        which = self.pep.term or self.pep.kind.replace("_", "-")
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"PEP-{self.child.ref}-{which}")
        return f"{safe}-{self.pep.academic_year.replace('/', '-')}.pdf"


def pep_title(pep: Pep) -> str:
    term = f", {pep.term} term" if pep.term else ""
    return f"{KIND_TITLES.get(pep.kind, pep.kind)}{term} {pep.academic_year}"


def build(session: Session, pep: Pep, today: dt.date, reads: frozenset[str] = ALL_KINDS) -> PepDocument:
    """The document of ``pep`` for a reader of the kinds of information ``reads``."""
    child = session.get(Child, pep.child_id)
    assert child is not None  # a PEP's child is a foreign key
    names = _people(session, pep)
    return PepDocument(
        pep=pep, child=child, title=pep_title(pep), stage=STAGE_TITLES.get(pep.stage, pep.stage),
        status=STATUS_TITLES.get(pep.status, pep.status), groups=groups(pep, reads),
        actions=actions(session, pep, today), contributions=contributions(session, pep, reads, names),
        versions=version_history(session, pep, reads, names), rag=pep.rag,
        feedback=feedback_given(session, pep) if pep.status in ("returned", "complete") else None,
        return_reason=pep.return_reason if pep.status == "returned" else None,
        referrals=referrals(session, pep) if SEND in reads else [],
    )


# -- the sections ------------------------------------------------------------------------------------
def _tasks(pep: Pep, reads: frozenset[str]) -> list[tuple[str, str]]:
    """(contribution task, group title) of the PEP's stage that the reader reads, in the forms' order."""
    own = stage_schema(pep.stage)
    found = []
    for task in CONTRIBUTION_TASKS:
        if READ_AS[task] not in reads:
            continue
        if FORMS[task] is own:
            found.append((task, "The plan"))
        elif task in GROUP_TITLES:
            found.append((task, GROUP_TITLES[Step(task)]))
    return found


def groups(pep: Pep, reads: frozenset[str]) -> list[Group]:
    stored = dict(json.loads(pep.sections or "{}"))
    every = section_fields(pep.stage)
    shown: list[Group] = []
    for task, title in _tasks(pep, reads):
        names = [n for n in FORMS[task]._declared_fields if n in every]
        shown.append(Group(title, [Answer(label_of(every[n], n), format_answer(every[n], stored.get(n)))
                                   for n in names]))
    return shown


def readable_sections(pep: Pep, reads: frozenset[str]) -> set[str]:
    return {n for task, _ in _tasks(pep, reads) for n in FORMS[task]._declared_fields if n in SECTIONS[pep.stage]}


def format_answer(form_field: fields.Field[Any], value: Any) -> str:
    """An answer as people write it: dates "1 December 2026", money "£1,200.50", Yes/No, a choice's label."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return NOT_GIVEN
    if isinstance(value, bool):
        return "Yes" if value else "No"
    choices = form_field.metadata.get("choices")
    if choices:
        return str(dict(choices).get(value, value))
    if form_field.metadata.get("money") and isinstance(value, int | float):
        return f"£{value:,.2f}"
    if isinstance(form_field, fields.Date):
        return format_date(value)
    if isinstance(value, float):
        number = f"{value:g}"
        return f"{number}%" if "(%)" in str(form_field.metadata.get("label", "")) else number
    return str(value)


def format_date(value: Any) -> str:
    try:
        return long_date(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


# -- actions, contributions, referrals -----------------------------------------------------------------
def actions(session: Session, pep: Pep, today: dt.date) -> list[ActionLine]:
    """The PEP's actions with their state; before sign-off, the actions as submitted (proposed)."""
    rows = list(session.scalars(select(PepAction).where(PepAction.pep_id == pep.id)
                                .order_by(PepAction.due_on, PepAction.id)))
    if rows:
        return [ActionLine(a.description, a.owner, format_date(a.due_on),
                           "done" if a.state == "done" else "overdue" if a.due_on < today else "open",
                           format_date(a.done_on) if a.done_on else "") for a in rows]
    from .pep_versions import submitted_actions

    return [ActionLine(a["description"], a["owner"], format_date(a["due_date"]), "proposed")
            for a in submitted_actions(session, pep)]


def _people(session: Session, pep: Pep) -> dict[str, str]:
    """Username -> display name, for everyone who acted on the PEP's review or versions."""
    actors = set(session.scalars(select(AuditEvent.actor).distinct().where(AuditEvent.instance_id == pep.instance_id))
                 if pep.instance_id is not None else [])
    actors |= {v.actor for v in versions(session, pep.id)}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(sorted(actors))))
    return {str(u): str(n) for u, n in rows}


def contributions(session: Session, pep: Pep, reads: frozenset[str], names: dict[str, str]) -> list[Contribution]:
    """Who completed which step of the review, and when (its audit trail), for the steps the reader reads."""
    if pep.instance_id is None:
        return []
    only = Entries(frozenset(str(e) for e, kind in READ_AS.items() if kind in reads))
    query = (select(AuditEvent, HumanTask.title)
             .outerjoin(HumanTask, HumanTask.id == AuditEvent.task_id)
             .where(AuditEvent.instance_id == pep.instance_id, AuditEvent.action == "task_completed",
                    only.condition())
             .order_by(AuditEvent.id))
    return [Contribution(str(title or (event.element_id or "").replace("_", " ").capitalize()),
                         names.get(event.actor, event.actor), event.at)
            for event, title in session.execute(query)]


def referrals(session: Session, pep: Pep) -> list[Referral]:
    decisions = dict(EHC_DECISIONS)
    rows = session.scalars(select(SendReferral).where(SendReferral.pep_id == pep.id).order_by(SendReferral.id))
    return [Referral(format_date(r.referred_on), format_date(r.decision_due_on),
                     f"{decisions.get(r.decision, r.decision)} ({format_date(r.decided_on)})" if r.decision
                     else "Not decided yet") for r in rows]


# -- versions -----------------------------------------------------------------------------------------
def version_history(session: Session, pep: Pep, reads: frozenset[str], names: dict[str, str]) -> list[Version]:
    """Each version, oldest first; a resubmission says what changed since the submission before it."""
    shown = readable_sections(pep, reads)
    every = section_fields(pep.stage)
    history: list[Version] = []
    previous: dict[str, Any] | None = None
    for row in versions(session, pep.id):
        changes: list[Change] | None = None
        if row.kind == SUBMITTED:
            now = row.submitted
            if previous is not None:
                changes = [_change(d, every) for d in differences(previous, now, pep.stage)
                           if d.name in shown or (d.name == "actions" and EDUCATION in reads)]
            previous = now
        history.append(Version(row.number, row.kind, VERSION_TITLES[row.kind], names.get(row.actor, row.actor),
                               row.at, row.rag, row.reason, row.feedback, changes))
    return history


def _change(difference: Difference, every: dict[str, fields.Field[Any]]) -> Change:
    def shown(value: Any) -> str:
        if value is None:
            return ""
        if difference.name == "actions":
            return f"{value.get('owner', '')}, due {format_date(value.get('due_date', ''))}"
        return format_answer(every[difference.name], value)

    return Change(difference.label, difference.change, shown(difference.before), shown(difference.after))


RAG_LABELS = dict(RAG_RATINGS)
