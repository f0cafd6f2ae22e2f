"""Personal Education Plans: one per child per term, sections by age stage, RAG, actions, SEND referrals.

States (as in ePEP systems): not_started -> in_progress -> submitted -> complete, or submitted ->
returned (with a reason) -> in_progress/submitted again. The VSH rates each PEP red, amber or green;
a red PEP must be fixed before it is signed off (docs/processes.md, `quality_assure_pep`).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar
from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound
from processes.forms.pep_review import SECTIONS

from .children import ChildService
from .pep_versions import RETURNED, SIGNED_OFF, SUBMITTED, feedback_given, record_version
from .records import (
    PEP_KINDS,
    RAG_RATINGS,
    SEND_DECISIONS,
    TERM_NAMES,
    Child,
    Pep,
    PepAction,
    SendReferral,
    audit_change,
)
from .schoolyear import academic_year_label, pep_stage

# The content of a PEP by age stage (Care Planning Regulations 2010, Schedule 1, and the statutory guidance)
# is ``SECTIONS``: the fields of the stage's form, plus the social worker's contribution and the child's views.
# EHC needs assessment: the LA decides whether to assess within 6 weeks (SEND Regulations 2014, reg. 5).
SEND_DECISION_WEEKS = 6


def send_decision_due_on(referred_on: date) -> date:
    """The last day of the 6 weeks: the decision is due by this day (included) and overdue from 00:00
    (UTC) on the next, when pep_review's ``send_decision_due`` timer fires (docs/processes.md)."""
    return referred_on + timedelta(weeks=SEND_DECISION_WEEKS)


