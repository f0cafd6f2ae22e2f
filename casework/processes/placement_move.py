"""``placement_move``: a child's care placement changes, with the school place arranged in parallel.

- **Start data**: the child's facts and the authority's rules (the school-place limit in
  school days, the area notice limit, who approves a distant placement).
- **Facts**: the school applied for gets its facts from the register; a school named
  for a direction must not have permanently excluded the child.
- **After a step**: an approved move records the new placement with the dates its notices were
  given (the area authority, the school, the IRO: reg. 13) and, when the school changes, the new
  school and a new PEP meeting; a manager's decision to direct a school starts ``admission_direction``.
- **Escalations**: the new school place not confirmed within the limit; the school and the IRO, or
  the area authority of an out-of-area placement, not told of the placement in time (reg. 13).

Who approves an out-of-area placement (reg. 11(1)(a)): a placement in an adjoining authority goes to
the ``nominated_officer`` role (the council's nominated officer, who already approves Key Stage 4
moves by default); a distant one to the Director of Children's Services (``dcs``), as reg. 11 requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import FrozenClock
from engine.contracts import OpenedTask, StepEvent
from engine.runtime import Actor

from ..children import ChildService
from ..escalations import Rule
from ..rules import AuthorityRules, lane_roles
from .glue import ProcessGlue, SchoolField, day_of

PROCESS_ID = "placement_move"


class Step(StrEnum):
    PROPOSE_MOVE = "propose_move"
    APPLY_FOR_SCHOOL_PLACE = "apply_for_school_place"
    SCHOOL_PLACE_CONFIRMED = "school_place_confirmed"
    STAYING_AT_CURRENT_SCHOOL = "staying_at_current_school"
    ESCALATE_NO_SCHOOL_PLACE = "escalate_no_school_place"
    NOTIFY_AREA_AUTHORITY = "notify_area_authority"
    NOTIFY_SCHOOL_AND_IRO = "notify_school_and_iro"
    SCHOOL_IRO_NOTICE_OVERDUE = "school_iro_notice_overdue"
    AREA_NOTICE_OVERDUE = "area_notice_overdue"
    MOVE_APPROVED = "move_approved"
    CONFIRM_CARE_PLACEMENT = "confirm_care_placement"
    DISCUSS_SCHOOL_CHOICE = "discuss_school_choice"
    CONFIRM_SCHOOL_PLACE = "confirm_school_place"
    RECORD_VSH_VIEWS = "record_vsh_views"
    APPROVE_KS4_MOVE = "approve_ks4_move"
    APPROVE_OUT_OF_AREA_PLACEMENT = "approve_out_of_area_placement"
    APPROVE_DISTANT_PLACEMENT = "approve_distant_placement"
    SIGN_OFF_MOVE = "sign_off_move"
    SCHOOL_PLACE_DEADLINE = "school_place_deadline"
    VSH_VIEWS_DUE = "vsh_views_due"
    AREA_NOTICE_DUE = "area_notice_due"
    SCHOOL_IRO_NOTICE_DUE = "school_iro_notice_due"


FIRST_TASK = Step.PROPOSE_MOVE

READ_AS: Mapping[str, str] = {
    # care: the placement, the child's wishes about where to live, the reasons, the approvals and the
    # notices of the placement (who was told of it, where the child lives, is the care side too)
    Step.PROPOSE_MOVE: "care",
    Step.CONFIRM_CARE_PLACEMENT: "care",
    Step.APPROVE_KS4_MOVE: "care",
    Step.APPROVE_OUT_OF_AREA_PLACEMENT: "care",
    Step.APPROVE_DISTANT_PLACEMENT: "care",
    Step.NOTIFY_AREA_AUTHORITY: "care",
    Step.AREA_NOTICE_DUE: "care",
    Step.AREA_NOTICE_OVERDUE: "care",
    Step.NOTIFY_SCHOOL_AND_IRO: "care",
    Step.SCHOOL_IRO_NOTICE_DUE: "care",
    Step.SCHOOL_IRO_NOTICE_OVERDUE: "care",
    Step.SIGN_OFF_MOVE: "care",
    # school place: choosing, applying for and keeping a school place, and the VSH's views on it
    Step.DISCUSS_SCHOOL_CHOICE: "school_place",
    Step.APPLY_FOR_SCHOOL_PLACE: "school_place",
    Step.CONFIRM_SCHOOL_PLACE: "school_place",
    Step.SCHOOL_PLACE_DEADLINE: "school_place",
    Step.ESCALATE_NO_SCHOOL_PLACE: "school_place",
    Step.RECORD_VSH_VIEWS: "school_place",
    Step.VSH_VIEWS_DUE: "school_place",
}
"""Each user task and timer of the move -> the kind of information it holds (casework/need_to_know.py,
docs/access.md "Need to know")."""
INSTANCE_READ_AS = "care"
"""The move's own history entries (started with the child's facts, the placement cancelled) are care."""


def start_data(children: ChildService, ref: str, rules: AuthorityRules, now: datetime) -> dict[str, Any]:
    return {
        **children.process_data(ref),
        "move_proposed_at": now.isoformat(),
        "school_place_limit_school_days": rules.school_place_limit_school_days,
        "area_notice_working_days": rules.area_notice_working_days,
        "lane_roles": lane_roles(rules),
    }


class PlacementMove(ProcessGlue):
    process_id = PROCESS_ID
    steps = Step
    school_fields = {
        Step.APPLY_FOR_SCHOOL_PLACE: SchoolField("school_urn"),
        # the direction starts with the facts; the move keeps the school it applied to
        Step.ESCALATE_NO_SCHOOL_PLACE: SchoolField("direction_school_urn", directing=True, adds_facts=False),
    }
    escalations = {
        Step.ESCALATE_NO_SCHOOL_PLACE: Rule(
            "no_school_place", "New school place not found",
            frozenset({Step.SCHOOL_PLACE_CONFIRMED, Step.STAYING_AT_CURRENT_SCHOOL}),
            "No place at the new school has been confirmed within the council's limit for the move.",
            "No place at the new school has been confirmed within the council's limit "
            "({limit_school_days} school days) for the move."),
        Step.AREA_NOTICE_OVERDUE: Rule(
            "area_notice_overdue", "Area authority not notified", frozenset({Step.NOTIFY_AREA_AUTHORITY}),
            "The area authority was not told of the out-of-area placement before it started, or within "
            "5 working days of an emergency placement (reg. 13(4))."),
        Step.SCHOOL_IRO_NOTICE_OVERDUE: Rule(
            "school_iro_not_notified", "School and IRO not notified of the placement",
            frozenset({Step.NOTIFY_SCHOOL_AND_IRO}),
            "The child's school and independent reviewing officer were not told of the placement before it "
            "started, or within 5 working days of an emergency placement (reg. 13(2))."),
    }

    def escalation_item(self, event: StepEvent, task: OpenedTask) -> dict[str, Any]:
        """The late new school place names the council's limit it missed, in school days."""
        limit = event.latest("school_place_limit_school_days")
        if task.element_id != Step.ESCALATE_NO_SCHOOL_PLACE or not isinstance(limit, int):
            return {}
        return {"limit_school_days": limit}

    def after_step(self, session: Session, event: StepEvent) -> None:
        from ..lifecycle import Casework  # the lifecycle starts processes, whose glue this is

        ref, actor = event.instance.business_key, event.actor
        escalated = event.data_at(Step.ESCALATE_NO_SCHOOL_PLACE)
        if escalated is not None and escalated.get("decision") == "start_direction":
            Casework(session, FrozenClock(event.at), event.runtime).start_direction(
                ref, str(escalated["direction_school_urn"]), Actor(actor))
        approved = event.data_at(Step.MOVE_APPROVED)
        if approved is None:
            return
        children = ChildService(session, FrozenClock(event.at))
        placement = children.record_placement(
            ref, actor, placement_type=approved["placement_type"], carer_name=approved.get("carer_name", ""),
            starts_on=day_of(approved["placement_start_date"]), distance=approved["distance"],
            area_authority=approved.get("area_authority") or None)
        placement.school_notified_on = _notice_day(approved, "school_notified_on")
        placement.iro_notified_on = _notice_day(approved, "iro_notified_on")
        if approved["distance"] != "in_area":
            placement.area_notified_on = _notice_day(approved, "notice_sent_on")
        if approved.get("school_changed") and approved.get("school_urn"):
            children.change_school(ref, str(approved["school_urn"]), actor)
            changed_on = day_of(approved.get("start_date") or approved["planned_move_date"])
            Casework(session, FrozenClock(event.at), event.runtime).open_school_change_pep(ref, changed_on)


def _notice_day(data: Mapping[str, Any], name: str) -> date | None:
    """The day a notice was given (a move begun before the notices were modelled has none)."""
    return day_of(data[name]) if data.get(name) else None


GLUE = PlacementMove()
