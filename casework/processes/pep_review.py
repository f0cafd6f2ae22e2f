"""``pep_review``: one Personal Education Plan (initial, termly or after a change of school).

- **Start data**: the child, the PEP record the review keeps in step, its kind,
  stage and due date, the SEND decision limit and the authority's action limit.
- **After a step**: each step writes what it settled to the PEP record: the sections
  as they are filled in, submission, the VSH's RAG rating (red: returned with the
  reason), sign-off, the actions with their owners and due dates, the SEND referral
  and its decision. Records keep the long-lived facts; the workflow only runs the
  review (docs/architecture.md, "State").
- **Actions**: the diagram numbers the PEP's actions (``number_actions``); each is recorded by
  (PEP, number), and its follow-up, overdue timer and escalation carry the number, so two
  actions with the same text and date stay distinct. An action's ``owner_user`` (a user of the
  service) is checked here (``facts``: ``action_owner_roles``) and the follow-up goes to them.
- **Escalations**: the PEP overdue; a PEP action overdue (one per action); no SEND
  decision within 6 weeks of the referral. Resolving the cause closes the manager's task in
  the diagram (signals and a terminate end) and resolves the escalation here.
- **Notices**: a contribution task reopened by a red rating is a "PEP returned" notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.contracts import JsonData, OpenedTask, StepEvent, TaskRef
from engine.errors import InvalidData
from processes.forms.pep_review import CONTRIBUTION_TASKS, OVERDUE_PEP_DECISIONS, SECTIONS

from .. import attainment
from ..access import reach
from ..escalations import Escalations, Rule
from ..peps import SEND_DECISION_WEEKS, PepService
from ..records import Child, Pep, PepAction, SendReferral
from ..rules import AuthorityRules
from ..users import User
from .glue import Notice, ProcessGlue, day_of

PROCESS_ID = "pep_review"


class Step(StrEnum):
    COMPLETE_PEP_EARLY_YEARS = "complete_pep_early_years"
    COMPLETE_PEP_SCHOOL_AGE = "complete_pep_school_age"
    COMPLETE_PEP_POST_16 = "complete_pep_post_16"
    SOCIAL_WORKER_CONTRIBUTION = "social_worker_contribution"
    RECORD_CHILDS_VIEWS = "record_childs_views"
    RECORD_SUBMISSION = "record_submission"
    QUALITY_ASSURE_PEP = "quality_assure_pep"
    PEP_SIGNED_OFF = "pep_signed_off"
    NUMBER_ACTIONS = "number_actions"
    ACTION_OVERDUE = "action_overdue"
    CONFIRM_ACTION_DONE = "confirm_action_done"
    REFER_TO_SEND = "refer_to_send"
    SEND_DECISION = "send_decision"
    ESCALATE_OVERDUE_PEP = "escalate_overdue_pep"
    ESCALATE_OVERDUE_ACTION = "escalate_overdue_action"
    ESCALATE_SEND_DECISION_OVERDUE = "escalate_send_decision_overdue"
    PEP_DUE = "pep_due"
    SEND_DECISION_DUE = "send_decision_due"


READ_AS: Mapping[str, str] = {
    # education: the PEP itself, the child's views on their education, its actions
    Step.COMPLETE_PEP_EARLY_YEARS: "education",
    Step.COMPLETE_PEP_SCHOOL_AGE: "education",
    Step.COMPLETE_PEP_POST_16: "education",
    Step.RECORD_CHILDS_VIEWS: "education",
    Step.QUALITY_ASSURE_PEP: "education",
    Step.PEP_DUE: "education",
    Step.ESCALATE_OVERDUE_PEP: "education",
    Step.CONFIRM_ACTION_DONE: "education",
    Step.ACTION_OVERDUE: "education",
    Step.ESCALATE_OVERDUE_ACTION: "education",
    # care: the social worker's contribution (the care plan, the placement's stability, the carers)
    Step.SOCIAL_WORKER_CONTRIBUTION: "care",
    # send: the referral to the SEND team and its decision on an EHC needs assessment
    Step.REFER_TO_SEND: "send",
    Step.SEND_DECISION: "send",
    Step.SEND_DECISION_DUE: "send",
    Step.ESCALATE_SEND_DECISION_OVERDUE: "send",
}
"""Each user task and timer of the review -> the kind of information it holds (casework/need_to_know.py,
docs/access.md "Need to know")."""
INSTANCE_READ_AS = "education"
"""The review's own history entries (opened with the PEP's kind, stage and due date) are education."""

STAGE_TASKS = frozenset({Step.COMPLETE_PEP_EARLY_YEARS, Step.COMPLETE_PEP_SCHOOL_AGE, Step.COMPLETE_PEP_POST_16})
OWNER_ROLES = ("designated_teacher", "social_worker", "vsh")
"""The roles an action's owner may follow it up in (each reads education), in order of preference."""


