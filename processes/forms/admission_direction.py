"""Forms of the user tasks of the ``admission_direction`` process.

One schema per user task (the manager's escalations share one). Field names are the
variables the BPMN reads: ``consulted_on`` and ``served_on`` start the statutory 7-day
periods, ``school_agrees_to_admit``, ``direction_decision``, ``adjudicator_outcome``,
``esfa_outcome`` and ``next_step`` steer the gateways, ``esfa_requested_on`` and
``referred_on`` start the council's chase timers, ``admitted_on`` is what the records
store when the child is admitted.

No form here offers a Fair Access Protocol: the protocols do not apply to looked-after
children (School Admissions Code 2021), so a direction (or a request to the Secretary
of State for an academy) is the route when a school will not admit.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._fields import LONG, MOVE, PAST, at_most, blank, choice, date, optional_text, required, text, yes_no

CONSULTATION_METHODS = [
    ("email", "Email"),
    ("letter", "Letter"),
]
DIRECTION_DECISIONS = [
    ("direct", "Direct the school to admit the child"),
    ("school_agreed_to_admit", "No direction needed: the school has agreed to admit"),
    ("withdraw", "Withdraw: do not direct this school"),
]
ADJUDICATOR_OUTCOMES = [
    ("upheld", "Upheld: the school must admit the child"),
    ("not_upheld", "Not upheld (or the adjudicator named another school)"),
]
ESFA_OUTCOMES = [
    ("directed", "The Secretary of State directed the academy to admit"),
    ("school_agreed_to_admit", "The academy agreed to admit"),
    ("declined", "The request was declined"),
]
ESCALATION_ACTIONS = [
    ("chased", "Chased: the step will be done by the date in the notes"),
    ("reassigned", "Given to another officer"),
    ("other", "Other action (say what in the notes)"),
]
NEXT_STEPS = [
    ("another_school", "Choose another school"),
    ("close", "Close: the child's education is secured another way"),
]
REAL_DATE = "Enter a real date, for example 2026-12-01."


class ChooseAnotherSchool(Schema):
    """``choose_another_school`` (admissions officer): the school cannot be directed; name another."""

    school_urn = fields.String(
        required=True,
        validate=[validate.Length(max=6, error="A school URN is 6 digits, for example 100000."),
                  validate.Regexp(r"^\d{6}$", error="A school URN is 6 digits, for example 100000.")],
        error_messages=required("Enter the URN of the school the child should go to instead."),
        metadata={
            "label": "URN of the other school", "autocomplete": "schools",
            "hint": "The 6-digit unique reference number from Get Information about Schools. A child "
            "cannot be directed to a school that permanently excluded them.",
        },
    )
    notes = optional_text("Why this school", "How it meets the child's needs; the child's wishes.")


class ConfirmAdmission(Schema):
    """The child's first day on roll, confirmed with the school."""

    admitted_on = date(
        "Date the child starts",
        "The first day the child is on the school's roll.",
        "Enter the date the child starts at the school.",
        invalid=REAL_DATE, window=MOVE,
    )
    confirmed_with_school = yes_no(
        "The school has confirmed the child is on roll",
        "Confirm with the school before recording the admission.",
        "Confirm with the school that the child is on roll before recording the admission.",
        must_be_yes=True,
    )
    notes = optional_text()


class AdmitChild(ConfirmAdmission):
    """``admit_child`` (admissions officer): the LA is the admission authority and admits."""


class ConfirmChildOnRoll(ConfirmAdmission):
    """``confirm_child_on_roll`` (admissions officer): the place is secured; the child starts."""


class ConsultAdmissionAuthority(Schema):
    """``consult_admission_authority`` (admissions officer): s97A consultation; 7 days start."""

    consulted_on = date(
        "Consulted on",
        "The 7 calendar days for representations count from this date.",
        "Enter the date the admission authority was consulted.",
        invalid=REAL_DATE, window=PAST,
    )
    consultation_method = choice(
        CONSULTATION_METHODS, "Consulted by", "", "Choose how the admission authority was consulted."
    )
    admission_authority_contact = text(
        "Who was consulted",
        "Name and role at the admission authority (governing body or trust).",
        "Enter who was consulted at the admission authority",
        max_length=200,
        too_long="Enter who was consulted at the admission authority (up to 200 characters).",
    )
    notes = optional_text()


class RecordRepresentations(Schema):
    """``record_representations`` (admissions officer): representations made within the 7 days."""

    representations_received_on = date(
        "Received on", "", "Enter the date the representations were received.", invalid=REAL_DATE, window=PAST
    )
    representations = optional_text(
        "Representations", "What the admission authority said. Required unless the school agrees to admit."
    )
    school_agrees_to_admit = yes_no("The school now agrees to admit the child", "",
                                    "Say whether the school now agrees to admit the child.")

    @validates_schema
    def representations_required_unless_agreed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("school_agrees_to_admit") and blank(data.get("representations")):
            raise ValidationError({"representations": ["Record the admission authority's representations."]})


