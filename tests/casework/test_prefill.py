"""What a form starts from: the records' facts, and the child's last signed-off PEP of the same stage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.prefill import carried_forward, prefill, starting_answers
from casework.processes.pep_review import Step as PepStep
from casework.processes.placement_move import Step as MoveStep
from casework.records import Child, Pep
from engine.clock import FrozenClock
from engine.models import HumanTask
from tests.casework.records_support import LA
from tests.casework.test_lifecycle import CARE, PROPOSAL
from tests.casework.world import World

LAST_TERM = {"school_name": "Old Road Primary", "school_year_group": 5, "attendance_percent": 93.0,
             "attainment_summary": "Reading at the expected standard.", "sen_support_status": "sen_support",
             "targets": "Read a chapter book alone.", "care_plan_context": "Long-term foster care."}


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return World(factory, clock)


def looked_after(world: World, ref: str, born: str, school: str | None) -> None:
    """A child who became looked after last week: their initial PEP opens at once."""
    with world.casework() as casework:
        casework.add_child(ref=ref, first_name="Ethan", last_name="Walsh", date_of_birth=born, legal_status="C2",
                           looked_after_since="2026-11-20", la_code=LA, social_worker="sw", school_urn=school)


def earlier_pep(world: World, ref: str, *, stage: str = "school_age", status: str = "complete",
                sections: dict[str, Any] | None = None, term: str = "summer", year: str = "2025/26",
                signed_off: datetime | None = datetime(2026, 7, 20, 15, 0, tzinfo=UTC)) -> None:
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == ref)).one()
        session.add(Pep(child_id=child.id, kind="termly", academic_year=year, term=term, stage=stage,
                        status=status, sections=json.dumps(LAST_TERM if sections is None else sections),
                        completed_at=signed_off, created_at=datetime(2026, 5, 1, tzinfo=UTC)))


def answers(world: World, ref: str, step: str) -> dict[str, Any]:
    task = world.task(ref, step)
    with world.session() as session:
        return prefill(session, world.clock, task)


def test_the_school_age_pep_starts_with_the_childs_school_and_year_group_from_the_records(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")  # aged 10 on 31 August 2026: Year 6
    assert answers(world, "C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE) == {
        "school_name": "Riverside Primary", "school_year_group": 6}


def test_the_sen_status_comes_from_the_childs_latest_pep_that_recorded_one(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1", status="in_progress", signed_off=None)
    assert answers(world, "C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)["sen_support_status"] == "sen_support"


def test_an_sen_status_that_is_not_one_of_the_forms_choices_is_not_prefilled(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1", sections={"sen_support_status": "statemented"})
    assert "sen_support_status" not in answers(world, "C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)


def test_a_child_with_no_school_recorded_gets_the_year_group_only(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", None)
    assert answers(world, "C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE) == {"school_year_group": 6}


def test_the_early_years_setting_and_the_post_16_provider_come_from_the_childs_record(world: World) -> None:
    looked_after(world, "C-2", "2023-06-01", "100004")  # aged 3 on 31 August 2026: early years
    looked_after(world, "C-3", "2009-05-01", "100005")  # aged 17: Year 13, post-16
    assert answers(world, "C-2", PepStep.COMPLETE_PEP_EARLY_YEARS) == {"setting_name": "Little Acorns Nursery"}
    assert answers(world, "C-3", PepStep.COMPLETE_PEP_POST_16) == {"provider_name": "Northgate College"}


def test_the_social_workers_own_pep_tasks_are_not_prefilled(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    task = world.task("C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)
    social = HumanTask(id="x", instance_id=task.instance_id, process_id=task.process_id, business_key="C-1",
                       element_id=PepStep.SOCIAL_WORKER_CONTRIBUTION, title="", role="social_worker")
    with world.session() as session:
        assert prefill(session, world.clock, social) == {}
        assert carried_forward(session, social) is None


def test_a_placement_moves_school_discussion_names_the_designated_teacher_of_the_childs_school(
    world: World,
) -> None:
    world.child("C-1", born="2015-03-14", school="100002")
    with world.casework() as casework:
        casework.start_move("C-1", world.actors["sw"])
    world.complete("C-1", MoveStep.PROPOSE_MOVE, PROPOSAL, "sw")
    world.complete("C-1", MoveStep.CONFIRM_CARE_PLACEMENT, CARE, "sw")
    assert answers(world, "C-1", MoveStep.DISCUSS_SCHOOL_CHOICE) == {"designated_teacher_name": "Dt100002"}


def test_last_terms_signed_off_pep_is_carried_forward_without_its_actions_and_marked(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1", sections={**LAST_TERM, "actions": "not a section", "meeting_date": "2026-07-10"})
    task = world.task("C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)
    with world.session() as session:
        carried = carried_forward(session, task)
    assert carried is not None
    assert carried.answers["attainment_summary"] == "Reading at the expected standard."
    assert carried.answers["targets"] == "Read a chapter book alone."
    assert "actions" not in carried.answers and "meeting_date" not in carried.answers  # that PEP's own
    assert "care_plan_context" not in carried.answers  # not this form's
    assert carried.message.startswith("Started from the summer 2026 PEP, signed off on 20 July 2026: "
                                      "check and update each answer.")


def test_the_form_starts_from_last_terms_pep_but_with_todays_school_and_year_group(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1")
    task = world.task("C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)
    with world.session() as session:
        start, carried = starting_answers(session, world.clock, task)
    assert carried is not None
    assert start["school_name"] == "Riverside Primary" and start["school_year_group"] == 6  # not last term's
    assert start["attainment_summary"] == "Reading at the expected standard."
    assert start["sen_support_status"] == "sen_support"


def test_only_a_signed_off_pep_of_the_same_stage_is_carried_forward(world: World) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1", stage="early_years", term="autumn")
    earlier_pep(world, "C-1", status="submitted", signed_off=None, term="spring")
    earlier_pep(world, "C-1", sections={}, term="summer")
    task = world.task("C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)
    with world.session() as session:
        assert carried_forward(session, task) is None
        start, carried = starting_answers(session, world.clock, task)
    assert carried is None and "attainment_summary" not in start


def test_the_latest_of_several_signed_off_peps_is_the_one_carried_and_an_autumn_pep_is_named_by_its_year(
    world: World,
) -> None:
    looked_after(world, "C-1", "2016-03-14", "100001")
    earlier_pep(world, "C-1", term="summer", signed_off=datetime(2026, 7, 20, tzinfo=UTC))
    earlier_pep(world, "C-1", term="autumn", year="2026/27", signed_off=datetime(2026, 11, 3, 23, 30, tzinfo=UTC),
                sections={**LAST_TERM, "targets": "Newest targets."})
    task = world.task("C-1", PepStep.COMPLETE_PEP_SCHOOL_AGE)
    with world.session() as session:
        carried = carried_forward(session, task)
    assert carried is not None and carried.answers["targets"] == "Newest targets."
    assert carried.pep_name == "the autumn 2026 PEP" and carried.signed_off_on == "3 November 2026"
