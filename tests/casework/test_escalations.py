"""Escalation records: the dashboard's page and its count, scoped by the reader's access in SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, true
from sqlalchemy.orm import Session, sessionmaker

from casework.escalations import Escalation, Escalations
from casework.processes import RULES
from casework.records import PepAction
from engine.clock import FrozenClock
from engine.errors import InvalidData
from engine.models import HumanTask
from engine.service import WorkflowService

from .records_support import add_user
from .world import World, moment


def test_the_dashboard_count_stops_at_its_limit_and_the_page_stays_longest_overdue_first(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    world.child("C-1", born="2016-03-14")
    with world.casework() as casework:
        instance = casework.start_move("C-1", world.actors["sw"])
        escalations = Escalations(casework.session)
        for n in range(7):
            escalations.raise_for(rule=RULES[("pep_review", "escalate_overdue_pep")], child_ref="C-1",
                                  la_code="935", since=moment("2026-11-20T00:00") - timedelta(days=n),
                                  raised_at=clock.now(), process_id="pep_review", instance_id=instance.id,
                                  task_id=None, detail={})
    with world.session() as session:
        escalations = Escalations(session)
        assert escalations.count(true()) == 7
        assert escalations.count(true(), up_to=5) == 5
        page = escalations.dashboard(clock.now(), world.runtime.calendar, true(), per_page=3)
        assert [o.escalation.since for o in page.items] == sorted(o.escalation.since for o in page.items)
        assert page.items[0].escalation.since == moment("2026-11-14T00:00") and page.has_next


# -- PEP actions: followed up by number, by their owner; resolving the cause closes the manager's task ----------

PEP_FORM: dict[str, Any] = {
    "meeting_date": "2026-12-01", "school_name": "Riverside Primary", "school_year_group": 5,
    "attendance_percent": 91.5, "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
    "sen_support_status": "none", "pupil_premium_plus_spend": 300, "pupil_premium_plus_purpose": "Maths tutoring.",
    "targets": "Read every day.",
}
READING = {"description": "Weekly reading with the TA", "owner": "Ms Patel", "due_date": "2027-01-12"}


def signed_off_pep(world: World, actions: list[dict[str, Any]]) -> None:
    """Ethan, new in care today at Riverside Primary: his initial PEP completed and rated green."""
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code="935", social_worker="sw",
                           school_urn="100001")
    world.complete("C-1", "complete_pep_school_age", {**PEP_FORM, "actions": actions}, "dt100001")
    world.complete("C-1", "social_worker_contribution", {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    world.complete("C-1", "quality_assure_pep", {"rag": "green", "feedback": "Good."}, "vsh")


def follow_ups(world: World) -> list[tuple[str, str | None, str | None]]:
    with world.session() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.element_id == "confirm_action_done",
                                                       HumanTask.state == "open"))
        return sorted((t.title, t.role, t.assignee) for t in rows)


def test_two_identical_pep_actions_are_recorded_and_followed_up_apart_each_named(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    signed_off_pep(world, [READING, READING])
    named = "Weekly reading with the TA (owner Ms Patel, due 12 January 2027)"
    assert follow_ups(world) == [(f"Confirm action 1 was done: {named}", "social_worker", None),
                                 (f"Confirm action 2 was done: {named}", "social_worker", None)]
    with world.session() as session:
        actions = session.scalars(select(PepAction).order_by(PepAction.number)).all()
        assert [(a.number, a.description, a.state) for a in actions] == [
            (1, "Weekly reading with the TA", "open"), (2, "Weekly reading with the TA", "open")]
        [second] = session.scalars(select(HumanTask).where(HumanTask.title.startswith("Confirm action 2")))
    with world.session() as session:
        WorkflowService(session, clock, world.runtime).complete(second.id, {"action_done": True},
                                                                world.actors["sw"])
    with world.session() as session:
        done = {a.number: a.state for a in session.scalars(select(PepAction))}
        assert done == {1: "open", 2: "done"}  # the one confirmed, not the first of the same text


def test_a_follow_up_goes_to_the_action_owner_who_uses_the_service_and_an_unknown_owner_is_refused(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    with world.session() as session:  # a second designated teacher at Ethan's school: not the action's owner
        add_user(session, clock, "dt100001b", ["designated_teacher"], school_urn="100001")
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code="935", social_worker="sw",
                           school_urn="100001")
    for stranger in ("nobody", "dt100002"):  # no such user; a teacher at another school
        with pytest.raises(InvalidData) as refused:
            world.complete("C-1", "complete_pep_school_age",
                           {**PEP_FORM, "actions": [READING, {**READING, "owner_user": stranger}]}, "dt100001")
        [message] = refused.value.errors["actions"][1]["owner_user"]
        assert message.startswith(f"Action 2's owner ‘{stranger}’ is not a designated teacher")
    world.complete("C-1", "complete_pep_school_age",
                   {**PEP_FORM, "actions": [{**READING, "owner_user": "dt100001"}, READING]}, "dt100001")
    world.complete("C-1", "social_worker_contribution", {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    world.complete("C-1", "quality_assure_pep", {"rag": "green"}, "vsh")
    named = "Weekly reading with the TA (owner Ms Patel, due 12 January 2027)"
    assert follow_ups(world) == [(f"Confirm action 1 was done: {named}", "designated_teacher", "dt100001"),
                                 (f"Confirm action 2 was done: {named}", "social_worker", None)]
    assert any("Confirm action 1 was done" in subject for subject in world.mail_to("dt100001"))
    assert not any("Confirm action 1 was done" in subject for subject in world.mail_to("dt100001b"))
    with world.session() as session:
        mine = WorkflowService(session, clock, world.runtime).inbox(world.actors["dt100001"]).items
        assert [t.title for t in mine if t.element_id == "confirm_action_done"] == [
            f"Confirm action 1 was done: {named}"]
        assert session.scalars(select(PepAction.owner_user).where(PepAction.number == 1)).one() == "dt100001"


def test_confirming_an_overdue_action_closes_the_managers_task_for_it_and_resolves_only_its_escalation(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    signed_off_pep(world, [READING, READING])
    world.at(moment("2027-01-13T00:00"))
    assert world.escalations("C-1") == [("overdue_action", "escalate_overdue_action")] * 2
    with world.session() as session:
        chases = sorted(t.title for t in session.scalars(select(HumanTask).where(
            HumanTask.element_id == "escalate_overdue_action", HumanTask.state == "open")))
        assert chases == [f"PEP action {n} overdue: Weekly reading with the TA (owner Ms Patel, due 12 January 2027)"
                          for n in (1, 2)]
        [first] = session.scalars(select(HumanTask).where(HumanTask.title.startswith("Confirm action 1")))
    with world.session() as session:
        WorkflowService(session, clock, world.runtime).complete(first.id, {"action_done": True}, world.actors["sw"])
    with world.session() as session:
        managers = session.scalars(select(HumanTask).where(HumanTask.element_id == "escalate_overdue_action")).all()
        assert sorted((t.title[:11], t.state) for t in managers) == [("PEP action ", "cancelled"), ("PEP action ", "open")]
        assert [t.title for t in managers if t.state == "open"][0].startswith("PEP action 2 overdue")
        rows = session.scalars(select(Escalation).order_by(Escalation.id)).all()
        states = sorted((r.details["action"]["number"], r.state, r.resolved_by) for r in rows)
        assert states == [(1, "resolved", "sw"), (2, "open", None)]
    world.complete("C-1", "escalate_overdue_action", {"escalation_notes": "Chased the TA"}, "manager")
    with world.session() as session:
        decided = [(r.details["action"]["number"], r.decision, r.decision_note, r.decided_by)
                   for r in session.scalars(select(Escalation)) if r.decided_at is not None]
        assert decided == [(2, None, "Chased the TA", "manager")]  # kept on action 2's escalation, still open


def test_the_managers_decision_on_an_escalation_is_kept_with_it_and_a_pep_signed_off_closes_the_overdue_task(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code="935", social_worker="sw",
                           school_urn="100001")
    world.at(moment("2026-12-16T00:00"))
    assert world.open_tasks("C-1", "pep_review").count(("escalate_overdue_pep", "manager")) == 1
    world.complete("C-1", "escalate_overdue_pep", {"escalation_action": "chase_school",
                                                   "escalation_notes": "Called the school"}, "manager")
    with world.session() as session:
        [row] = session.scalars(select(Escalation)).all()
        assert (row.state, row.decision, row.decision_note, row.decided_by, row.decided_at) == (
            "open", "Chase the designated teacher and school", "Called the school", "manager",
            moment("2026-12-16T00:00"))
    # the decision does not resolve the escalation; signing the PEP off does
    signed_off = {**PEP_FORM, "meeting_date": "2026-12-15", "actions": [READING]}
    world.complete("C-1", "complete_pep_school_age", signed_off, "dt100001")
    world.complete("C-1", "social_worker_contribution", {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    world.complete("C-1", "quality_assure_pep", {"rag": "green"}, "vsh")
    assert world.escalations("C-1") == [] and world.escalations("C-1", "resolved") == [
        ("overdue_pep", "escalate_overdue_pep")]


def test_signing_off_a_late_pep_closes_the_managers_open_overdue_task(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="L2", looked_after_since="2026-12-01", la_code="935", social_worker="sw",
                           school_urn="100001")
    world.at(moment("2026-12-16T00:00"))
    assert ("escalate_overdue_pep", "manager") in world.open_tasks("C-1", "pep_review")
    world.complete("C-1", "complete_pep_school_age", {**PEP_FORM, "meeting_date": "2026-12-15",
                                                      "actions": [READING]}, "dt100001")
    world.complete("C-1", "social_worker_contribution", {
        "care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
        "carers_support": "Reading every night."}, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I like reading."}, "sw")
    world.complete("C-1", "quality_assure_pep", {"rag": "green"}, "vsh")
    assert ("escalate_overdue_pep", "manager") not in world.open_tasks("C-1", "pep_review")
    with world.session() as session:
        [task] = session.scalars(select(HumanTask).where(HumanTask.element_id == "escalate_overdue_pep")).all()
        [row] = session.scalars(select(Escalation)).all()
        assert (task.state, row.state, row.decided_at) == ("cancelled", "resolved", None)
