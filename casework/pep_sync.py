"""Keeping the PEP record in step with its ``pep_review`` process.

Each step of the review writes what it settled to the PEP record: the sections
as they are filled in, submission, the VSH's RAG rating (red: returned with the
reason), sign-off, the actions with their owners and due dates, the SEND
referral and its decision. Records keep the long-lived facts; the workflow only
runs the review (docs/engine.md, "Bounded cost").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.runtime import StepEvent

from .peps import SECTIONS, PepService
from .records import Pep, PepAction, SendReferral

CONTRIBUTION_TASKS = ("complete_pep_early_years", "complete_pep_school_age", "complete_pep_post_16",
                      "social_worker_contribution", "record_childs_views")


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def sync_pep(session: Session, event: StepEvent) -> None:
    pep_id = _pep_id(event)
    if pep_id is None:
        return
    peps = PepService(session, FrozenClock(event.at), event.runtime.calendar)
    pep = session.get(Pep, pep_id)
    if pep is None:
        return
    for reached in event.reached:
        element, data = reached.element_id, reached.data
        if element in CONTRIBUTION_TASKS:
            sections = {k: v for k, v in data.items() if k in SECTIONS[pep.stage] and v is not None
                        and isinstance(v, str | int | float | bool)}
            if sections and pep.status in ("not_started", "in_progress", "returned"):
                peps.update_sections(pep.id, sections, event.actor)
        elif element == "record_submission" and pep.status in ("in_progress", "returned"):
            peps.submit(pep.id, event.actor)
        elif element == "quality_assure_pep":
            _quality_assured(peps, pep, data, event.actor)
        elif element == "confirm_action_done":
            _action_followed_up(session, peps, pep, data, event.actor)
        elif element == "action_overdue":
            action = _matching_action(session, pep, data.get("action"))
            if action is not None and action.overdue_escalated_at is None:
                peps.mark_escalated(action.id, "system")
        elif element == "refer_to_send":
            peps.refer_for_send(event.instance.business_key, _day(data["referred_on"]), pep.id, event.actor)
        elif element == "send_decision":
            referral = session.scalars(select(SendReferral).where(
                SendReferral.pep_id == pep.id, SendReferral.decision.is_(None)).order_by(SendReferral.id)).first()
            if referral is not None:
                peps.decide_send(referral.id, str(data["ehc_assessment_decision"]), _day(data["decided_on"]),
                                 event.actor)


def _pep_id(event: StepEvent) -> int | None:
    for reached in event.reached:
        if "pep_id" in reached.data:
            return int(reached.data["pep_id"])
    return None


def _quality_assured(peps: PepService, pep: Pep, data: Mapping[str, Any], actor: str) -> None:
    if pep.status in ("in_progress", "returned"):
        peps.submit(pep.id, actor)
    rag = str(data.get("rag"))
    if rag == "red":
        peps.return_for_revision(pep.id, str(data.get("return_reason") or ""), actor)
        return
    peps.rate(pep.id, rag, actor)
    peps.complete(pep.id, actor)
    for item in data.get("actions") or []:
        # Recorded as the PEP set them, even if a late sign-off puts a due date in the past.
        action = PepAction(pep_id=pep.id, description=str(item["description"]).strip(),
                           owner=str(item["owner"]).strip(), due_on=_day(item["due_date"]))
        action.state = "open"
        peps.session.add(action)
    peps.session.flush()


def _matching_action(session: Session, pep: Pep, item: Any) -> PepAction | None:
    if not isinstance(item, Mapping):
        return None
    query = select(PepAction).where(PepAction.pep_id == pep.id,
                                    PepAction.description == str(item.get("description", "")).strip(),
                                    PepAction.due_on == _day(item.get("due_date")))
    return session.scalars(query.order_by(PepAction.id)).first()


def _action_followed_up(session: Session, peps: PepService, pep: Pep, data: Mapping[str, Any], actor: str) -> None:
    action = _matching_action(session, pep, data.get("action"))
    if action is not None and action.state == "open" and data.get("action_done"):
        peps.mark_done(action.id, actor=actor)