def start_data(child: Child, pep: Pep, kind: str, due_at: datetime, rules: AuthorityRules) -> dict[str, Any]:
    return {
        "child_ref": child.ref, "child_name": child.full_name,
        "date_of_birth": child.date_of_birth.isoformat(), "pep_id": pep.id, "pep_kind": kind,
        "stage": pep.stage, "due_at": due_at.isoformat(), "academic_year": pep.academic_year,
        "term": pep.term or "", "send_decision_weeks": SEND_DECISION_WEEKS,
        "action_escalation_working_days": rules.action_escalation_working_days,
    }


class PepReview(ProcessGlue):
    process_id = PROCESS_ID
    steps = Step
    escalations = {
        Step.ESCALATE_OVERDUE_PEP: Rule(
            "overdue_pep", "PEP overdue", frozenset({Step.PEP_SIGNED_OFF}), "The PEP was not completed by its due date."),
        Step.ESCALATE_OVERDUE_ACTION: Rule(
            "overdue_action", "PEP action overdue", frozenset({Step.CONFIRM_ACTION_DONE}), "A PEP action is past its due date."),
        Step.ESCALATE_SEND_DECISION_OVERDUE: Rule(
            "send_decision_overdue", "SEND decision overdue", frozenset({Step.SEND_DECISION}),
            "No decision on an EHC needs assessment within 6 weeks of the referral."),
    }

    # -- facts: the actions' owners who use the service -----------------------------------------
    def facts(self, session: Session, task: TaskRef, data: JsonData) -> JsonData:
        if task.element_id not in STAGE_TASKS:
            return {}
        child = session.scalars(select(Child).where(Child.ref == task.business_key)).one_or_none()
        roles: dict[str, str] = {}
        errors: dict[int, dict[str, list[str]]] = {}
        for index, item in enumerate(data.get("actions") or []):
            username = str(item.get("owner_user") or "").strip() if isinstance(item, Mapping) else ""
            if not username or username in roles or child is None:
                continue
            role = _owner_role(session, child, username)
            if role is None:
                errors[index] = {"owner_user": [
                    f"Action {index + 1}'s owner ‘{username}’ is not a designated teacher, social worker or "
                    f"virtual school head who works with {child.full_name}: check the username, or leave it blank"]}
            else:
                roles[username] = role
        if errors:
            raise InvalidData({"actions": errors})
        return {"action_owner_roles": roles}

    # -- the PEP record -------------------------------------------------------------------------
    def after_step(self, session: Session, event: StepEvent) -> None:
        if event.status == "cancelled":  # the case was ended by hand: its PEP is no longer in hand
            for cancelled in session.scalars(select(Pep).where(Pep.instance_id == event.instance.id)):
                PepService(session, FrozenClock(event.at), event.runtime.calendar).cancel(cancelled.id, event.actor)
            return
        pep_id = event.latest("pep_id")
        pep = session.get(Pep, int(pep_id)) if pep_id is not None else None
        if pep is None:
            return
        peps = PepService(session, FrozenClock(event.at), event.runtime.calendar)
        for reached in event.reached:
            element, data = reached.element_id, reached.data
            if element in CONTRIBUTION_TASKS:
                sections = {k: v for k, v in data.items() if k in SECTIONS[pep.stage] and v is not None
                            and isinstance(v, str | int | float | bool)}
                if sections and pep.status in ("not_started", "in_progress", "returned"):
                    peps.update_sections(pep.id, sections, event.actor)
                if element in STAGE_TASKS:  # attainment, SEN and EET status (docs/cohort.md)
                    attainment.record_pep(session, pep, data, event.at)
            elif element == Step.RECORD_SUBMISSION and pep.status in ("in_progress", "returned"):
                peps.submit(pep.id, event.actor)
            elif element == Step.QUALITY_ASSURE_PEP:
                _quality_assured(peps, pep, data, event.actor)
                if pep.status == "complete" and Step.NUMBER_ACTIONS not in event.reached_ids():
                    _record_actions(peps, pep, _numbered(data))  # a review begun before actions were numbered
            elif element == Step.NUMBER_ACTIONS:
                _record_actions(peps, pep, data)
            elif element == Step.CONFIRM_ACTION_DONE:
                _action_followed_up(peps, pep, data, event.actor)
            elif element == Step.ACTION_OVERDUE:
                action = _action_of(peps, pep, data.get("action"))
                if action is not None and action.overdue_escalated_at is None:
                    peps.mark_escalated(action.id, "system")
            elif element == Step.REFER_TO_SEND:
                peps.refer_for_send(event.instance.business_key, day_of(data["referred_on"]), pep.id, event.actor)
            elif element == Step.SEND_DECISION:
                _send_decided(session, peps, pep, data, event.actor)
            elif element in self.escalations:
                _manager_decided(session, event, element, data)

    # -- escalations: one per overdue action ----------------------------------------------------
    def escalation_item(self, event: StepEvent, task: OpenedTask) -> dict[str, Any]:
        """The action an overdue-action escalation is about: the timer's whose data titled this task
        (each action's escalation is titled with its number, so identical actions stay apart)."""
        if task.element_id != Step.ESCALATE_OVERDUE_ACTION:
            return {}
        for reached in reversed(event.reached):
            action, titles = reached.data.get("action"), reached.data.get("task_titles")
            if reached.element_id != Step.ACTION_OVERDUE or not isinstance(action, Mapping):
                continue
            if not isinstance(titles, Mapping) or titles.get(Step.ESCALATE_OVERDUE_ACTION) == task.title:
                return {"action": dict(action)}
        return {}

    def resolves_item(self, details: Mapping[str, Any], event: StepEvent) -> bool:
        if "action" not in details:
            return True
        confirmed = {_number(r.data.get("action")) for r in event.reached if r.element_id == Step.CONFIRM_ACTION_DONE}
        number = _number(details["action"])
        return number is not None and number in confirmed

    # -- notices --------------------------------------------------------------------------------
    def notice(self, event: StepEvent, task: OpenedTask, context: dict[str, Any]) -> Notice:
        assured = event.data_at(Step.QUALITY_ASSURE_PEP) or {}
        if task.element_id in STAGE_TASKS and assured.get("rag") == "red":
            return Notice("pep_returned", {**context, "returned_by": "The virtual school head",
                                           "reason": str(assured.get("return_reason", ""))})
        return Notice("task_assigned", context)


