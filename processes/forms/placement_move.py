"""Forms of the user tasks of the ``placement_move`` process.

One schema per user task, named after the task. Each field carries what a form
renderer needs in ``metadata``: ``label``, ``hint``, ``multiline`` for long text and
``choices`` as ``(value, label)`` pairs. The loaded data is merged into the workflow
data, so field names are the variable names BPMN expressions read: ``emergency``,
``distance``, ``outcome``, ``place_offered``, ``ks4_decision``, ``dcs_decision`` and the
sign-off's ``decision``. Names are chosen so that no form overwrites another's data
(the escalation names its school ``direction_school_urn``, the sign-off its reason
``sign_off_reason``): the records read the data at the end of the move.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._fields import (
    MOVE,
    ONE_LINE,
    PAST,
    at_most,
    blank,
    choice,
    date,
    narrative,
    optional_text,
    plausible,
    required,
    yes_no,
)

URN = re.compile(r"^\d{6}$")
URN_ERROR = "A school URN is 6 digits, for example 100000."
APPROVAL_DECISIONS = [("approve", "Approve"), ("refuse", "Refuse")]


def _refusal_needs_reason(data: dict[str, Any], decision: str, reason: str, message: str) -> None:
    if data.get(decision) == "refuse" and blank(data.get(reason)):
        raise ValidationError({reason: [message]})


MOVE_REASONS = [
    ("carer_request", "Carer asked for the child to move"),
    ("placement_breakdown", "Placement breakdown"),
    ("safeguarding", "Safeguarding concern"),
    ("planned_permanence", "Planned move to permanence"),
    ("other", "Other"),
]
PLACEMENT_TYPES = [
    ("foster_care", "Foster care (LA carer)"),
    ("agency_foster_care", "Foster care (agency carer)"),
    ("kinship_care", "Kinship / connected-person care"),
    ("childrens_home", "Children's home"),
    ("residential_school", "Residential school"),
    ("semi_independent", "Semi-independent accommodation (16+)"),
    ("placed_with_parents", "Placed with parents"),
    ("adoption", "Placed for adoption"),
    ("other", "Other"),
]
DISTANCES = [
    ("in_area", "In the council's own area"),
    ("out_of_area_adjoining", "Out of area, in an adjoining authority"),
    ("out_of_area_distant", "Out of area and not adjoining ('at a distance')"),
]
SCHOOL_CHOICE_OUTCOMES = [
    ("stay_at_current_school", "The child stays at their current school"),
    ("change_school", "The child changes school"),
]
ESCALATION_DECISIONS = [
    ("start_direction", "Start the direction procedure (or ask the ESFA for an academy)"),
    ("continue_negotiation", "Continue negotiating with the school for a short, stated time"),
    ("alternative_provision", "Arrange alternative provision in the meantime"),
]


class ProposeMove(Schema):
    """``propose_move`` (social worker): why, when, and what the child wants."""

    reason = choice(MOVE_REASONS, "Reason for the move", "The main reason; give detail below.",
                    "Choose the reason for the move.")
    reason_detail = optional_text("About the reason", "What has happened and what has been tried.")
    planned_move_date = date("Planned move date", "For an emergency move, the date it happened.",
                             "Enter the planned date of the move.", window=MOVE)
    emergency = fields.Boolean(
        load_default=False,
        metadata={
            "label": "This is an emergency move",
            "hint": "The care placement goes first; the school place follows as soon as reasonably "
            "practicable.",
        },
    )
    childs_wishes = narrative("The child's wishes and feelings",
                              "In the child's own words where possible, including about changing school.",
                              "Record the child's wishes and feelings about the move.")


class ConfirmCarePlacement(Schema):
    """``confirm_care_placement`` (social worker): the placement the child moves to."""

    placement_type = choice(PLACEMENT_TYPES, "Type of placement",
                            "As it will be recorded for the SSDA903 return.", "Choose the type of placement.")
    placement_start_date = date("Placement start date", "The day the child moves in.",
                                "Enter the date the placement starts.", window=MOVE)
    carer_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200,
                                 error="Enter the carer's or home's name (up to 200 characters)."),
        error_messages=required("Enter the name of the carer or home."),
        metadata={"label": "Carer or home", "hint": "The foster carer's name, or the children's home."},
    )
    distance = choice(
        DISTANCES, "Where the placement is",
        "A placement at a distance needs the Director of Children's Services' approval (reg. 11).",
        "Say where the placement is.",
    )
    area_authority = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="Enter the authority's name (up to 200 characters)."),
        metadata={"label": "Area authority",
                  "hint": "The authority the child will live in, for an out-of-area placement."},
    )

    @validates_schema
    def area_authority_needed_out_of_area(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("distance", "in_area") != "in_area" and blank(data.get("area_authority")):
            raise ValidationError(
                {"area_authority": ["Name the authority the child will live in: it must be notified."]}
            )


class DiscussSchoolChoice(Schema):
    """``discuss_school_choice`` (social worker): the informed discussion with the designated teacher."""

    discussion_with_designated_teacher_held = fields.Boolean(
        required=True,
        validate=validate.Equal(
            True,
            error="Hold an informed discussion with the designated teacher about which school best meets "
            "the child's needs before going on.",
        ),
        error_messages=required("Say whether the discussion with the designated teacher was held."),
        metadata={"label": "Discussed with the designated teacher",
                  "hint": "Which school best meets the child's needs, and how the move will be supported."},
    )
    designated_teacher_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200,
                                 error="Enter the designated teacher's name (up to 200 characters)."),
        error_messages=required("Enter the designated teacher's name."),
        metadata={"label": "Designated teacher", "hint": "The designated teacher you discussed it with."},
    )
    childs_wishes_about_school = narrative(
        "The child's wishes about school",
        "Whether they want to stay, and why; in their own words where possible.",
        "Record what the child wants about their school.",
    )
    outcome = choice(SCHOOL_CHOICE_OUTCOMES, "Outcome", "Staying needs no application.",
                     "Choose whether the child stays at their school or changes school.")


class ApplyForSchoolPlace(Schema):
    """``apply_for_school_place`` (social worker): the application to the agreed school."""

    school_urn = fields.String(
        required=True,
        validate=[validate.Length(max=6, error=URN_ERROR), validate.Regexp(URN, error=URN_ERROR)],
        error_messages=required("Enter the school's URN."),
        metadata={"label": "School URN",
                  "hint": "The 6-digit unique reference number from Get Information about Schools."},
    )
    application_date = date("Applied on", "In-year applications have an outcome within 15 school days.",
                            "Enter the date of the application.", window=PAST, called="Application date")
    application_notes = optional_text("Notes", "Anything the admissions team needs to know.")


class ConfirmSchoolPlace(Schema):
    """``confirm_school_place`` (social worker): the school's answer."""

    place_offered = yes_no("The school offered a place", "Choose No if the school refused.",
                           "Say whether the school offered a place.")
    start_date = fields.Date(
        load_default=None,
        allow_none=True,
        validate=plausible("Start date", MOVE),
        metadata={"label": "Start date", "hint": "The child's first day at the school."},
    )
    refusal_reason = optional_text("Why the school refused", "Needed when it refused.")

    @validates_schema
    def offered_or_refused_in_full(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("place_offered") and data.get("start_date") is None:
            raise ValidationError({"start_date": ["Enter the date the child starts at the school."]})
        if data.get("place_offered") is False and blank(data.get("refusal_reason")):
            raise ValidationError({"refusal_reason": ["Say why the school refused the place."]})


class EscalateNoSchoolPlace(Schema):
    """``escalate_no_school_place`` (manager): the child has been without a school place too long.

    There is no Fair Access Protocol option: looked-after children never go through one.
    """

    decision = choice(ESCALATION_DECISIONS, "Next step",
                      "The LA should use its power of direction rather than allow protracted negotiation.",
                      "Choose the next step.")
    notes = optional_text("Notes", "Who does what, by when.")
    direction_school_urn = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=6, error=URN_ERROR),
        metadata={"label": "School to direct to (URN)",
                  "hint": "Needed to start the direction procedure: the 6-digit URN."},
    )

    @validates_schema
    def school_named_for_a_direction(self, data: dict[str, Any], **kwargs: Any) -> None:
        urn = (data.get("direction_school_urn") or "").strip()
        if data.get("decision") == "start_direction" and not urn:
            raise ValidationError({"direction_school_urn": ["Enter the URN of the school to direct to."]})
        if urn and not URN.match(urn):
            raise ValidationError({"direction_school_urn": [URN_ERROR]})