class PepService:
    def __init__(self, session: Session, clock: Clock, calendar: BusinessCalendar | None = None) -> None:
        self.session = session
        self.clock = clock
        self.calendar = calendar or BusinessCalendar()

    # -- the PEP ---------------------------------------------------------------------------------

    def create(
        self,
        ref: str,
        kind: str,
        due_at: datetime | None = None,
        term: str | None = None,
        academic_year: str | None = None,
        instance_id: int | None = None,
        actor: str = "system",
    ) -> Pep:
        """Open a PEP for the child; a second termly PEP for the same term is a Conflict."""
        child = ChildService(self.session, self.clock).get(ref)
        today = self.clock.now().date()
        year = academic_year or academic_year_label(today)
        errors: dict[str, list[str]] = {}
        if kind not in PEP_KINDS:
            errors["kind"] = ["Choose initial, termly or school_change"]
        if kind == "termly" and term not in TERM_NAMES:
            errors["term"] = ["A termly PEP names its term: autumn, spring or summer"]
        if kind != "termly" and term is not None:
            errors["term"] = ["Only a termly PEP names a term"]
        if errors:
            raise InvalidData(errors)
        if kind == "termly" and self.termly(child.id, year, term) is not None:
            raise Conflict(f"{ref} already has a PEP for the {term} term of {year}")
        pep = Pep(
            child_id=child.id,
            kind=kind,
            academic_year=year,
            term=term,
            stage=pep_stage(child.date_of_birth, today),
            status="not_started",
            sections="{}",
            due_at=due_at,
            instance_id=instance_id,
            created_at=self.clock.now(),
        )
        self.session.add(pep)
        self.session.flush()
        self._audit(pep, actor, "pep.created", {"kind": kind, "academic_year": year, "term": term})
        return pep

    def termly(self, child_id: int, academic_year: str, term: str | None) -> Pep | None:
        query = select(Pep).where(
            Pep.child_id == child_id,
            Pep.kind == "termly",
            Pep.academic_year == academic_year,
            Pep.term == term,
        )
        return self.session.scalars(query).one_or_none()

    def get(self, pep_id: int) -> Pep:
        pep = self.session.get(Pep, pep_id)
        if pep is None:
            raise NotFound(f"No PEP with id {pep_id}")
        return pep

    def for_child(self, ref: str) -> list[Pep]:
        child = ChildService(self.session, self.clock).get(ref)
        return list(self.session.scalars(select(Pep).where(Pep.child_id == child.id).order_by(Pep.id)))

    def sections(self, pep: Pep) -> dict[str, Any]:
        return dict(json.loads(pep.sections or "{}"))

    def update_sections(self, pep_id: int, changes: dict[str, Any], actor: str = "system") -> Pep:
        """Write some sections (the form of the child's stage); starts the PEP if not started."""
        pep = self.get(pep_id)
        self._require(pep, ("not_started", "in_progress", "returned"), "edited")
        allowed = SECTIONS[pep.stage]
        errors = {
            name: [f"Not a section of {'an' if pep.stage.startswith(('early', 'a', 'e', 'i', 'o', 'u')) else 'a'} "
                   f"{pep.stage.replace('_', ' ')} PEP"]
            for name in changes
            if name not in allowed
        }
        errors.update(
            {n: ["Enter text, a number or yes/no"] for n, v in changes.items()
             if n in allowed and not isinstance(v, str | int | float | bool)}
        )
        if errors:
            raise InvalidData(errors)
        pep.sections = json.dumps({**self.sections(pep), **changes}, sort_keys=True)
        pep.status = "in_progress"
        self.session.flush()
        self._audit(pep, actor, "pep.sections_updated", {"sections": sorted(changes)})
        return pep

    def submit(self, pep_id: int, actor: str = "system") -> Pep:
        pep = self.get(pep_id)
        self._require(pep, ("in_progress", "returned"), "submitted")
        pep.status = "submitted"
        pep.rag = None  # a resubmitted PEP waits for a fresh rating
        self.session.flush()
        self._audit(pep, actor, "pep.submitted", {})
        record_version(self.session, pep, SUBMITTED, actor, self.clock.now())
        return pep

    def rate(self, pep_id: int, rag: str, actor: str = "system", feedback: str | None = None) -> Pep:
        """The VSH's quality-assurance rating of a submitted PEP, with their feedback if any."""
        pep = self.get(pep_id)
        if rag not in RAG_RATINGS:
            raise InvalidData({"rag": ["Choose red, amber or green"]})
        self._require(pep, ("submitted",), "rated")
        pep.rag = rag
        if feedback is not None:
            pep.feedback = feedback.strip() or None
        self.session.flush()
        self._audit(pep, actor, "pep.rated", {"rag": rag})
        return pep

    def return_for_revision(
        self, pep_id: int, reason: str, actor: str = "system", feedback: str | None = None
    ) -> Pep:
        pep = self.get(pep_id)
        if not (reason or "").strip():
            raise InvalidData({"return_reason": ["Say what needs to change before the PEP is resubmitted"]})
        self._require(pep, ("submitted",), "returned")
        pep.status = "returned"
        pep.rag = "red"
        pep.return_reason = reason.strip()
        if feedback is not None:
            pep.feedback = feedback.strip() or None
        self.session.flush()
        self._audit(pep, actor, "pep.returned", {"return_reason": pep.return_reason})
        record_version(self.session, pep, RETURNED, actor, self.clock.now(), rag="red",
                       reason=pep.return_reason, feedback=feedback_given(self.session, pep))
        return pep

    def complete(self, pep_id: int, actor: str = "system") -> Pep:
        """Sign the PEP off. It must be submitted and rated; a red PEP must be fixed first."""
        pep = self.get(pep_id)
        self._require(pep, ("submitted",), "signed off")
        if pep.rag is None:
            raise InvalidData({"rag": ["Rate the PEP red, amber or green before signing it off"]})
        if pep.rag == "red":
            raise InvalidData({"rag": ["A red PEP must be returned and fixed before it is signed off"]})
        pep.status = "complete"
        pep.completed_at = self.clock.now()
        self.session.flush()
        self._audit(pep, actor, "pep.completed", {"rag": pep.rag})
        record_version(self.session, pep, SIGNED_OFF, actor, pep.completed_at, rag=pep.rag,
                       feedback=feedback_given(self.session, pep))
        return pep

    # -- actions ---------------------------------------------------------------------------------

    def cancel(self, pep_id: int, actor: str = "system") -> Pep:
        """The PEP's review was cancelled (an administrator ended the case, with a reason the process's
        history keeps): a PEP not yet signed off is marked cancelled, so no list counts it as in hand."""
        pep = self.get(pep_id)
        if pep.status in ("complete", "cancelled"):
            return pep
        was, pep.status = pep.status, "cancelled"
        self.session.flush()
        self._audit(pep, actor, "pep.cancelled", {"was": was})
        return pep

    def add_action(
        self, pep_id: int, description: str, owner: str, due_on: date, actor: str = "system"
    ) -> PepAction:
        """A SMART action with an owner and a due date (Promoting the education of looked after children, DfE statutory guidance 2014, key point 7: carried out without delay)."""
        pep = self.get(pep_id)
        errors: dict[str, list[str]] = {}
        if not (description or "").strip():
            errors["description"] = ["Describe the action"]
        if not (owner or "").strip():
            errors["owner"] = ["Say who owns the action"]
        if not isinstance(due_on, date):
            errors["due_on"] = ["Enter the date the action is due"]
        elif due_on < self.clock.now().date():
            errors["due_on"] = ["The due date cannot be in the past"]
        if errors:
            raise InvalidData(errors)
        action = PepAction(pep_id=pep.id, description=description.strip(), owner=owner.strip(), due_on=due_on)
        action.state = "open"
        self.session.add(action)
        self.session.flush()
        self._audit(
            pep, actor, "pep.action_added", {"action_id": action.id, "owner": owner, "due_on": due_on}
        )
        return action

    def record_action(self, pep_id: int, number: int, *, description: str, owner: str, due_on: date,
                      owner_user: str | None = None) -> PepAction:
        """Action ``number`` of a signed-off PEP as its review numbered it (``number_actions``), once:
        recorded as the PEP set it, even if a late sign-off puts its due date in the past."""
        found = self.action_numbered(pep_id, number)
        if found is not None:
            return found
        action = PepAction(pep_id=pep_id, number=number, description=description, owner=owner,
                           owner_user=owner_user, due_on=due_on)
        action.state = "open"
        self.session.add(action)
        self.session.flush()
        return action

    def action_numbered(self, pep_id: int, number: int | None) -> PepAction | None:
        """The PEP's action with that number (its follow-up, timer and escalation carry it), if any."""
        if number is None:
            return None
        return self.session.scalars(
            select(PepAction).where(PepAction.pep_id == pep_id, PepAction.number == number)).one_or_none()

    def mark_done(self, action_id: int, done_on: date | None = None, actor: str = "system") -> PepAction:
        action = self._action(action_id)
        if action.state == "done":
            raise Conflict(f"Action {action_id} is already done")
        done_on = done_on or self.clock.now().date()
        if done_on > self.clock.now().date():
            raise InvalidData({"done_on": ["The date cannot be in the future"]})
        action.state, action.done_on = "done", done_on
        self.session.flush()
        self._audit(
            self.get(action.pep_id), actor, "pep.action_done", {"action_id": action.id, "done_on": done_on}
        )
        return action

    def overdue_actions(self, la_code: str | None = None, grace_working_days: int = 0) -> list[PepAction]:
        """Open actions past their due date by more than ``grace_working_days`` (oldest first)."""
        today = self.clock.now().date()
        query = select(PepAction).where(PepAction.state == "open", PepAction.due_on < today)
        if la_code is not None:
            query = query.join(Pep, Pep.id == PepAction.pep_id).join(Child, Child.id == Pep.child_id)
            query = query.where(Child.la_code == la_code)
        actions = self.session.scalars(query.order_by(PepAction.due_on, PepAction.id))
        return [
            a for a in actions if self.calendar.working_days_between(a.due_on, today) > grace_working_days
        ]

    def mark_escalated(self, action_id: int, actor: str = "system") -> PepAction:
        action = self._action(action_id)
        action.overdue_escalated_at = self.clock.now()
        self.session.flush()
        self._audit(self.get(action.pep_id), actor, "pep.action_escalated", {"action_id": action.id})
        return action

    def _action(self, action_id: int) -> PepAction:
        action = self.session.get(PepAction, action_id)
        if action is None:
            raise NotFound(f"No PEP action with id {action_id}")
        return action

    # -- SEND ------------------------------------------------------------------------------------

    def refer_for_send(
        self, ref: str, referred_on: date, pep_id: int | None = None, actor: str = "system"
    ) -> SendReferral:
        child = ChildService(self.session, self.clock).get(ref)
        if referred_on > self.clock.now().date():
            raise InvalidData({"referred_on": ["The date cannot be in the future"]})
        if pep_id is not None and self.get(pep_id).child_id != child.id:
            raise InvalidData({"pep_id": [f"That PEP is not {ref}'s"]})
        referral = SendReferral(
            child_id=child.id,
            pep_id=pep_id,
            referred_on=referred_on,
            decision_due_on=send_decision_due_on(referred_on),
        )
        self.session.add(referral)
        self.session.flush()
        audit_change(
            self.session, self.clock.now(), actor, "send.referred", ref, {"referral_id": referral.id}
        )
        return referral

    def decide_send(
        self, referral_id: int, decision: str, decided_on: date, actor: str = "system"
    ) -> SendReferral:
        referral = self.session.get(SendReferral, referral_id)
        if referral is None:
            raise NotFound(f"No SEND referral with id {referral_id}")
        errors: dict[str, list[str]] = {}
        if decision not in SEND_DECISIONS:
            errors["decision"] = ["Choose assess or not_assess"]
        if decided_on < referral.referred_on:
            errors["decided_on"] = ["The decision cannot come before the referral"]
        elif decided_on > self.clock.now().date():
            errors["decided_on"] = ["The date cannot be in the future"]
        if errors:
            raise InvalidData(errors)
        if referral.decision is not None:
            raise Conflict(f"SEND referral {referral_id} is already decided")
        referral.decision, referral.decided_on = decision, decided_on
        self.session.flush()
        child = self.session.get(Child, referral.child_id)
        audit_change(
            self.session,
            self.clock.now(),
            actor,
            "send.decided",
            child.ref if child else None,
            {"referral_id": referral.id, "decision": decision, "late": decided_on > referral.decision_due_on},
        )
        return referral

    # -- helpers ---------------------------------------------------------------------------------

    def _require(self, pep: Pep, states: tuple[str, ...], verb: str) -> None:
        if pep.status not in states:
            raise Conflict(f"A PEP that is {pep.status.replace('_', ' ')} cannot be {verb}")

    def _audit(self, pep: Pep, actor: str, action: str, data: dict[str, Any]) -> None:
        child = self.session.get(Child, pep.child_id)
        audit_change(
            self.session,
            self.clock.now(),
            actor,
            action,
            child.ref if child else None,
            {"pep_id": pep.id, **data},
        )
