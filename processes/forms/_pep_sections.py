"""Shared pieces of the ``pep_review`` forms: actions and SEN screening.

Kept apart from :mod:`processes.forms.pep_review` so that each module stays small; this
module declares no ``FORMS`` (only modules named after a process do).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._fields import AHEAD, Window, blank, date, long_date, optional_text, required, text

MEETING = Window(years_before=2, years_after=0, not_before="date_of_birth",
                 not_before_label="the child's date of birth")
"""The PEP meeting has happened: not in the future, not before the child's birth, within the last 2 years."""

SEN_SUPPORT_STATUSES = [
    ("none", "No special educational needs identified"),
    ("sen_support", "SEN support"),
    ("ehc_plan", "Education, health and care (EHC) plan"),
    ("assessment_in_progress", "EHC needs assessment in progress"),
]


class ActionSchema(Schema):
    """One PEP action: what will be done, by whom, by when (Promoting the education of looked after children, DfE statutory guidance 2014, key point 7)."""

    description = text("Action", "What will be done, specifically.", "Describe the action.", max_length=1000)
    owner = text(
        "Owner",
        "The person (or role) who will do it, e.g. 'Ms Patel, designated teacher'.",
        "Say who owns this action.",
        max_length=200,
    )
    due_date = date("Due by", "The date the action must be done by.", "Enter the date the action is due.",
                    invalid="Enter a real date.", window=AHEAD, called="Action due date")
    owner_user = fields.String(
        load_default="",
        validate=validate.Length(max=100, error="Owner's username must be 100 characters or fewer."),
        metadata={"label": "Owner's username (optional)", "autocomplete": "people",
                  "hint": "If the owner uses this service (the designated teacher, the social worker or the "
                          "virtual school head), their username: the follow-up of this action goes to them. "
                          "Leave it blank and the social worker follows it up."},
    )


class PepSections(Schema):
    """Fields every stage's PEP has: targets, SEN screening, actions (Regulations 2010 Schedule 1)."""

    revise_last_answers = True
    """A PEP the VSH returns comes back with the designated teacher's last answers filled in."""

    meeting_date = date("Date of the PEP meeting", "The actions below are due on or after it.",
                        "Enter the date of the PEP meeting.", invalid="Enter a real date.", window=MEETING)

    suspected_unidentified_sen = fields.Boolean(
        load_default=False,
        metadata={
            "label": "We suspect a special educational need that has not been identified",
            "hint": "About 70% of children in care have some SEN; many are undiagnosed on entry. "
            "Choosing Yes refers the child to the SEND team at once.",
        },
    )
    sen_concern = optional_text(
        "The suspected need", "What you have seen, and since when. Required when you suspect a need."
    )
    actions = fields.List(
        fields.Nested(ActionSchema),
        required=True,
        validate=validate.Length(min=1, error="Add at least one action, with an owner and a due date."),
        error_messages=required("Add at least one action, with an owner and a due date."),
        metadata={
            "label": "Actions",
            "hint": "Each SMART target needs actions: what, who owns it, and by when.",
            "item_label": "Action",
        },
    )

    @validates_schema
    def actions_due_after_the_meeting(self, data: dict[str, Any], **kwargs: Any) -> None:
        meeting = data.get("meeting_date")
        if not isinstance(meeting, dt.date):
            return
        late: dict[int, dict[str, list[str]]] = {}
        for index, action in enumerate(data.get("actions") or []):
            due = action.get("due_date") if isinstance(action, dict) else None
            if isinstance(due, dt.date) and due < meeting:
                late[index] = {"due_date": [f"Action {index + 1}'s due date must be on or after the meeting "
                                            f"date, {long_date(meeting)}"]}
        if late:
            raise ValidationError({"actions": late})

    @validates_schema
    def sen_concern_required_when_suspected(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("suspected_unidentified_sen") and blank(data.get("sen_concern")):
            raise ValidationError({"sen_concern": ["Describe the suspected special educational need."]})


def sections_last(schema: type[PepSections]) -> type[PepSections]:
    """Put the shared sections (SEN screening, then actions) after the stage's own fields on the form
    (the meeting's date first of all),
    so the designated teacher records the child's education first and the actions that follow last.
    A stage may mix in more fields (:mod:`processes.forms._attainment`): they follow the stage's own field
    named by its ``measures_after`` (by default they come last of the stage's own fields)."""
    shared = PepSections._declared_fields
    first = {"meeting_date": schema._declared_fields["meeting_date"]}  # the meeting comes before what it records
    mixed = {name for base in schema.__mro__[1:] if base is not PepSections
             for name in getattr(base, "_declared_fields", {})} - shared.keys()
    body = [name for name in schema._declared_fields if name not in shared and name not in mixed]
    anchor = getattr(schema, "measures_after", None)
    at = body.index(anchor) + 1 if anchor in body else len(body)
    names = [*body[:at], *(n for n in schema._declared_fields if n in mixed), *body[at:]]
    own = {name: schema._declared_fields[name] for name in names}
    rest = {name: schema._declared_fields[name] for name in shared if name not in first}
    schema._declared_fields = {**first, **own, **rest}
    return schema