class RecordVshViews(Schema):
    """``record_vsh_views`` (virtual school head): views on the education side, before the decision."""

    views = narrative("Views of the virtual school head",
                      "On the school place, the timing of the move and the support the child needs.",
                      "Record the virtual school head's views.")
    supports_move = yes_no("The virtual school head supports the move", "",
                           "Say whether the virtual school head supports the move.")


class ApproveKs4Move(Schema):
    """``approve_ks4_move`` (the council's KS4 approver): the four points of reg. 10."""

    childs_wishes_ascertained = yes_no("The child's wishes and feelings were ascertained",
                                       "And given due consideration.",
                                       "Say whether the child's wishes were heard.")
    provision_meets_pep = yes_no("The new education provision meets the child's needs in the PEP", "",
                                 "Say whether the new provision meets the PEP.")
    designated_teacher_consulted = yes_no("The designated teacher was consulted", "",
                                          "Say whether the designated teacher was consulted.")
    iro_consulted = yes_no("The independent reviewing officer was consulted", "",
                           "Say whether the IRO was consulted.")
    ks4_decision = choice(APPROVAL_DECISIONS, "Decision", "", "Choose whether to approve or refuse the move.")
    ks4_refusal_reason = optional_text("Reason", "Needed when refusing.")

    @validates_schema
    def every_point_satisfied_to_approve(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("ks4_decision") == "approve":
            unmet = [name for name in ("childs_wishes_ascertained", "provision_meets_pep",
                                       "designated_teacher_consulted", "iro_consulted")
                     if data.get(name) is False]
            if unmet:
                raise ValidationError({name: ["Reg. 10 requires this before the move can be approved."]
                                       for name in unmet})
        _refusal_needs_reason(data, "ks4_decision", "ks4_refusal_reason",
                              "Give the reason for refusing the move.")


class ApproveDistantPlacement(Schema):
    """``approve_distant_placement`` (Director of Children's Services): reg. 11."""

    dcs_decision = choice(APPROVAL_DECISIONS, "Decision", "",
                          "Choose whether to approve or refuse the placement.")
    dcs_refusal_reason = optional_text("Reason", "Needed when refusing.")

    @validates_schema
    def refusal_needs_reason(self, data: dict[str, Any], **kwargs: Any) -> None:
        _refusal_needs_reason(data, "dcs_decision", "dcs_refusal_reason",
                              "Give the reason for refusing the placement.")


class NotifyAreaAuthority(Schema):
    """``notify_area_authority`` (social worker): the notice to the authority the child will live in."""

    notice_sent_on = date("Notice sent on",
                          "Before the placement starts; in an emergency within 5 working days of it.",
                          "Enter the date the notice was sent.", window=PAST)
    notified_to = fields.String(
        required=True,
        validate=[validate.Regexp(r"\S", error="Say who at the area authority was notified."),
                  at_most("Sent to", ONE_LINE)],
        error_messages=required("Say who at the area authority was notified."),
        metadata={"label": "Sent to", "hint": "The team or officer at the area authority."},
    )


class AreaNoticeOverdue(Schema):
    """``area_notice_overdue`` (manager): the area authority was not notified in time."""

    action_taken = narrative("What has been done", "Who notifies the area authority, and by when.",
                             "Record what has been done to notify the area authority.")


class SignOffMove(Schema):
    """``sign_off_move`` (manager): approve or refuse, giving weight to the VSH's views."""

    decision = choice(APPROVAL_DECISIONS, "Decision", "", "Choose whether to approve or refuse the move.")
    sign_off_reason = optional_text("Reason", "Required when refusing the move.")

    @validates_schema
    def reason_required_when_refused(self, data: dict[str, Any], **kwargs: Any) -> None:
        _refusal_needs_reason(data, "decision", "sign_off_reason", "Give the reason for refusing the move.")


FORMS = {
    "propose_move": ProposeMove,
    "confirm_care_placement": ConfirmCarePlacement,
    "discuss_school_choice": DiscussSchoolChoice,
    "apply_for_school_place": ApplyForSchoolPlace,
    "confirm_school_place": ConfirmSchoolPlace,
    "escalate_no_school_place": EscalateNoSchoolPlace,
    "record_vsh_views": RecordVshViews,
    "approve_ks4_move": ApproveKs4Move,
    "approve_distant_placement": ApproveDistantPlacement,
    "notify_area_authority": NotifyAreaAuthority,
    "area_notice_overdue": AreaNoticeOverdue,
    "sign_off_move": SignOffMove,
}