def _quality_assured(peps: PepService, pep: Pep, data: JsonData, actor: str) -> None:
    if pep.status in ("in_progress", "returned"):
        peps.submit(pep.id, actor)
    rag = str(data.get("rag"))
    if rag == "red":
        peps.return_for_revision(pep.id, str(data.get("return_reason") or ""), actor, feedback=_text(data, "feedback"))
        return
    peps.rate(pep.id, rag, actor, feedback=_text(data, "feedback"))
    peps.complete(pep.id, actor)
    # the actions are recorded when the diagram has numbered them (``number_actions``)


def _text(data: JsonData, name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


def _record_actions(peps: PepService, pep: Pep, data: JsonData) -> None:
    for item in data.get("actions") or []:
        # Recorded as the PEP set them, even if a late sign-off puts a due date in the past.
        if isinstance(item, Mapping) and (number := _number(item)) is not None:
            peps.record_action(pep.id, number, description=str(item["description"]).strip(),
                               owner=str(item["owner"]).strip(), due_on=day_of(item["due_date"]),
                               owner_user=str(item.get("owner_user") or "").strip() or None)


def _number(item: Any) -> int | None:
    """An action's number in its PEP (``number_actions``), or None for data without one."""
    number = item.get("number") if isinstance(item, Mapping) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def _owner_role(session: Session, child: Child, username: str) -> str | None:
    """The role in which the user ``username`` works with ``child`` and may follow up an action, if any."""
    user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).one_or_none()
    if user is None:
        return None
    for role in OWNER_ROLES:
        if role in user.roles_set and session.scalar(select(Child.id).where(
                Child.id == child.id, reach(role, user.username, user.school_urn, user.la_code))) is not None:
            return role
    return None


def _numbered(data: JsonData) -> JsonData:
    """The actions numbered by their place in the PEP, as ``number_actions`` numbers them."""
    items = [dict(item, number=n) for n, item in enumerate(data.get("actions") or [], start=1)
             if isinstance(item, Mapping)]
    return {"actions": items}


def _action_of(peps: PepService, pep: Pep, item: Any) -> PepAction | None:
    """The recorded action a follow-up or timer is about: by its number. A review begun on the diagram
    before actions were numbered has none; its follow-ups fall back to the first open action of the same
    text and due date (which cannot tell identical actions apart: such reviews end within a term)."""
    number = _number(item)
    if number is not None or not isinstance(item, Mapping):
        return peps.action_numbered(pep.id, number)
    return peps.session.scalars(select(PepAction).where(
        PepAction.pep_id == pep.id, PepAction.state == "open",
        PepAction.description == str(item.get("description", "")).strip(),
        PepAction.due_on == day_of(item.get("due_date"))).order_by(PepAction.id)).first()


def _action_followed_up(peps: PepService, pep: Pep, data: JsonData, actor: str) -> None:
    action = _action_of(peps, pep, data.get("action"))
    if action is not None and action.state == "open" and data.get("action_done"):
        peps.mark_done(action.id, actor=actor)


def _manager_decided(session: Session, event: StepEvent, element: str, data: JsonData) -> None:
    """What the manager decided on an escalation task, kept on its escalation for the dashboard
    (only the overdue-PEP task offers a choice; the others a note of what the manager will do)."""
    asked = element == Step.ESCALATE_OVERDUE_PEP
    choice = dict(OVERDUE_PEP_DECISIONS).get(str(data.get("escalation_action") or "")) if asked else None
    note = str(data.get("escalation_notes") or "").strip()
    for task in event.closed_tasks:
        if task.state == "completed":
            Escalations(session).record_decision(task.id, decision=choice, note=note, by=event.actor, at=event.at)


def _send_decided(session: Session, peps: PepService, pep: Pep, data: JsonData, actor: str) -> None:
    referral = session.scalars(select(SendReferral).where(
        SendReferral.pep_id == pep.id, SendReferral.decision.is_(None)).order_by(SendReferral.id)).first()
    if referral is not None:
        peps.decide_send(referral.id, str(data["ehc_assessment_decision"]), day_of(data["decided_on"]), actor)


GLUE = PepReview()
