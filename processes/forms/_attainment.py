"""Attainment on the PEP forms: termly teacher assessments against target, GCSE grades at key stage 4, and
post-16 education, employment or training (EET).

The choice lists live here, once: the forms use them, and the Virtual School's records
(``casework.school_data``) import them, so a form and the record it feeds never disagree. The fields
are optional so a PEP begun before they existed stays valid; :meth:`SchoolAgeAttainment.right_measures`
asks for the right ones by year group: GCSE working-at and target grades in English and maths at key
stage 4 (Years 10 and 11), teacher assessments (each with its target) before it.

This module declares no ``FORMS``, so the catalogue in :mod:`processes.forms` skips it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ._fields import Choices

TEACHER_ASSESSMENTS: Choices = [
    ("below", "Working below the expected standard"),
    ("towards", "Working towards the expected standard"),
    ("expected", "Working at the expected standard"),
    ("greater_depth", "Working above the expected standard (greater depth)"),
]
"""A termly teacher assessment against age-related expectations (and the target, on the same scale)."""
GCSE_GRADES: Choices = [(str(grade), f"Grade {grade}") for grade in range(9, 0, -1)]
"""GCSE grades 9 (highest) to 1."""
EET_STATUSES: Choices = [
    ("education", "In education"),
    ("employment", "In employment (with training)"),
    ("training", "In training or an apprenticeship"),
    ("neet", "Not in education, employment or training (NEET)"),
    ("unknown", "Not known"),
]
"""A young person's post-16 education, employment or training status."""
SUBJECTS: Choices = [
    ("reading", "Reading"), ("writing", "Writing"), ("maths", "Maths"), ("english", "English"),
    ("gld", "EYFS good level of development"),
]
"""The subjects an attainment record may be in."""

ASSESSED = (("reading", "Reading"), ("writing", "Writing"), ("maths", "Maths"))
"""The subjects of the termly teacher assessment, before key stage 4."""
GCSE_SUBJECTS = (("english", "English"), ("maths", "Maths"))
"""The subjects whose GCSE grades are recorded at key stage 4."""
KEY_STAGE_4 = (10, 11)
"""The year groups of key stage 4."""


def optional_choice(choices: Choices, label: str, hint: str = "") -> fields.String:
    """An optional choice of one of ``choices``; left blank, it is not in the answers."""
    return fields.String(
        required=False,
        validate=validate.OneOf([value for value, _ in choices], error="Choose one of the options."),
        metadata={"label": label, "hint": hint, "choices": choices},
    )


def assessment_field(subject: str, what: str) -> str:
    """The field holding a subject's teacher assessment (``what``: ``assessment``) or target."""
    return f"{subject}_{what}"


def gcse_field(subject: str, what: str) -> str:
    """The field holding a subject's GCSE grade (``what``: ``working_at`` or ``target``)."""
    return f"gcse_{subject}_{what}"


class SchoolAgeAttainment(Schema):
    """The school-age PEP's attainment: teacher assessments before key stage 4, GCSE grades at it."""

    reading_assessment = optional_choice(TEACHER_ASSESSMENTS, "Reading: teacher assessment",
                                         "Reception to Year 9: this term's assessment against age-related expectations.")
    reading_target = optional_choice(TEACHER_ASSESSMENTS, "Reading: target", "Where the child should be by the "
                                     "end of the year.")
    writing_assessment = optional_choice(TEACHER_ASSESSMENTS, "Writing: teacher assessment")
    writing_target = optional_choice(TEACHER_ASSESSMENTS, "Writing: target")
    maths_assessment = optional_choice(TEACHER_ASSESSMENTS, "Maths: teacher assessment")
    maths_target = optional_choice(TEACHER_ASSESSMENTS, "Maths: target")
    gcse_english_working_at = optional_choice(GCSE_GRADES, "English: GCSE grade working at",
                                              "Years 10 and 11 only (key stage 4).")
    gcse_english_target = optional_choice(GCSE_GRADES, "English: GCSE target grade", "Years 10 and 11 only.")
    gcse_maths_working_at = optional_choice(GCSE_GRADES, "Maths: GCSE grade working at", "Years 10 and 11 only.")
    gcse_maths_target = optional_choice(GCSE_GRADES, "Maths: GCSE target grade", "Years 10 and 11 only.")

    @validates_schema(skip_on_field_errors=False)  # shown with the other fields' errors, not after them
    def right_measures(self, data: dict[str, Any], **kwargs: Any) -> None:
        """At key stage 4 the GCSE grades are required and teacher assessments refused; in Years 0 to 9
        GCSE grades are refused and each teacher assessment comes with its target (both or neither)."""
        year = data.get("school_year_group")
        if not isinstance(year, int):
            return
        errors: dict[str, list[str]] = {}
        if year in KEY_STAGE_4:
            for subject, name in GCSE_SUBJECTS:
                for what, wording in (("working_at", "the GCSE grade the child is working at in {}"),
                                      ("target", "the GCSE target grade in {}")):
                    if not data.get(gcse_field(subject, what)):
                        errors[gcse_field(subject, what)] = [
                            f"Choose {wording.format(name)}: Years 10 and 11 record GCSE grades"]
            for subject, name in ASSESSED:
                for what in ("assessment", "target"):
                    if data.get(assessment_field(subject, what)):
                        errors[assessment_field(subject, what)] = [
                            f"Leave the teacher assessment in {name.lower()} blank: Years 10 and 11 record GCSE grades"]
        elif year < KEY_STAGE_4[0]:
            for subject, name in GCSE_SUBJECTS:
                for what in ("working_at", "target"):
                    if data.get(gcse_field(subject, what)):
                        errors[gcse_field(subject, what)] = [
                            f"Leave the GCSE grades in {name} blank: they are for Years 10 and 11 only"]
            for subject, name in ASSESSED:
                given = {what: bool(data.get(assessment_field(subject, what))) for what in ("assessment", "target")}
                if given["assessment"] != given["target"]:
                    missing, wanted, other = (("target", "target", "teacher assessment") if given["assessment"]
                                              else ("assessment", "teacher assessment", "target"))
                    errors[assessment_field(subject, missing)] = [
                        f"Choose the {wanted} in {name.lower()} as well as the {other}"]
        if errors:
            raise ValidationError(errors)


class Post16Attainment(Schema):
    """The post-16 PEP's education, employment or training status."""

    eet_status = optional_choice(EET_STATUSES, "Education, employment or training",
                                 "The young person's status now (post-16 participation).")
