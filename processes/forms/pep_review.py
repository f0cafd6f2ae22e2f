"""Forms of the user tasks of the ``pep_review`` process (one PEP: initial, termly or school change).

The three stage forms (early years, school age, post-16) share the sections in
:mod:`processes.forms._pep_sections`: SEN screening (``suspected_unidentified_sen``,
``sen_concern``) and ``actions`` (each with an owner and a due date). Field names are the
variable names the BPMN reads: ``rag`` (the red-return loop), ``suspected_unidentified_sen``
(SEN screening), ``actions`` (one follow-up per action), ``referred_on`` (the 6-week SEN
decision timer), ``action_done``/``action_notes`` (each action's outcome).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._attainment import Post16Attainment, SchoolAgeAttainment
from ._fields import PAST, blank, choice, date, money, optional_text, percentage, required, text, yes_no
from ._pep_sections import SEN_SUPPORT_STATUSES, PepSections, sections_last

RAG_RATINGS = [
    ("green", "Green: good quality, ready to sign off"),
    ("amber", "Amber: acceptable, with feedback to act on"),
    ("red", "Red: return to the designated teacher to fix before sign-off"),
]
OVERDUE_PEP_DECISIONS = [
    ("chase_school", "Chase the designated teacher and school"),
    ("chase_social_worker", "Chase the social worker"),
    ("vsh_to_lead", "Ask the virtual school to lead the PEP meeting"),
    ("new_date_agreed", "A new date has been agreed"),
]
EHC_DECISIONS = [
    ("assess", "The LA will carry out an EHC needs assessment"),
    ("not_assess", "The LA will not carry out an EHC needs assessment"),
]


@sections_last
class CompleteEarlyYearsPep(PepSections):
    """``complete_pep_early_years`` (designated teacher / setting lead): a child of 2-4 in a setting."""

    setting_name = text("Early years setting", "Nursery, pre-school or childminder.",
                        "Enter the setting's name.", max_length=200)
    hours_attended = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=60, error="Enter the hours a week, from 0 to 60."),
        error_messages={**required("Enter the hours the child attends each week."),
                        "invalid": "Enter a number."},
        metadata={"label": "Hours attended each week", "hint": "Funded and paid hours together."},
    )
    key_person = text("Key person", "The child's key person at the setting.", "Enter the key person's name.",
                      max_length=200)
    communication_and_language = text(
        "Communication and language", "Progress against the EYFS prime area.",
        "Describe progress in communication and language.")
    physical_development = text(
        "Physical development", "Progress against the EYFS prime area.", "Describe physical development.")
    personal_social_emotional = text(
        "Personal, social and emotional development", "Progress against the EYFS prime area.",
        "Describe personal, social and emotional development.")
    early_years_pupil_premium_use = text(
        "Early Years Pupil Premium", "How it is spent and what it is for.",
        "Say how the Early Years Pupil Premium is used.")
    targets = text("Targets", "Specific, measurable targets for the next term.", "Set the targets.")


@sections_last
class CompleteSchoolAgePep(PepSections, SchoolAgeAttainment):
    """``complete_pep_school_age`` (designated teacher): Reception to Year 11 (and Year 12-13 in school).

    With the termly teacher assessments against target, or the GCSE grades at key stage 4
    (:class:`processes.forms._attainment.SchoolAgeAttainment`), after the attainment summary."""

    measures_after = "attainment_summary"

    school_name = text("School", "The school the child attends.", "Enter the school's name.", max_length=200)
    school_year_group = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=13, error="Enter a year group from 0 (Reception) to 13."),
        error_messages={**required("Enter the child's year group."), "invalid": "Enter a whole number."},
        metadata={"label": "Year group", "hint": "0 for Reception."},
    )
    attendance_percent = percentage(
        "Attendance this term (%)", "From the school's register.", "Enter the child's attendance.")
    exclusions_this_term = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=100, error="Enter a number of exclusions from 0 to 100."),
        error_messages={**required("Enter the number of exclusions this term (0 if none)."),
                        "invalid": "Enter a whole number."},
        metadata={"label": "Exclusions this term", "hint": "Suspensions and permanent exclusions."},
    )
    attainment_summary = text(
        "Attainment and progress", "Against age-related expectations, in each core subject.",
        "Summarise attainment and progress.")
    sen_support_status = choice(
        SEN_SUPPORT_STATUSES, "Special educational needs", "The child's current SEN provision.",
        "Choose the child's SEN status.")
    pupil_premium_plus_spend = money("Pupil Premium Plus spend", "This term, in pounds.",
                                     "Enter the Pupil Premium Plus spend (0 if none).", most=100_000)
    pupil_premium_plus_purpose = text(
        "What Pupil Premium Plus pays for", "Linked to the targets below.",
        "Say what the Pupil Premium Plus pays for.")
    targets = text("SMART targets", "Specific, measurable, achievable, relevant and time-bound.",
                   "Set the targets.")
    planned_changes = optional_text("Planned changes", "Changes of school or provision being considered.")


@sections_last
class CompletePost16Pep(PepSections, Post16Attainment):
    """``complete_pep_post_16`` (designated teacher / provider lead): a young person of 16-18, with their
    education, employment or training status (``eet_status``) after the progress summary."""

    measures_after = "progress_summary"

    provider_name = text("Education or training provider", "College, sixth form, apprenticeship or training.",
                         "Enter the provider's name.", max_length=200)
    course = text("Course", "Course, level and expected end date.", "Enter the course.", max_length=500)
    attendance_percent = percentage(
        "Attendance this term (%)", "From the provider's register.", "Enter the young person's attendance.")
    progress_summary = text("Progress", "Against the course's expectations.", "Summarise progress.")
    careers_advice = text(
        "Careers advice and pathway plan", "Advice given, and how it links to the pathway plan.",
        "Describe the careers advice and the link to the pathway plan.")
    bursary_16_19 = fields.Boolean(
        load_default=False,
        metadata={"label": "Receives the 16 to 19 Bursary",
                  "hint": "Looked-after young people are eligible."},
    )
    targets = text("Targets", "Specific, measurable targets for the next term.", "Set the targets.")


class SocialWorkerContribution(Schema):
    """``social_worker_contribution`` (social worker): the care side of the PEP."""

    care_plan_context = text("Care plan", "What the care plan says about education.",
                             "Describe the care plan's education context.")
    placement_stability = text("Placement stability", "Is a move of placement or school likely?",
                               "Describe the placement's stability.")
    carers_support = text("What the carers will do", "Homework, reading, attendance, activities.",
                          "Say what the carers will do.")
    attendance_concerns = optional_text("Attendance concerns", "Anything the carers or child have raised.")


class RecordChildsViews(Schema):
    """``record_childs_views`` (social worker): the child's views, in their own words."""

    childs_views = text(
        "The child's views", "In the child's own words where possible.", "Record the child's views.")
    how_views_gathered = optional_text(
        "How the views were gathered", "For a very young child, how their views were gathered or observed.")


