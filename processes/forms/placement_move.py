"""Forms of the user tasks of the ``placement_move`` process.

One schema per user task, named after the task. Each field carries what a form
renderer needs in ``metadata``: ``label``, ``hint``, ``multiline`` for long text and
``choices`` as ``(value, label)`` pairs. The loaded data is merged into the workflow
data, so field names are the variable names BPMN expressions read: ``emergency``,
``distance``, ``outcome``, ``place_offered``, ``ks4_decision``, ``out_of_area_decision``,
``dcs_decision`` and the sign-off's ``decision``. Names are chosen so that no form overwrites
another's data (the escalation names its school ``direction_school_urn``, the sign-off its reason
``sign_off_reason``): the records read the data at the end of the move, including the dates the
notices of the placement were given (``school_notified_on``, ``iro_notified_on``, ``notice_sent_on``).
The two out-of-area approvals share ``area_authority_notified``/``area_authority_notified_on``: a move
asks for one of them at most.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._fields import (
    MOVE,
    ONE_LINE,
    PAST,
    Window,
    at_most,
    blank,
    choice,
    date,
    narrative,
    optional_text,
    plausible,
    required,
    today,
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
NOTICE_METHODS = [
    ("email", "Email (secure)"),
    ("letter", "Letter"),
    ("phone", "Phone"),
    ("in_person", "In person"),
]
NO_PROVIDER = "no_provider"
SCHOOL_NOTICE_METHODS = [*NOTICE_METHODS, (NO_PROVIDER, "Not needed: the child has no school or education provider")]
NOT_FUTURE = Window(years_before=2, years_after=0)
"""A notice that has been given: today at the latest, within the last 2 years."""
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
        "Out of area needs a nominated officer's approval; at a distance, the Director of Children's "
        "Services' approval (reg. 11).",
        "Say where the placement is.",
    )
    area_authority = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="Enter the authority's name (up to 200 characters)."),
        metadata={"label": "Area authority", "autocomplete": "authorities",
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
        metadata={"label": "School URN", "autocomplete": "schools",
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
        metadata={"label": "School to direct to (URN)", "autocomplete": "schools",
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


def _by_the_approval(value: dt.date) -> None:
    """The area authority is told before the approval, so its date is not after the approval's: today."""
    now = today()
    if now is not None and value > now:
        raise ValidationError("The date the area authority was notified must be today or earlier: it is "
                              "notified before the placement is approved, and the approval is today")


