"""Forms of the user tasks of the ``placement_move`` process.

One schema per user task, named after the task. Each field carries what a form
renderer needs in ``metadata``: ``label``, ``hint``, ``multiline`` for long text and
``choices`` as ``(value, label)`` pairs. The loaded data is merged into the workflow
data, so field names are the variable names BPMN expressions read (the sign-off
gateway reads ``decision``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

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
ESCALATION_DECISIONS = [
    ("start_direction", "Start the direction procedure (or ask the ESFA for an academy)"),
    ("continue_negotiation", "Continue negotiating with the school for a short, stated time"),
    ("alternative_provision", "Arrange alternative provision in the meantime"),
]
SIGN_OFF_DECISIONS = [
    ("approve", "Approve the move"),
    ("refuse", "Refuse the move"),
]


def _values(choices: list[tuple[str, str]]) -> list[str]:
    return [value for value, _ in choices]


def _required(message: str) -> dict[str, str]:
    return {"required": message, "null": message}


def _choice(choices: list[tuple[str, str]], label: str, hint: str, message: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(_values(choices), error="Choose one of the options."),
        error_messages=_required(message),
        metadata={"label": label, "hint": hint, "choices": choices},
    )


class ProposeMove(Schema):
    """``propose_move`` (social worker): why, when, and what the child wants."""

    reason = _choice(
        MOVE_REASONS,
        "Reason for the move",
        "The main reason; give detail below.",
        "Choose the reason for the move.",
    )
    reason_detail = fields.String(
        load_default="",
        metadata={
            "label": "About the reason",
            "hint": "What has happened and what has been tried.",
            "multiline": True,
        },
    )
    planned_move_date = fields.Date(
        required=True,
        error_messages=_required("Enter the planned date of the move."),
        metadata={"label": "Planned move date", "hint": "For an emergency move, the date it happened."},
    )
    emergency = fields.Boolean(
        load_default=False,
        metadata={
            "label": "This is an emergency move",
            "hint": "The care placement goes first; the school place follows as soon as reasonably practicable.",
        },
    )
    childs_wishes = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Record the child's wishes and feelings about the move."),
        error_messages=_required("Record the child's wishes and feelings about the move."),
        metadata={
            "label": "The child's wishes and feelings",
            "hint": "In the child's own words where possible, including about changing school.",
            "multiline": True,
        },
    )


class ConfirmCarePlacement(Schema):
    """``confirm_care_placement`` (social worker): the placement the child moves to."""

    placement_type = _choice(
        PLACEMENT_TYPES,
        "Type of placement",
        "As it will be recorded for the SSDA903 return.",
        "Choose the type of placement.",
    )
    placement_start_date = fields.Date(
        required=True,
        error_messages=_required("Enter the date the placement starts."),
        metadata={"label": "Placement start date", "hint": "The day the child moves in."},
    )
    in_area = fields.Boolean(
        required=True,
        error_messages=_required("Say whether the placement is inside the council's area."),
        metadata={
            "label": "Inside the council's area",
            "hint": "Untick for an out-of-area placement: the area authority must be notified.",
        },
    )
    carer_name = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=200, error="Enter the carer's or home's name (up to 200 characters)."
        ),
        error_messages=_required("Enter the name of the carer or home."),
        metadata={"label": "Carer or home", "hint": "The foster carer's name, or the children's home."},
    )


class ArrangeSchoolPlace(Schema):
    """``arrange_school_place`` (social worker): the school that best meets the child's needs."""

    school_urn = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{6}$", error="A school URN is 6 digits, for example 100000."),
        error_messages=_required("Enter the school's URN."),
        metadata={
            "label": "School URN",
            "hint": "The 6-digit unique reference number from Get Information about Schools.",
        },
    )
    school_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Enter the school's name (up to 200 characters)."),
        error_messages=_required("Enter the school's name."),
        metadata={"label": "School name", "hint": ""},
    )
    discussion_with_designated_teacher_held = fields.Boolean(
        required=True,
        validate=validate.Equal(
            True,
            error="Hold an informed discussion with the designated teacher about which school "
            "best meets the child's needs before confirming the place.",
        ),
        error_messages=_required("Say whether the discussion with the designated teacher was held."),
        metadata={
            "label": "Discussed with the designated teacher",
            "hint": "Which school best meets the child's needs, and how the move will be supported.",
        },
    )
    place_confirmed_date = fields.Date(
        required=True,
        error_messages=_required("Enter the date the school confirmed the place."),
        metadata={
            "label": "Place confirmed on",
            "hint": "The date the school or admissions team confirmed it.",
        },
    )


class EscalateNoSchoolPlace(Schema):
    """``escalate_no_school_place`` (manager): the child has been without a school place too long."""

    decision = _choice(
        ESCALATION_DECISIONS,
        "Next step",
        "The LA should use its power of direction rather than allow protracted negotiation.",
        "Choose the next step.",
    )
    notes = fields.String(
        load_default="",
        metadata={"label": "Notes", "hint": "Who does what, by when.", "multiline": True},
    )


class RecordVshViews(Schema):
    """``record_vsh_views`` (virtual school head): views on the education side, before the decision."""

    views = fields.String(
        required=True,
        validate=validate.Length(min=1, error="Record the virtual school head's views."),
        error_messages=_required("Record the virtual school head's views."),
        metadata={
            "label": "Views of the virtual school head",
            "hint": "On the school place, the timing of the move and the support the child needs.",
            "multiline": True,
        },
    )
    supports_move = fields.Boolean(
        required=True,
        error_messages=_required("Say whether the virtual school head supports the move."),
        metadata={"label": "The virtual school head supports the move", "hint": ""},
    )


class SignOffMove(Schema):
    """``sign_off_move`` (manager): approve or refuse, giving weight to the VSH's views."""

    decision = _choice(SIGN_OFF_DECISIONS, "Decision", "", "Choose whether to approve or refuse the move.")
    reason = fields.String(
        load_default="",
        metadata={"label": "Reason", "hint": "Required when refusing the move.", "multiline": True},
    )

    @validates_schema
    def reason_required_when_refused(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            raise ValidationError({"reason": ["Give the reason for refusing the move."]})


FORMS = {
    "propose_move": ProposeMove,
    "confirm_care_placement": ConfirmCarePlacement,
    "arrange_school_place": ArrangeSchoolPlace,
    "escalate_no_school_place": EscalateNoSchoolPlace,
    "record_vsh_views": RecordVshViews,
    "sign_off_move": SignOffMove,
}
