"""A manager gives tasks to someone else (casework/assignment.py), over real processes and the case access rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.access import CaseAccess
from casework.assignment import MAX_TASKS, Assignments, eligible_people
from casework.need_to_know import NeedToKnow
from casework.rules import ensure_authority
from casework.staff import StaffService
from casework.terms import load_default_term_dates
from engine.clock import FrozenClock
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, HumanTask
from engine.runtime import Actor
from engine.service import WorkflowService
from notifications.models import InAppMessage, OutboxMessage
from tests.hashing import FAST_HASHER

from .records_support import LA, add_user
from .world import World

OTHER_LA = "936"
MANAGER = Actor("manager", frozenset({"manager"}))


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    """LA 935: C-1 (``sw``'s, at 100001) and C-4 (``other_sw``'s, at 100001) and C-5 (``sw``'s, at 100002),
    each with an initial PEP open; ``sw_dt`` also teaches at 100001; managers ``manager`` and ``max``,
    ``gone`` (deactivated). LA 936: its manager ``bea`` and ``far`` (a manager there), and C-9 with a PEP."""
    world = World(factory, clock)
    with world.session() as session:
        ensure_authority(session, OTHER_LA, "Other Borough")
        load_default_term_dates(session, OTHER_LA)
        add_user(session, clock, "sw_dt", ["social_worker", "designated_teacher"], school_urn="100001")
        for name in ("max", "gone"):
            add_user(session, clock, name, ["manager"])
        add_user(session, clock, "admin", ["admin"])
        StaffService(session, clock, FAST_HASHER).deactivate("gone", "admin")
        add_user(session, clock, "bea", ["manager"], la_code=OTHER_LA)
        add_user(session, clock, "sw9", ["social_worker"], la_code=OTHER_LA)
    with world.casework() as casework:
        for ref, worker, urn, la in (("C-1", "sw", "100001", LA), ("C-4", "other_sw", "100001", LA),
                                     ("C-5", "sw", "100002", LA), ("C-9", "sw9", "100001", OTHER_LA)):
            casework.add_child(ref=ref, first_name="Kid", last_name=ref, date_of_birth="2016-03-14",
                               legal_status="C2", looked_after_since="2026-11-20", la_code=la, social_worker=worker,
                               school_urn=urn)
    return world


@contextmanager
def assignments(world: World, actor: Actor = MANAGER) -> Iterator[Assignments]:
    with world.session() as session:
        scope = world.runtime.access.scope(session, actor)
        yield Assignments(session, world.clock, world.runtime, actor, NeedToKnow(session, scope), "https://vsw.example")


def usernames(world: World, *tasks: HumanTask, limit: int = 200) -> list[str]:
    with world.session() as session:
        return [p.username for p in eligible_people(session, CaseAccess(), list(tasks), limit=limit).people]


def holder(world: World, task: HumanTask) -> str | None:
    return world.task(task.business_key, task.element_id).assignee


def told(world: World, who: str) -> list[str]:
    """The subjects of the emails telling ``who`` they were given tasks."""
    with world.session() as session:
        return list(session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.name == "task_reassigned", OutboxMessage.recipient_username == who)))


def inbox(world: World, who: str) -> list[str]:
    with world.session() as session:
        actor = Actor(who, frozenset({"social_worker", "designated_teacher"}))
        return [t.id for t in WorkflowService(session, world.clock, world.runtime).inbox(actor).items]


def test_a_teachers_task_can_go_to_each_active_designated_teacher_at_the_childs_school_only(world: World) -> None:
    assert usernames(world, world.task("C-1", "complete_pep_school_age")) == ["dt100001", "sw_dt"]
    assert usernames(world, world.task("C-5", "complete_pep_school_age")) == ["dt100002"]


def test_a_social_workers_task_can_go_only_to_the_childs_own_social_worker(world: World) -> None:
    assert usernames(world, world.task("C-1", "social_worker_contribution")) == ["sw"]
    assert usernames(world, world.task("C-4", "social_worker_contribution")) == ["other_sw"]


def test_a_manager_task_can_go_to_the_active_managers_of_the_childs_authority_only(world: World) -> None:
    world.at(world.clock.now().replace(day=20))  # the initial PEPs are overdue: a manager must decide
    task = world.task("C-1", "escalate_overdue_pep")
    assert usernames(world, task) == ["manager", "max"]  # not gone (inactive), bea (936), nor any social worker
    assert usernames(world, task, limit=1) == ["manager"]
    with world.session() as session:
        assert eligible_people(session, CaseAccess(), [task], limit=1).more is True


def test_for_several_tasks_only_the_people_eligible_for_every_one_are_offered_or_why_no_one_is(
        world: World) -> None:
    both = [world.task("C-1", "complete_pep_school_age"), world.task("C-4", "complete_pep_school_age")]
    assert usernames(world, *both) == ["dt100001", "sw_dt"]
    with world.session() as session:
        schools = eligible_people(session, CaseAccess(), [*both, world.task("C-5", "complete_pep_school_age")])
        roles = eligible_people(session, CaseAccess(), [both[0], world.task("C-1", "record_childs_views")])
    assert schools.people == [] and schools.why_none is not None and "not all at the same school" in schools.why_none
    assert roles.people == [] and roles.why_none is not None and "different roles" in roles.why_none


def test_a_manager_moves_a_task_to_an_eligible_person_who_is_told_and_the_old_holder_loses_it(
        world: World) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["dt100001"])
    with assignments(world) as service:
        done = service.assign(task.id, "sw_dt", seen="dt100001")
    assert [t.id for t in done.changed] == [task.id] and done.to.username == "sw_dt"
    assert holder(world, task) == "sw_dt"
    assert task.id in inbox(world, "sw_dt") and task.id not in inbox(world, "dt100001")
    with world.session() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "task_assigned")).one()
        assert (audit.actor, audit.task_id, audit.data) == ("manager", task.id, {"to": "sw_dt", "was": "dt100001"})
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.name == "task_reassigned")).one()
        assert mail.recipient_username == "sw_dt"
        assert mail.subject == "Manager has given you a task for Kid C-1 (C-1): Complete the school-age PEP"
        assert mail.link == f"https://vsw.example/tasks/{task.id}"
        note = session.scalars(select(InAppMessage).where(InAppMessage.name == "task_reassigned")).one()
        assert note.username == "sw_dt"


@pytest.mark.parametrize(("who", "reason"), [
    ("other_sw", "Other_Sw (other_sw) cannot be given ‘Contribute to the PEP’ for Kid C-1 (C-1): they are not "
                 "the child's social worker"),
    ("dt100001", "they are not a social worker"),
    ("nobody", "There is no one with the username nobody"),
    ("", "Choose who to give the task to"),
])
def test_someone_who_may_not_take_the_task_is_refused_naming_the_assignee_and_why(
        world: World, who: str, reason: str) -> None:
    task = world.task("C-1", "social_worker_contribution")
    with pytest.raises(InvalidData) as refused, assignments(world) as service:
        service.assign(task.id, who)
    assert list(refused.value.errors) == ["assignee"] and reason in refused.value.errors["assignee"][0]
    assert holder(world, task) is None


def test_a_deactivated_manager_cannot_be_given_a_managers_task(world: World) -> None:
    world.at(world.clock.now().replace(day=20))
    task = world.task("C-1", "escalate_overdue_pep")
    with pytest.raises(InvalidData, match="their account is not active"), assignments(world) as service:
        service.assign(task.id, "gone")


def test_a_manager_of_another_authority_cannot_see_the_task_and_a_non_manager_may_not_assign(world: World) -> None:
    task = world.task("C-1", "social_worker_contribution")
    with pytest.raises(NotFound), assignments(world, Actor("bea", frozenset({"manager"}))) as service:
        service.assign(task.id, "sw")
    with pytest.raises(NotFound), assignments(world) as service:  # nor this one the other authority's
        service.assign(world.task("C-9", "social_worker_contribution").id, "sw9")
    with pytest.raises(Forbidden, match="only a manager"), assignments(world, world.actors["vsh"]) as service:
        service.assign(world.task("C-1", "complete_pep_school_age").id, "sw_dt")
    assert holder(world, task) is None


def test_many_tasks_go_to_one_person_together_and_they_are_told_once(world: World) -> None:
    tasks = [world.task("C-1", "social_worker_contribution"), world.task("C-1", "record_childs_views"),
             world.task("C-5", "social_worker_contribution")]
    with assignments(world) as service:
        done = service.assign_many([t.id for t in tasks], "sw")
    assert len(done.changed) == 3 and all(holder(world, t) == "sw" for t in tasks)
    assert told(world, "sw") == ["Manager has given you 3 tasks"]
    with world.session() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "task_assigned")).all()) == 3


def test_many_tasks_where_one_cannot_go_to_the_person_change_nothing_and_the_error_names_that_task(
        world: World) -> None:
    tasks = [world.task("C-1", "social_worker_contribution"), world.task("C-4", "social_worker_contribution")]
    with pytest.raises(InvalidData) as refused, assignments(world) as service:
        service.assign_many([t.id for t in tasks], "sw")
    [reason] = refused.value.errors["assignee"]
    assert "‘Contribute to the PEP’ for Kid C-4 (C-4)" in reason and "not the child's social worker" in reason
    assert [holder(world, t) for t in tasks] == [None, None] and told(world, "sw") == []


def test_a_bulk_assignment_needs_one_to_a_hundred_tasks(world: World) -> None:
    task = world.task("C-1", "social_worker_contribution")
    for ids, message in (([], "Choose at least one task"), ([task.id] * 2 + [f"t-{n}" for n in range(MAX_TASKS)],
                                                             "at most 100 tasks")):
        with pytest.raises(InvalidData, match=message) as refused, assignments(world) as service:
            service.assign_many(ids, "sw")
        assert list(refused.value.errors) == ["task"]


def test_when_one_of_many_tasks_changed_hands_since_the_manager_looked_none_of_them_moves(world: World) -> None:
    first, second = world.task("C-1", "social_worker_contribution"), world.task("C-1", "record_childs_views")
    with pytest.raises(Conflict, match="changed hands"), assignments(world) as service:
        service.assign_many([first.id, second.id], "sw", seen_each={first.id: None, second.id: "other_sw"})
    assert [holder(world, first), holder(world, second)] == [None, None] and told(world, "sw") == []


def test_a_task_held_by_the_only_person_who_may_do_it_offers_no_one_else_and_says_so(world: World) -> None:
    task = world.task("C-1", "social_worker_contribution")
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["sw"])
    with assignments(world) as service:
        eligible = service.eligible(service.tasks([task.id]))
    assert eligible.people == [] and eligible.why_none == (
        "No one else can be chosen for Kid C-1 (C-1): only the child's own social worker can do social-worker "
        "tasks. It is assigned to sw now.")
