"""The PEP's document: sections by label in form order, answers written as people write them, actions and
their state, contributions from the review's audit trail, and only the kinds of information a reader reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.need_to_know import CARE, EDUCATION, SEND
from casework.pep_document import NOT_GIVEN, build, format_answer, format_date
from casework.pep_versions import section_fields
from casework.peps import PepService
from casework.processes.pep_review import Step
from casework.records import Child, Pep, PepAction
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.casework.world import World

from .records_support import add_child

TODAY = date(2026, 12, 1)
SCHOOL_AGE = {"meeting_date": "2026-12-01", "school_name": "Riverside Primary", "school_year_group": 5,
              "attendance_percent": 91.5, "exclusions_this_term": 0, "attainment_summary": "Working towards.",
              "sen_support_status": "ehc_plan", "pupil_premium_plus_spend": "£1,200.50",
              "pupil_premium_plus_purpose": "Tutoring.", "targets": "Times tables.",
              "actions": [{"description": "Book a maths tutor", "owner": "Ms Patel", "due_date": "2027-02-10"}]}


def test_answers_are_written_as_people_write_them() -> None:
    every = section_fields("school_age")
    assert format_answer(every["pupil_premium_plus_spend"], 1200.5) == "£1,200.50"
    assert format_answer(every["pupil_premium_plus_spend"], 0) == "£0.00"
    assert format_answer(every["sen_support_status"], "sen_support") == "SEN support"
    assert format_answer(every["attendance_percent"], 91.5) == "91.5%"
    assert format_answer(every["school_year_group"], 5) == "5"
    assert format_answer(every["planned_changes"], "  ") == NOT_GIVEN
    assert format_answer(fields.Boolean(), True) == "Yes" and format_answer(fields.Boolean(), False) == "No"
    assert format_answer(fields.Date(), "2026-12-01") == "1 December 2026"
    assert format_date(date(2027, 2, 10)) == "10 February 2027" and format_date("not a date") == "not a date"


def test_recorded_actions_are_open_done_or_overdue_and_the_referral_is_shown_to_send_readers(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "termly", term="autumn")
        service.update_sections(pep.id, {"school_name": "Riverside", "pupil_premium_plus_spend": 300,
                                         "care_plan_context": "Long-term foster care."})
        for description, due, state in (("Late", date(2026, 11, 20), "open"), ("Done", date(2026, 11, 25), "done"),
                                         ("Ahead", date(2027, 1, 5), "open")):
            session.add(PepAction(pep_id=pep.id, description=description, owner="Ms Patel", due_on=due, state=state,
                                  done_on=date(2026, 11, 24) if state == "done" else None))
        service.refer_for_send("C-1001", date(2026, 11, 30), pep.id)
        session.flush()
        document = build(session, pep, TODAY)
        assert [(a.description, a.state, a.due) for a in document.actions] == [
            ("Late", "overdue", "20 November 2026"), ("Done", "done", "25 November 2026"),
            ("Ahead", "open", "5 January 2027")]
        assert document.actions[1].done_on == "24 November 2026"
        [referral] = document.referrals
        assert (referral.referred_on, referral.decision_due_on, referral.decision) == (
            "30 November 2026", "11 January 2027", "Not decided yet")
        assert document.filename == "PEP-C-1001-autumn-2026-27.pdf"
        assert document.title == "Termly PEP, autumn term 2026/27"
        education_only = build(session, pep, TODAY, frozenset({EDUCATION}))
        assert education_only.referrals == []
        assert [g.title for g in education_only.groups] == ["The plan", "The child's views"]
        assert [g.title for g in build(session, pep, TODAY, frozenset({EDUCATION, CARE, SEND})).groups] == [
            "The plan", "The social worker's contribution", "The child's views"]


def test_the_document_of_a_reviewed_pep_says_who_contributed_what_and_when_and_what_changed(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    world = World(factory, clock)
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="C2", looked_after_since="2026-11-20", la_code="935", social_worker="sw",
                           school_urn="100001")
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, SCHOOL_AGE, "dt100001")
    world.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    world.complete("C-1", Step.SOCIAL_WORKER_CONTRIBUTION, {"care_plan_context": "Long-term foster care.",
                                                           "placement_stability": "Stable.",
                                                           "carers_support": "Reading."}, "sw")
    world.complete("C-1", Step.RECORD_CHILDS_VIEWS, {"childs_views": "I like maths."}, "sw")
    world.complete("C-1", Step.QUALITY_ASSURE_PEP, {"rag": "red", "return_reason": "Targets are vague.",
                                                    "feedback": "Views are good."}, "vsh")
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, {**SCHOOL_AGE, "targets": "Times tables by Easter."},
                   "dt100001")
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
        pep = session.scalars(select(Pep).where(Pep.child_id == child.id)).one()
        document = build(session, pep, TODAY)
        plan = {a.label: a.value for a in document.groups[0].answers}
        assert list(plan)[:3] == ["Date of the PEP meeting", "School", "Year group"]
        assert plan["Pupil Premium Plus spend"] == "£1,200.50"
        assert plan["Special educational needs"] == "Education, health and care (EHC) plan"
        assert plan["Date of the PEP meeting"] == "1 December 2026"
        titles = {e: world_task_title(session, e) for e in (
            Step.COMPLETE_PEP_SCHOOL_AGE, Step.SOCIAL_WORKER_CONTRIBUTION, Step.RECORD_CHILDS_VIEWS,
            Step.QUALITY_ASSURE_PEP)}
        assert [(c.what, c.who, c.when.day) for c in document.contributions] == [
            (titles[Step.COMPLETE_PEP_SCHOOL_AGE], "Dt100001", 1), (titles[Step.SOCIAL_WORKER_CONTRIBUTION], "Sw", 2),
            (titles[Step.RECORD_CHILDS_VIEWS], "Sw", 2), (titles[Step.QUALITY_ASSURE_PEP], "Vsh", 2),
            (titles[Step.COMPLETE_PEP_SCHOOL_AGE], "Dt100001", 2)]
        assert [v.kind for v in document.versions] == ["submitted", "returned", "submitted"]
        assert document.versions[0].changes is None
        assert document.versions[1].reason == "Targets are vague." and document.versions[1].feedback == "Views are good."
        [change] = document.versions[2].changes or []
        assert (change.label, change.change, change.before, change.after) == (
            "SMART targets", "changed", "Times tables.", "Times tables by Easter.")
        assert document.status == "Submitted" and document.return_reason is None
        no_care = build(session, pep, TODAY, frozenset({EDUCATION}))
        assert titles[Step.SOCIAL_WORKER_CONTRIBUTION] not in {c.what for c in no_care.contributions}
        assert len(no_care.contributions) == 4


def world_task_title(session: Session, element: str) -> str:
    from engine.models import HumanTask

    title = session.scalars(select(HumanTask.title).where(HumanTask.element_id == element)).first()
    assert title is not None
    return title