class QualityAssurePep(Schema):
    """``quality_assure_pep`` (virtual school head): Red/Amber/Green with feedback."""

    rag = choice(RAG_RATINGS, "Quality rating", "Red returns the PEP to the designated teacher.",
                 "Choose a rating.")
    feedback = optional_text("Feedback", "What is good, and what to improve.")
    return_reason = optional_text("Why it is returned", "Required when the rating is red.")

    @validates_schema
    def reason_required_when_red(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("rag") == "red" and blank(data.get("return_reason")):
            raise ValidationError({"return_reason": ["Say why the PEP is returned, so it can be fixed."]})


class EscalateOverduePep(Schema):
    """``escalate_overdue_pep`` (manager): the PEP was not complete by its due date."""

    escalation_action = choice(OVERDUE_PEP_DECISIONS, "What you will do", "", "Choose what you will do.")
    escalation_notes = optional_text("Notes", "Who does what, by when.")


class ReferToSend(Schema):
    """``refer_to_send`` (designated teacher): refer a suspected need to the SEND team."""

    referred_on = date("Referred on", "The SEND team's 6-week decision counts from this date.",
                       "Enter the date of the referral.", invalid="Enter a real date.", window=PAST)
    referral_summary = text("What was referred", "The need, the evidence, and any request for assessment.",
                            "Say what was referred.")


class SendDecision(Schema):
    """``send_decision`` (SEN officer): whether the LA will carry out an EHC needs assessment."""

    ehc_assessment_decision = choice(EHC_DECISIONS, "Decision", "Within 6 weeks of the request.",
                                     "Choose the decision.")
    decided_on = date("Decided on", "", "Enter the date of the decision.", invalid="Enter a real date.",
                      window=PAST)
    decision_notes = optional_text("Notes", "Reasons, and support in the meantime.")


class EscalateSendDecisionOverdue(Schema):
    """``escalate_send_decision_overdue`` (manager): the 6-week SEN decision is overdue."""

    escalation_notes = text("What you will do", "Who you have contacted, and what was agreed.",
                            "Say what you will do.")


class ConfirmActionDone(Schema):
    """``confirm_action_done`` (social worker): one PEP action's outcome."""

    action_done = yes_no("The action was done", "Choose No if it is no longer needed; say why.",
                         "Say whether the action was done.")
    action_notes = optional_text("Notes", "Required when the action was not done.")

    @validates_schema
    def notes_required_when_not_done(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("action_done") is False and blank(data.get("action_notes")):
            raise ValidationError(
                {"action_notes": ["Say why the action was not done and what happens instead."]}
            )


class EscalateOverdueAction(Schema):
    """``escalate_overdue_action`` (manager): a PEP action passed its due date."""

    escalation_notes = text("What you will do", "Who you have contacted, and the new date.",
                            "Say what you will do.")


FORMS = {
    "complete_pep_early_years": CompleteEarlyYearsPep,
    "complete_pep_school_age": CompleteSchoolAgePep,
    "complete_pep_post_16": CompletePost16Pep,
    "social_worker_contribution": SocialWorkerContribution,
    "record_childs_views": RecordChildsViews,
    "quality_assure_pep": QualityAssurePep,
    "escalate_overdue_pep": EscalateOverduePep,
    "refer_to_send": ReferToSend,
    "send_decision": SendDecision,
    "escalate_send_decision_overdue": EscalateSendDecisionOverdue,
    "confirm_action_done": ConfirmActionDone,
    "escalate_overdue_action": EscalateOverdueAction,
}

# -- what a PEP record holds, by stage -----------------------------------------------------------------
# The sections of a PEP are the fields of its stage's form plus the social worker's contribution and
# the child's views, so the record (casework.peps) and the forms never drift.
STAGES = ("early_years", "school_age", "post_16")
CONTRIBUTION_TASKS = ("complete_pep_early_years", "complete_pep_school_age", "complete_pep_post_16",
                      "social_worker_contribution", "record_childs_views")
_NOT_SECTIONS = ("actions", "suspected_unidentified_sen", "sen_concern")


def _sections(stage: str) -> tuple[str, ...]:
    names = [n for n in FORMS[f"complete_pep_{stage}"]().fields if n not in _NOT_SECTIONS]
    for task in ("social_worker_contribution", "record_childs_views"):
        names.extend(n for n in FORMS[task]().fields if n not in names)
    return tuple(names)


SECTIONS: dict[str, tuple[str, ...]] = {stage: _sections(stage) for stage in STAGES}
"""Stage -> the PEP sections (field names) a PEP of that stage records."""