class OutOfAreaApproval(Schema):
    """What both out-of-area approvals record (reg. 11): the area authority was notified before the approval.

    Reg. 11 of the Care Planning, Placement and Case Review (England) Regulations 2010 (as amended in 2013):
    a placement outside the council's area is approved by a nominated officer (the Director of Children's
    Services for a distant one), and the authority where the child will live is notified before that
    approval. ``decision_field`` names the subclass's decision.
    """

    decision_field: ClassVar[str]
    reason_field: ClassVar[str]

    area_authority_notified = yes_no(
        "The area authority has been notified",
        "The authority where the child will live must be notified before the placement is approved (reg. 11).",
        "Say whether the area authority has been notified.",
    )
    area_authority_notified_on = fields.Date(
        load_default=None,
        allow_none=True,
        validate=[_by_the_approval, plausible("The date the area authority was notified", Window(years_before=2))],
        metadata={"label": "Date the area authority was notified",
                  "hint": "Today or earlier: the notice comes before the approval."},
    )

    @validates_schema
    def notified_before_approval(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get(self.decision_field) == "approve" and data.get("area_authority_notified") is False:
            raise ValidationError({"area_authority_notified": [
                "The area authority must be notified before an out-of-area placement is approved (reg. 11)."]})
        if data.get("area_authority_notified") and data.get("area_authority_notified_on") is None:
            raise ValidationError({"area_authority_notified_on": ["Enter the date the area authority was notified."]})
        _refusal_needs_reason(data, self.decision_field, self.reason_field,
                              "Give the reason for refusing the placement.")


class ApproveOutOfAreaPlacement(OutOfAreaApproval):
    """``approve_out_of_area_placement`` (nominated officer): reg. 11, a placement in an adjoining authority."""

    decision_field = "out_of_area_decision"
    reason_field = "out_of_area_refusal_reason"

    out_of_area_decision = choice(APPROVAL_DECISIONS, "Decision", "",
                                  "Choose whether to approve or refuse the placement.")
    out_of_area_refusal_reason = optional_text("Reason", "Needed when refusing.")


class ApproveDistantPlacement(OutOfAreaApproval):
    """``approve_distant_placement`` (Director of Children's Services): reg. 11, a distant placement."""

    decision_field = "dcs_decision"
    reason_field = "dcs_refusal_reason"

    dcs_decision = choice(APPROVAL_DECISIONS, "Decision", "",
                          "Choose whether to approve or refuse the placement.")
    dcs_refusal_reason = optional_text("Reason", "Needed when refusing.")


def _notice_date(label: str, message: str, hint: str) -> fields.Date:
    return date(label, hint, message, window=NOT_FUTURE)


def _who(label: str, hint: str, message: str) -> fields.String:
    return fields.String(
        required=True,
        validate=[validate.Regexp(r"\S", error=message), at_most(label, ONE_LINE)],
        error_messages=required(message),
        metadata={"label": label, "hint": hint},
    )


class NotifySchoolAndIro(Schema):
    """``notify_school_and_iro`` (social worker): reg. 13(2)(h),(i), the school and the IRO are told.

    Before the placement starts, or within 5 working days of its start in an emergency (reg. 13(3)).
    A child with no school or education provider needs no school notice.
    """

    school_notice_method = choice(SCHOOL_NOTICE_METHODS, "How the school or education provider was told",
                                  "The school or provider the child attends now.",
                                  "Say how the school or education provider was told.")
    school_notified_to = fields.String(
        load_default="",
        validate=at_most("Who at the school or provider", ONE_LINE),
        metadata={"label": "Who at the school or provider",
                  "hint": "For example the designated teacher or the headteacher."},
    )
    school_notified_on = fields.Date(
        load_default=None,
        allow_none=True,
        validate=plausible("The date the school was told", NOT_FUTURE),
        metadata={"label": "Date the school or provider was told", "hint": "Today or earlier."},
    )
    iro_notice_method = choice(NOTICE_METHODS, "How the IRO was told", "",
                               "Say how the independent reviewing officer was told.")
    iro_notified_to = _who("Independent reviewing officer (IRO)", "The child's IRO, by name.",
                           "Enter the name of the independent reviewing officer who was told.")
    iro_notified_on = _notice_date("Date the IRO was told", "Enter the date the IRO was told.", "Today or earlier.")

    @validates_schema
    def school_told_unless_none(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("school_notice_method") in (None, NO_PROVIDER):
            return
        errors = {}
        if blank(data.get("school_notified_to")):
            errors["school_notified_to"] = ["Say who at the school or education provider was told."]
        if data.get("school_notified_on") is None:
            errors["school_notified_on"] = ["Enter the date the school or education provider was told."]
        if errors:
            raise ValidationError(errors)


class SchoolIroNoticeOverdue(Schema):
    """``school_iro_notice_overdue`` (manager): the school or the IRO was not told of the placement in time."""

    school_iro_action_taken = narrative("What has been done", "Who tells the school and the IRO, and by when.",
                                        "Record what has been done to tell the school and the IRO.")


class NotifyAreaAuthority(Schema):
    """``notify_area_authority`` (social worker): the notice to the authority the child will live in."""

    notice_sent_on = _notice_date("Notice sent on", "Enter the date the notice was sent.",
                                  "Before the placement starts; in an emergency within 5 working days of it.")
    area_notice_method = choice(NOTICE_METHODS, "How it was sent", "", "Say how the area authority was told.")
    notified_to = _who("Sent to", "The team or officer at the area authority.",
                       "Say who at the area authority was notified.")


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
    "approve_out_of_area_placement": ApproveOutOfAreaPlacement,
    "approve_distant_placement": ApproveDistantPlacement,
    "notify_school_and_iro": NotifySchoolAndIro,
    "school_iro_notice_overdue": SchoolIroNoticeOverdue,
    "notify_area_authority": NotifyAreaAuthority,
    "area_notice_overdue": AreaNoticeOverdue,
    "sign_off_move": SignOffMove,
}