class ConsiderRepresentations(Schema):
    """``consider_representations`` (admissions officer): decide, after the 7 days have ended."""

    direction_decision = choice(
        DIRECTION_DECISIONS,
        "Decision",
        "Use the power of direction in a timely way rather than allow protracted negotiation.",
        "Choose whether to direct the school.",
    )
    decision_reason = optional_text("Reasons",
                                    "How the representations were weighed. Required when withdrawing.")

    @validates_schema
    def reason_required_when_withdrawn(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("direction_decision") == "withdraw" and blank(data.get("decision_reason")):
            raise ValidationError({"decision_reason": ["Give the reason for not directing this school."]})


class ServeDirectionNotice(Schema):
    """``serve_direction_notice`` (admissions officer): written notice to all three (s97A(4))."""

    served_on = date(
        "Notice served on",
        "The 7 calendar days for a referral to the Schools Adjudicator count from this date.",
        "Enter the date the notice of direction was served.",
        invalid=REAL_DATE, window=PAST,
    )
    notice_to_admission_authority = yes_no(
        "Notice served on the admission authority", "",
        "Serve written notice of the direction on the admission authority.",
        must_be_yes=True,
    )
    notice_to_headteacher = yes_no(
        "Notice served on the headteacher", "", "Serve written notice of the direction on the headteacher.",
        must_be_yes=True,
    )
    notice_to_governing_body = yes_no(
        "Notice served on the governing body", "",
        "Serve written notice of the direction on the governing body.",
        must_be_yes=True,
    )
    notes = optional_text()


class RecordAdjudicatorReferral(Schema):
    """``record_adjudicator_referral`` (admissions officer): the admission authority referred it."""

    referred_on = date(
        "Referred on", "The date the admission authority referred the direction to the Schools Adjudicator.",
        "Enter the date of the referral.",
        invalid=REAL_DATE, window=PAST,
    )
    adjudicator_reference = fields.String(
        load_default="",
        validate=validate.Length(max=100, error="Keep the reference to 100 characters."),
        metadata={"label": "Adjudicator's reference", "hint": "If known."},
    )
    notes = optional_text()


class RecordAdjudicatorDecision(Schema):
    """``record_adjudicator_decision`` (admissions officer): the adjudicator's determination."""

    adjudicator_outcome = choice(
        ADJUDICATOR_OUTCOMES, "The adjudicator's decision", "", "Choose the adjudicator's decision."
    )
    adjudicator_decided_on = date("Decided on", "", "Enter the date of the adjudicator's decision.",
                                  invalid=REAL_DATE, window=PAST)
    notes = optional_text("Notes", "If the adjudicator named another school, say which.")


class RequestEsfaDirection(Schema):
    """``request_esfa_direction`` (admissions officer): ask the Secretary of State to direct the academy."""

    esfa_requested_on = date(
        "Request sent on",
        "The council's limit for an outcome counts in working days from this date.",
        "Enter the date the request was sent to the ESFA.",
        invalid=REAL_DATE, window=PAST,
    )
    esfa_reference = fields.String(
        load_default="",
        validate=validate.Length(max=100, error="Keep the reference to 100 characters."),
        metadata={"label": "ESFA reference", "hint": "If the ESFA gave one."},
    )
    notes = optional_text()


class RecordEsfaOutcome(Schema):
    """``record_esfa_outcome`` (admissions officer): what the Secretary of State decided."""

    esfa_outcome = choice(ESFA_OUTCOMES, "Outcome", "", "Choose the outcome of the request.")
    esfa_outcome_on = date("Outcome received on", "", "Enter the date of the outcome.", invalid=REAL_DATE,
                           window=PAST)
    notes = optional_text("Notes", "Required when the request was declined: the reasons given.")

    @validates_schema
    def reasons_required_when_declined(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("esfa_outcome") == "declined" and blank(data.get("notes")):
            raise ValidationError({"notes": ["Record the reasons the request was declined."]})


class HandleEscalation(Schema):
    """The manager's escalations: a step has waited longer than the council allows."""

    escalation_action = choice(
        ESCALATION_ACTIONS,
        "Action taken",
        "The LA must not tolerate drift and delay in securing a school place.",
        "Choose the action taken.",
    )
    escalation_notes = fields.String(
        required=True,
        validate=[validate.Length(min=1, error="Say who does what, by when."),
                  at_most("Who does what, by when", LONG)],
        error_messages=required("Say who does what, by when."),
        metadata={"label": "Who does what, by when", "hint": "", "multiline": True},
    )


class DecideNextStep(Schema):
    """``decide_after_esfa_declined`` / ``decide_after_adjudicator`` (manager): the school is out."""

    next_step = choice(NEXT_STEPS, "Next step", "Choose another school without delay.",
                        "Choose the next step.")
    next_step_notes = optional_text("Notes", "Required when closing: how the child's education is secured.")

    @validates_schema
    def notes_required_when_closing(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("next_step") == "close" and blank(data.get("next_step_notes")):
            raise ValidationError({"next_step_notes": ["Say how the child's education is secured."]})


ESCALATIONS = (
    "escalate_admission_stalled",
    "escalate_consultation_overdue",
    "escalate_decision_overdue",
    "escalate_notice_not_served",
    "escalate_adjudicator_decision_awaited",
    "escalate_child_not_on_roll",
    "escalate_esfa_request_not_sent",
    "escalate_esfa_outcome_overdue",
)

FORMS: dict[str, type[Schema]] = {
    "choose_another_school": ChooseAnotherSchool,
    "admit_child": AdmitChild,
    "consult_admission_authority": ConsultAdmissionAuthority,
    "record_representations": RecordRepresentations,
    "consider_representations": ConsiderRepresentations,
    "serve_direction_notice": ServeDirectionNotice,
    "record_adjudicator_referral": RecordAdjudicatorReferral,
    "record_adjudicator_decision": RecordAdjudicatorDecision,
    "confirm_child_on_roll": ConfirmChildOnRoll,
    "request_esfa_direction": RequestEsfaDirection,
    "record_esfa_outcome": RecordEsfaOutcome,
    "decide_after_esfa_declined": DecideNextStep,
    "decide_after_adjudicator": DecideNextStep,
    **{task_id: HandleEscalation for task_id in ESCALATIONS},
}
