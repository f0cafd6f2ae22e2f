"""The statutory lifecycles driven from the records: the child's facts and the authority's rules
start the processes, the processes write back to the records, escalations are raised and
resolved, and the right people are told. Real engine, real database, the clock moved."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from casework.children import ChildService
from casework.escalations import Escalation
from casework.peps import PepService
from casework.records import Child, Pep, PepAction
from casework.rules import set_rules
from engine.clock import FrozenClock
from engine.errors import Forbidden, InvalidData
from engine.models import AuditEvent
from engine.service import WorkflowService
from tests.casework.records_support import LA
from tests.casework.world import World, moment

PROPOSAL = {"reason": "carer_request", "planned_move_date": "2027-01-04", "emergency": False,
            "childs_wishes": "Wants to keep seeing her brother."}
CARE = {"placement_type": "foster_care", "placement_start_date": "2027-01-04", "carer_name": "Mr and Mrs Ahmed",
        "distance": "in_area"}
CHANGE = {"discussion_with_designated_teacher_held": True, "designated_teacher_name": "Dana Price",
          "childs_wishes_about_school": "Happy to move.", "outcome": "change_school"}
VIEWS = {"views": "The new school can meet his needs.", "supports_move": True}
KS4_POINTS = {"childs_wishes_ascertained": True, "provision_meets_pep": True, "designated_teacher_consulted": True,
              "iro_consulted": True, "ks4_decision": "approve"}
ACTION = {"description": "Book a maths tutor", "owner": "Ms Patel", "due_date": "2027-02-10"}
SCHOOL_AGE = {"meeting_date": "2026-07-01", "school_name": "Riverside Primary", "school_year_group": 5, "attendance_percent": 91.5,
              "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
              "sen_support_status": "none", "pupil_premium_plus_spend": 300,
              "pupil_premium_plus_purpose": "Maths tutoring.", "targets": "Times tables to 12.", "actions": [ACTION]}
CONTRIBUTION = {"care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
                "carers_support": "Reading every night."}


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return World(factory, clock)


def propose(world: World, ref: str, proposal: dict[str, Any] = PROPOSAL) -> None:
    with world.casework() as casework:
        casework.start_move(ref, world.actors["sw"])
    world.complete(ref, "propose_move", proposal, "sw")


def test_a_ks4_move_goes_to_the_authoritys_nominated_officer_and_to_the_vsh_where_the_rules_say_so(
    world: World,
) -> None:
    world.child("C-1", born="2011-11-20", school="100002")  # Year 10 on the planned date
    world.child("C-2", born="2011-10-02", school="100002")
    for ref in ("C-1", "C-2"):
        if ref == "C-2":
            with world.session() as session:
                set_rules(session, LA, {"ks4_move_approver_role": "vsh"})
        propose(world, ref)
        world.complete(ref, "confirm_care_placement", CARE, "sw")
        world.complete(ref, "discuss_school_choice", dict(CHANGE, outcome="stay_at_current_school"), "sw")
        world.complete(ref, "record_vsh_views", VIEWS, "vsh")
    assert world.open_tasks("C-1") == [("approve_ks4_move", "nominated_officer")]
    assert world.open_tasks("C-2") == [("approve_ks4_move", "vsh")]
    with pytest.raises(Forbidden):
        world.complete("C-2", "approve_ks4_move", KS4_POINTS, "no")
    world.complete("C-2", "approve_ks4_move", KS4_POINTS, "vsh")
    assert world.open_tasks("C-2") == [("notify_school_and_iro", "social_worker")]  # reg. 13 notices, then sign-off


def test_an_approved_move_records_the_placement_and_school_and_opens_a_new_pep_within_ten_working_days(
    world: World,
) -> None:
    world.child("C-1", born="2015-03-14")
    propose(world, "C-1")
    world.complete("C-1", "confirm_care_placement", CARE, "sw")
    world.complete("C-1", "discuss_school_choice", CHANGE, "sw")
    with pytest.raises(InvalidData) as unknown:
        world.complete("C-1", "apply_for_school_place", {"school_urn": "999999", "application_date": "2026-12-01"},
                       "sw")
    assert list(unknown.value.errors) == ["school_urn"]
    world.complete("C-1", "apply_for_school_place", {"school_urn": "100003", "application_date": "2026-12-01"}, "sw")
    world.complete("C-1", "confirm_school_place", {"place_offered": True, "start_date": "2027-01-06"}, "sw")
    world.complete("C-1", "record_vsh_views", VIEWS, "vsh")
    world.complete("C-1", "notify_school_and_iro", {
        "school_notice_method": "email", "school_notified_to": "Designated teacher", "school_notified_on": "2026-12-01",
        "iro_notice_method": "email", "iro_notified_to": "Sam Reed", "iro_notified_on": "2026-12-01"}, "sw")
    world.complete("C-1", "sign_off_move", {"decision": "approve"}, "manager")
    with world.session() as session:
        children = ChildService(session, world.clock)
        child = children.get("C-1")
        placement = children.latest_placement("C-1")
        assert child.school_urn == "100003"
        assert placement is not None and placement.carer_name == "Mr and Mrs Ahmed"
        # it starts on 4 January: planned on 1 December, current from its first day
        assert placement.is_planned(world.clock.now().date()) and children.current_placement("C-1") is None
        assert children.current_placement("C-1", moment("2027-01-04T00:00").date()) is placement
        [pep] = PepService(session, world.clock).for_child("C-1")
        assert pep.kind == "school_change" and pep.instance_id is not None
        assert pep.due_at == moment("2027-01-21T00:00")  # 10 working days after Wed 6 Jan: end of Wed 20 Jan
    assert ("complete_pep_school_age", "designated_teacher") in world.open_tasks("C-1", "pep_review")


def test_no_school_place_raises_an_escalation_then_a_direction_through_to_admission_resolves_it(
    world: World,
) -> None:
    world.child("C-1", born="2015-03-14", school=None)
    with world.session() as session:
        ChildService(session, world.clock).record_permanent_exclusion("C-1", "100001", moment("2025-01-10").date())
    propose(world, "C-1")
    world.complete("C-1", "discuss_school_choice", CHANGE, "sw")
    world.at(moment("2027-01-14T09:00"))  # 20 school days (the default rule) after 1 Dec, over Christmas
    assert world.escalations("C-1") == [("no_school_place", "escalate_no_school_place")]
    with world.session() as session:
        [raised] = session.scalars(select(Escalation).where(Escalation.child_ref == "C-1"))
        assert raised.label == "New school place not found"
        assert raised.reason == ("No place at the new school has been confirmed within the council's limit "
                                 "(20 school days) for the move.")
    assert any("escalated" in subject.lower() for subject in world.mail_to("manager"))
    direct = {"decision": "start_direction", "notes": "Direct today.", "direction_school_urn": "100001"}
    with pytest.raises(InvalidData) as excluded:
        world.complete("C-1", "escalate_no_school_place", direct, "manager")
    assert "permanently excluded" in excluded.value.errors["direction_school_urn"][0]
    world.complete("C-1", "escalate_no_school_place", dict(direct, direction_school_urn="100002"), "manager")
    assert world.open_tasks("C-1", "admission_direction") == [("consult_admission_authority", "admissions_officer")]
    world.complete("C-1", "consult_admission_authority",
                   {"consulted_on": "2027-01-14", "consultation_method": "email",
                    "admission_authority_contact": "Chair of governors"}, "admissions")
    world.at(moment("2027-01-21T00:00"))
    world.complete("C-1", "consider_representations", {"direction_decision": "school_agreed_to_admit"}, "admissions")
    world.complete("C-1", "confirm_child_on_roll", {"admitted_on": "2027-01-21", "confirmed_with_school": True},
                   "admissions")
    with world.session() as session:
        assert ChildService(session, world.clock).get("C-1").school_urn == "100002"
    assert world.escalations("C-1") == []
    assert world.escalations("C-1", "resolved") == [("no_school_place", "escalate_no_school_place")]


def test_children_aged_2_10_and_17_get_the_pep_of_their_stage_once_a_term_three_times_a_year(
    world: World,
) -> None:
    world.child("C-2", born="2024-03-14", school="100004")
    world.child("C-10", born="2016-03-14", school="100001")
    world.child("C-17", born="2009-09-14", school="100005")  # 17 all year: 18 only after the summer term
    for when in ("2026-09-04T08:00", "2026-12-01T09:00", "2027-01-06T08:00", "2027-01-07T08:00",
                 "2027-04-13T08:00", "2027-07-30T08:00"):
        world.at(moment(when))
        with world.casework() as casework:
            casework.open_termly_reviews(LA)
    with world.session() as session:
        peps = session.scalars(select(Pep).order_by(Pep.id)).all()
        by_child: dict[int, list[tuple[str | None, str]]] = {}
        for pep in peps:
            by_child.setdefault(pep.child_id, []).append((pep.term, pep.stage))
    assert sorted(by_child.values()) == sorted([
        [("autumn", "early_years"), ("spring", "early_years"), ("summer", "early_years")],
        [("autumn", "school_age"), ("spring", "school_age"), ("summer", "school_age")],
        [("autumn", "post_16"), ("spring", "post_16"), ("summer", "post_16")],
    ])
    stage_tasks = {ref: {e for e, _ in world.open_tasks(ref) if e.startswith("complete_pep_")}
                   for ref in ("C-2", "C-10", "C-17")}
    assert stage_tasks == {"C-2": {"complete_pep_early_years"}, "C-10": {"complete_pep_school_age"},
                           "C-17": {"complete_pep_post_16"}}


def test_the_autumn_review_is_due_by_the_last_school_day_before_half_term(world: World) -> None:
    world.child("C-10", born="2016-03-14")
    world.at(moment("2026-09-04T08:00"))
    with world.casework() as casework:
        assert casework.open_termly_reviews(LA).opened == 1
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
        assert pep.due_at == moment("2026-10-24T00:00")  # by Friday 23 October; half term from the 26th


def test_a_child_who_has_left_care_gets_no_termly_review(world: World) -> None:
    world.child("C-10", born="2016-03-14")
    world.child("C-11", born="2016-05-01")
    with world.session() as session:
        session.execute(update(Child).where(Child.ref == "C-11").values(left_care_on=date(2026, 8, 20)))
    world.at(moment("2026-09-04T08:00"))
    with world.casework() as casework:
        assert casework.open_termly_reviews(LA).opened == 1
    with world.session() as session:
        assert session.scalars(select(Child.ref).join(Pep, Pep.child_id == Child.id)).all() == ["C-10"]


def test_an_initial_pep_overdue_escalates_and_signing_it_off_resolves_the_escalation(world: World) -> None:
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code=LA, social_worker="sw",
                           school_urn="100001")
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
        assert pep.kind == "initial" and pep.due_at == moment("2026-12-16T00:00")  # 10 working days
    # the PEP's parts run inside its subprocess, and are due when the PEP is
    assert world.task("C-1", "complete_pep_school_age").due_at == moment("2026-12-16T00:00")
    assert world.task("C-1", "record_childs_views").due_at == moment("2026-12-16T00:00")
    world.at(moment("2026-12-15T23:59"))
    assert world.escalations("C-1") == []
    world.at(moment("2026-12-16T00:00"))
    assert world.escalations("C-1") == [("overdue_pep", "escalate_overdue_pep")]
    world.complete("C-1", "complete_pep_school_age", SCHOOL_AGE, "dt100001")
    world.complete("C-1", "social_worker_contribution", CONTRIBUTION, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I want to stay at Riverside."}, "sw")
    world.complete("C-1", "quality_assure_pep", {"rag": "red", "return_reason": "Targets are not SMART."}, "vsh")
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
        assert (pep.status, pep.return_reason) == ("returned", "Targets are not SMART.")
    assert any("returned" in subject.lower() for subject in world.mail_to("dt100001"))
    world.complete("C-1", "complete_pep_school_age", dict(SCHOOL_AGE, targets="Times tables to 12 by 1 March."),
                   "dt100001")
    world.complete("C-1", "quality_assure_pep", {"rag": "green", "feedback": "Good."}, "vsh")
    assert world.escalations("C-1") == []
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
        assert (pep.status, pep.rag) == ("complete", "green")
        assert "Times tables to 12 by 1 March." in pep.sections
        [action] = session.scalars(select(PepAction)).all()
        assert (action.owner, action.state) == ("Ms Patel", "open")
    world.at(moment("2027-02-11T00:00"))
    assert world.escalations("C-1") == [("overdue_action", "escalate_overdue_action")]
    world.complete("C-1", "confirm_action_done", {"action_done": True}, "sw")
    assert world.escalations("C-1") == []
    with world.session() as session:
        [action] = session.scalars(select(PepAction)).all()
        assert (action.state, action.overdue_escalated_at is not None) == ("done", True)


def test_a_child_turning_18_gets_no_further_termly_review(world: World) -> None:
    world.child("C-18", born="2009-03-14", school="100005")  # 18 in March 2027
    for when in ("2027-01-06T08:00", "2027-04-13T08:00"):
        world.at(moment(when))
        with world.casework() as casework:
            casework.open_termly_reviews(LA)
    with world.session() as session:
        assert [p.term for p in session.scalars(select(Pep))] == ["spring"]


def test_a_social_worker_not_allocated_and_a_teacher_at_another_school_cannot_act_on_the_childs_pep(
    world: World,
) -> None:
    world.child("C-10", born="2016-03-14", school="100001")
    world.at(moment("2026-09-04T08:00"))
    with world.casework() as casework:
        casework.open_termly_reviews(LA)
    with pytest.raises(Forbidden):
        world.complete("C-10", "social_worker_contribution", CONTRIBUTION, "other_sw")
    with pytest.raises(Forbidden):
        world.complete("C-10", "complete_pep_school_age", SCHOOL_AGE, "dt100002")
    world.complete("C-10", "complete_pep_school_age", SCHOOL_AGE, "dt100001")


def test_an_escalation_noticed_late_is_overdue_since_the_deadline_not_since_the_scheduler_ran(world: World) -> None:
    from casework.escalations import Escalation, Escalations

    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code=LA, social_worker="sw",
                           school_urn="100001")
    # due by Tuesday 15 December; the scheduler next runs on Monday 21st at 10:00
    world.at(moment("2026-12-21T10:00"))
    with world.session() as session:
        [row] = session.scalars(select(Escalation)).all()
        assert (row.kind, row.since, row.raised_at) == ("overdue_pep", moment("2026-12-16T00:00"),
                                                        moment("2026-12-21T10:00"))
        [overdue] = Escalations(session).dashboard(moment("2026-12-21T10:00"), world.runtime.calendar, true()).items
        assert overdue.working_days == 4  # Wednesday 16th, Thursday, Friday, Monday 21st


def test_pep_tasks_opened_after_the_pep_is_overdue_are_still_due_when_the_pep_was(world: World) -> None:
    with world.casework() as casework:  # looked after five weeks ago: the initial PEP is already overdue
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-10-23", la_code=LA, social_worker="sw",
                           school_urn="100001")
    assert world.escalations("C-1") == [("overdue_pep", "escalate_overdue_pep")]
    assert world.task("C-1", "escalate_overdue_pep").due_at is None  # the manager's task has no deadline
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
    for element_id in ("complete_pep_school_age", "social_worker_contribution", "record_childs_views"):
        assert world.task("C-1", element_id).due_at == pep.due_at
    world.complete("C-1", "complete_pep_school_age", SCHOOL_AGE, "dt100001")
    world.complete("C-1", "social_worker_contribution", CONTRIBUTION, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I want to stay at Riverside."}, "sw")
    assert world.task("C-1", "quality_assure_pep").due_at == pep.due_at
    world.complete("C-1", "quality_assure_pep", {"rag": "red", "return_reason": "Targets are not SMART."}, "vsh")
    assert world.task("C-1", "complete_pep_school_age").due_at == pep.due_at  # returned: still overdue


def test_cancelling_a_pep_review_marks_its_pep_cancelled_once_and_closes_its_tasks(world: World) -> None:
    world.child("C-10", born="2016-03-14")
    world.at(moment("2026-09-04T08:00"))
    with world.casework() as casework:
        assert casework.open_termly_reviews(LA).opened == 1
    with world.session() as session:
        [pep] = session.scalars(select(Pep)).all()
        assert pep.status == "not_started" and pep.instance_id is not None
        WorkflowService(session, world.clock, world.runtime).cancel(pep.instance_id, world.actors["vsh"],
                                                                    "Opened for the wrong child")
    with world.session() as session:
        assert session.get(Pep, pep.id).status == "cancelled"  # type: ignore[union-attr]
        assert world.open_tasks("C-10") == []
        entry = session.scalars(select(AuditEvent).where(AuditEvent.action == "pep.cancelled")).one()
        assert (entry.actor, entry.data) == ("vsh", {"pep_id": pep.id, "was": "not_started"})
        PepService(session, world.clock).cancel(pep.id, "vsh")  # once only: nothing more is recorded
    with world.session() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "pep.cancelled")) == 1
