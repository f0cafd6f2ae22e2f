"""The PEP forms' attainment, through the real engine, forms, hooks and database: a school-age PEP records
its teacher assessments and the child's SEN status; a key stage 4 PEP must give GCSE grades; a post-16 PEP
records the young person's education, employment or training status."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.records import Child
from casework.school_data import Attainment, EetStatus
from engine.clock import FrozenClock
from engine.errors import InvalidData
from processes.forms.pep_review import CompleteSchoolAgePep
from tests.casework.records_support import LA
from tests.casework.world import World

ACTION = {"description": "Book a maths tutor", "owner": "Ms Patel", "due_date": "2026-12-10"}
SCHOOL_AGE: dict[str, Any] = {
    "meeting_date": "2026-11-30", "school_name": "Riverside Primary", "school_year_group": 5,
    "attendance_percent": 91.5, "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
    "sen_support_status": "sen_support", "pupil_premium_plus_spend": 300,
    "pupil_premium_plus_purpose": "Maths tutoring.", "targets": "Times tables to 12.", "actions": [ACTION],
}
ASSESSED = {"reading_assessment": "expected", "reading_target": "greater_depth", "writing_assessment": "towards",
            "writing_target": "expected", "maths_assessment": "below", "maths_target": "towards"}
GCSE = {"gcse_english_working_at": "4", "gcse_english_target": "5", "gcse_maths_working_at": "6",
        "gcse_maths_target": "6"}
POST_16 = {"meeting_date": "2026-11-30", "provider_name": "Northgate College", "course": "Level 2 plumbing",
           "attendance_percent": 88, "progress_summary": "On track.", "careers_advice": "Apprenticeship route.",
           "bursary_16_19": True, "targets": "Pass unit 3.", "actions": [ACTION]}


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return World(factory, clock)


def new_child(world: World, ref: str, born: str, school: str) -> None:
    """A child who became looked after today: their initial PEP opens at once."""
    with world.casework() as casework:
        casework.add_child(ref=ref, first_name="Sam", last_name="Reid", date_of_birth=born, legal_status="C2",
                           looked_after_since="2026-12-01", la_code=LA, social_worker="sw", school_urn=school)


def recorded(world: World) -> list[tuple[str, str, str, str, str | None]]:
    with world.session() as session:
        found = session.scalars(select(Attainment).order_by(Attainment.subject, Attainment.kind))
        return [(r.term, r.subject, r.kind, r.value, r.target) for r in found]


def test_a_school_age_pep_records_its_teacher_assessments_against_target_and_the_childs_sen_status(
    world: World,
) -> None:
    new_child(world, "C-10", "2016-03-14", "100001")
    world.complete("C-10", "complete_pep_school_age", {**SCHOOL_AGE, **ASSESSED}, "dt100001")
    assert recorded(world) == [  # an initial PEP counts in the term of its meeting
        ("autumn", "maths", "teacher_assessment", "below", "towards"),
        ("autumn", "reading", "teacher_assessment", "expected", "greater_depth"),
        ("autumn", "writing", "teacher_assessment", "towards", "expected"),
    ]
    with world.session() as session:
        assert session.scalars(select(Child.sen_status).where(Child.ref == "C-10")).one() == "sen_support"
    world.complete("C-10", "social_worker_contribution", {"care_plan_context": "Long-term foster care.",
                   "placement_stability": "Stable.", "carers_support": "Reading."}, "sw")
    world.complete("C-10", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    world.complete("C-10", "quality_assure_pep", {"rag": "red", "return_reason": "Targets are not SMART."}, "vsh")
    world.complete("C-10", "complete_pep_school_age", {**SCHOOL_AGE, **ASSESSED, "maths_assessment": "towards"},
                   "dt100001")  # the returned PEP, corrected: its assessment replaces the first, no second row
    assert ("autumn", "maths", "teacher_assessment", "towards", "towards") in recorded(world)
    assert len(recorded(world)) == 3


def test_a_key_stage_4_pep_must_give_gcse_grades_and_records_them(world: World) -> None:
    new_child(world, "C-15", "2011-01-10", "100002")  # Year 10
    year_10 = {**SCHOOL_AGE, "school_name": "St Anne's VA High", "school_year_group": 10}
    with pytest.raises(InvalidData) as refused:
        world.complete("C-15", "complete_pep_school_age", {**year_10, **ASSESSED}, "dt100002")
    errors = refused.value.errors
    assert errors["gcse_maths_working_at"] == [
        "Choose the GCSE grade the child is working at in Maths: Years 10 and 11 record GCSE grades"]
    assert errors["reading_assessment"] == [
        "Leave the teacher assessment in reading blank: Years 10 and 11 record GCSE grades"]
    assert recorded(world) == []
    world.complete("C-15", "complete_pep_school_age", {**year_10, **GCSE}, "dt100002")
    assert recorded(world) == [
        ("autumn", "english", "gcse_working_at", "4", "5"),
        ("autumn", "maths", "gcse_working_at", "6", "6"),
    ]


def test_a_post_16_pep_records_the_young_persons_eet_status_on_the_day_of_the_meeting(world: World) -> None:
    new_child(world, "C-17", "2009-09-14", "100005")
    with pytest.raises(InvalidData) as refused:
        world.complete("C-17", "complete_pep_post_16", {**POST_16, "eet_status": "sleeping"}, "dt100005")
    assert refused.value.errors["eet_status"] == ["Choose one of the options."]
    world.complete("C-17", "complete_pep_post_16", {**POST_16, "eet_status": "training"}, "dt100005")
    with world.session() as session:
        assert [(e.recorded_on, e.status) for e in session.scalars(select(EetStatus))] == [
            (date(2026, 11, 30), "training")]
    assert recorded(world) == []


def test_a_pep_without_the_new_answers_is_still_valid_and_records_no_attainment(world: World) -> None:
    new_child(world, "C-11", "2016-03-14", "100001")
    world.complete("C-11", "complete_pep_school_age", SCHOOL_AGE, "dt100001")
    assert recorded(world) == []


@pytest.mark.parametrize(("answers", "field", "message"), [
    ({"reading_assessment": "expected"}, "reading_target",
     "Choose the target in reading as well as the teacher assessment"),
    ({"maths_target": "expected"}, "maths_assessment", "Choose the teacher assessment in maths as well as the target"),
    ({"gcse_maths_working_at": "5"}, "gcse_maths_working_at",
     "Leave the GCSE grades in Maths blank: they are for Years 10 and 11 only"),
])
def test_before_key_stage_4_an_assessment_needs_its_target_and_gcse_grades_are_refused(
    answers: dict[str, str], field: str, message: str
) -> None:
    errors = CompleteSchoolAgePep().validate({**SCHOOL_AGE, **answers})
    assert errors == {field: [message]}


def test_the_form_shows_the_attainment_after_the_summary_and_before_the_sen_screening() -> None:
    names = list(CompleteSchoolAgePep().fields)
    assert names.index("attainment_summary") + 1 == names.index("reading_assessment")
    assert names.index("gcse_maths_target") < names.index("sen_support_status")
    assert names[-3:] == ["suspected_unidentified_sen", "sen_concern", "actions"]
