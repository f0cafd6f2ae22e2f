"""``admission_direction``: a school will not admit a looked-after child, so the council directs it.

- **Start data**: the child, the school to direct and its facts from the register, and
  the authority's chasing limits.
- **Facts**: another school chosen during the process gets its facts; a school that
  permanently excluded the child is refused.
- **After a step**: the child's admission records the school, and resolves the
  placement move's "no school place" escalation.
- **Escalations**: every stalled stage (admission, consultation, decision, notice,
  adjudicator, roll, ESFA request and outcome) raises "admission or direction stalled".
- **Notices**: a new task with a statutory deadline is a "direction deadline" notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.contracts import OpenedTask, StepEvent

from ..children import ChildService
from ..escalations import Escalations, Rule
from ..records import Child
from ..rules import AuthorityRules
from .glue import Notice, ProcessGlue, SchoolField

PROCESS_ID = "admission_direction"


class Step(StrEnum):
    CHOOSE_ANOTHER_SCHOOL = "choose_another_school"
    CHILD_ADMITTED = "child_admitted"
    ADMIT_CHILD = "admit_child"
    CONSULT_ADMISSION_AUTHORITY = "consult_admission_authority"
    CONSIDER_REPRESENTATIONS = "consider_representations"
    SERVE_DIRECTION_NOTICE = "serve_direction_notice"
    RECORD_ADJUDICATOR_DECISION = "record_adjudicator_decision"
    CONFIRM_CHILD_ON_ROLL = "confirm_child_on_roll"
    REQUEST_ESFA_DIRECTION = "request_esfa_direction"
    RECORD_ESFA_OUTCOME = "record_esfa_outcome"
    ESCALATE_ADMISSION_STALLED = "escalate_admission_stalled"
    ESCALATE_CONSULTATION_OVERDUE = "escalate_consultation_overdue"
    ESCALATE_DECISION_OVERDUE = "escalate_decision_overdue"
    ESCALATE_NOTICE_NOT_SERVED = "escalate_notice_not_served"
    ESCALATE_ADJUDICATOR_DECISION_AWAITED = "escalate_adjudicator_decision_awaited"
    ESCALATE_CHILD_NOT_ON_ROLL = "escalate_child_not_on_roll"
    ESCALATE_ESFA_REQUEST_NOT_SENT = "escalate_esfa_request_not_sent"
    ESCALATE_ESFA_OUTCOME_OVERDUE = "escalate_esfa_outcome_overdue"
    RECORD_REPRESENTATIONS = "record_representations"
    RECORD_ADJUDICATOR_REFERRAL = "record_adjudicator_referral"
    DECIDE_AFTER_ADJUDICATOR = "decide_after_adjudicator"
    DECIDE_AFTER_ESFA_DECLINED = "decide_after_esfa_declined"
    ADMISSION_STALLED = "admission_stalled"
    CONSULTATION_OVERDUE = "consultation_overdue"
    REPRESENTATIONS_PERIOD_ENDED = "representations_period_ended"
    REPRESENTATIONS_PERIOD_OVER = "representations_period_over"
    DECISION_OVERDUE = "decision_overdue"
    NOTICE_OVERDUE = "notice_overdue"
    ADJUDICATOR_WINDOW_ENDED = "adjudicator_window_ended"
    ADJUDICATOR_DECISION_AWAITED = "adjudicator_decision_awaited"
    CHILD_NOT_ON_ROLL = "child_not_on_roll"
    ESFA_REQUEST_NOT_SENT = "esfa_request_not_sent"
    ESFA_OUTCOME_OVERDUE = "esfa_outcome_overdue"


READ_AS: Mapping[str, str] = {
    step: "school_place" for step in Step if step not in (Step.CHILD_ADMITTED,)  # an end event, no entry
}
"""Every user task and timer of a direction is about securing a school place (casework/need_to_know.py,
docs/access.md "Need to know")."""
INSTANCE_READ_AS = "school_place"
"""The direction's own history entries (started with the school's facts) are school place too."""


def start_data(children: ChildService, child: Child, school_urn: str, rules: AuthorityRules,
               now: datetime) -> dict[str, Any]:
    return {
        "child_ref": child.ref, "child_name": child.full_name, "school_urn": school_urn,
        **children.school_facts(child.ref, school_urn),
        "requested_at": now.isoformat(),
        "chase_working_days": rules.direction_chase_working_days,
        "esfa_outcome_working_days": rules.esfa_outcome_working_days,
    }


def _stalled(step: Step, reason: str) -> Rule:
    return Rule("stalled_direction", "Admission or direction stalled", frozenset({step}), reason)


class AdmissionDirection(ProcessGlue):
    process_id = PROCESS_ID
    steps = Step
    school_fields = {Step.CHOOSE_ANOTHER_SCHOOL: SchoolField("school_urn", directing=True)}
    escalations = {
        Step.ESCALATE_ADMISSION_STALLED: _stalled(Step.ADMIT_CHILD, "The council has not admitted the child."),
        Step.ESCALATE_CONSULTATION_OVERDUE: _stalled(
            Step.CONSULT_ADMISSION_AUTHORITY, "The admission authority has not been consulted."),
        Step.ESCALATE_DECISION_OVERDUE: _stalled(
            Step.CONSIDER_REPRESENTATIONS, "No decision on directing the school."),
        Step.ESCALATE_NOTICE_NOT_SERVED: _stalled(
            Step.SERVE_DIRECTION_NOTICE, "The direction notice has not been served."),
        Step.ESCALATE_ADJUDICATOR_DECISION_AWAITED: _stalled(
            Step.RECORD_ADJUDICATOR_DECISION, "The Schools Adjudicator's decision is awaited."),
        Step.ESCALATE_CHILD_NOT_ON_ROLL: _stalled(
            Step.CONFIRM_CHILD_ON_ROLL, "The child is not yet on the school's roll."),
        Step.ESCALATE_ESFA_REQUEST_NOT_SENT: _stalled(
            Step.REQUEST_ESFA_DIRECTION, "The request to the ESFA has not been sent."),
        Step.ESCALATE_ESFA_OUTCOME_OVERDUE: _stalled(
            Step.RECORD_ESFA_OUTCOME, "The ESFA has not given an outcome."),
    }

    def after_step(self, session: Session, event: StepEvent) -> None:
        admitted = event.data_at(Step.CHILD_ADMITTED)
        if admitted is None:
            return
        ref = event.instance.business_key
        ChildService(session, FrozenClock(event.at)).change_school(ref, str(admitted["school_urn"]), event.actor)
        escalations = Escalations(session)
        escalations.resolve(escalations.open_for_child(ref, "no_school_place"), event.at, event.actor)

    def notice(self, event: StepEvent, task: OpenedTask, context: dict[str, Any]) -> Notice:
        if task.due_at is None:
            return Notice("task_assigned", context)
        return Notice("direction_deadline", {
            "child_ref": context["child_ref"], "child_name": context["child_name"],
            "school_name": event.latest("school_name") or "the school",
            "step": task.title, "deadline": task.due_at, "path": context["path"]})


GLUE = AdmissionDirection()
