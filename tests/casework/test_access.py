from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import String, literal, select, union_all, update
from sqlalchemy.orm import Session, sessionmaker

from casework.access import CaseAccess
from casework.records import Child, note_unrecorded_key
from casework.users import User
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService

from .records_support import add_child, add_school, add_user


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> sessionmaker[Session]:
    """Two children of LA 935 (one per social worker and school) and one of LA 936."""
    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        add_school(session, clock, "100002")
        add_user(session, clock, "sarah", ["social_worker"])
        add_user(session, clock, "tom", ["social_worker"])
        add_user(session, clock, "dana", ["designated_teacher"], school_urn="100001")
        add_user(session, clock, "dual", ["designated_teacher", "social_worker"], school_urn="100001")
        for username, role in [
            ("vera", "vsh"),
            ("nina", "nominated_officer"),
            ("dee", "dcs"),
            ("ian", "iro"),
            ("ada", "admissions_officer"),
            ("sue", "sen_officer"),
            ("mike", "manager"),
        ]:
            add_user(session, clock, username, [role])
        add_user(session, clock, "otto", ["vsh"], la_code="936")
        add_user(session, clock, "gone", ["vsh"]).active = False
        add_child(session, clock, ref="C-1", social_worker="sarah", school_urn="100001")
        add_child(session, clock, ref="C-2", social_worker="tom", school_urn="100002")
        add_child(session, clock, ref="C-9", la_code="936")
        note_unrecorded_key(session, "TEST-1", clock.now())  # as the hooks do when its process steps
    return factory


def _actor(username: str, *roles: str) -> Actor:
    return Actor(username, frozenset(roles))


def test_a_social_worker_sees_and_acts_only_for_their_allocated_children(
    world: sessionmaker[Session],
) -> None:
    access, sarah = CaseAccess(), _actor("sarah", "social_worker")
    with unit_of_work(world) as session:
        assert access.may_see(session, sarah, "C-1") and access.may_act(
            session, sarah, "social_worker", "C-1"
        )
        assert not access.may_see(session, sarah, "C-2")
        assert not access.may_act(session, sarah, "social_worker", "C-2")
        assert not access.may_act(session, sarah, "vsh", "C-1")  # not her role
        assert [c.ref for c in access.visible_children(session, sarah).items] == ["C-1"]


def test_a_designated_teacher_sees_only_the_children_at_their_school(world: sessionmaker[Session]) -> None:
    access, dana = CaseAccess(), _actor("dana", "designated_teacher")
    with unit_of_work(world) as session:
        assert access.may_act(session, dana, "designated_teacher", "C-1")
        assert not access.may_see(session, dana, "C-2")
        assert not access.may_act(session, dana, "designated_teacher", "C-2")
        assert [c.ref for c in access.visible_children(session, dana).items] == ["C-1"]


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("vera", "vsh"),
        ("nina", "nominated_officer"),
        ("dee", "dcs"),
        ("ian", "iro"),
        ("ada", "admissions_officer"),
        ("sue", "sen_officer"),
        ("mike", "manager"),
    ],
)
def test_la_wide_roles_reach_every_child_of_their_own_authority_only(
    world: sessionmaker[Session], username: str, role: str
) -> None:
    access, actor = CaseAccess(), _actor(username, role)
    with unit_of_work(world) as session:
        assert access.may_act(session, actor, role, "C-1") and access.may_act(session, actor, role, "C-2")
        assert not access.may_see(session, actor, "C-9")
        assert not access.may_act(session, actor, role, "C-9")
        assert [c.ref for c in access.visible_children(session, actor).items] == ["C-1", "C-2"]


def test_the_role_that_acts_must_itself_reach_the_child(world: sessionmaker[Session]) -> None:
    # "dual" is designated teacher at C-1's school and a social worker with no allocated children.
    access, dual = CaseAccess(), _actor("dual", "designated_teacher", "social_worker")
    with unit_of_work(world) as session:
        assert access.may_see(session, dual, "C-1")
        assert access.may_act(session, dual, "designated_teacher", "C-1")
        assert not access.may_act(session, dual, "social_worker", "C-1")


def test_unknown_inactive_users_and_roles_the_user_does_not_hold_reach_nothing(
    world: sessionmaker[Session],
) -> None:
    access = CaseAccess()
    with unit_of_work(world) as session:
        assert not access.may_see(session, _actor("nobody", "vsh"), "C-1")
        assert not access.may_see(session, _actor("gone", "vsh"), "C-1")
        assert not access.may_see(session, _actor("sarah", "vsh"), "C-1")  # claims a role she lacks
        assert access.visible_children(session, _actor("gone", "vsh")).items == []


def test_a_key_with_no_child_record_is_open_only_to_vsh_manager_and_admin_by_role(
    world: sessionmaker[Session],
) -> None:
    access = CaseAccess()
    with unit_of_work(world) as session:
        assert access.may_act(session, _actor("vera", "vsh"), "vsh", "TEST-1")
        assert access.may_see(session, _actor("mike", "manager"), "TEST-1")
        assert not access.may_see(session, _actor("sarah", "social_worker"), "TEST-1")
        assert not access.may_see(session, _actor("mike", "manager"), "TEST-2")  # no work opened for it
        assert not access.may_act(session, _actor("nina", "nominated_officer"), "nominated_officer", "TEST-1")
        assert CaseAccess(frozenset({"nominated_officer"})).may_act(
            session, _actor("nina", "nominated_officer"), "nominated_officer", "TEST-1"
        )


# -- the same rule as a list query and as a single check ------------------------------------------------

ACTORS = [("sarah", {"social_worker"}), ("tom", {"social_worker"}), ("dana", {"designated_teacher"}),
          ("dual", {"designated_teacher", "social_worker"}), ("vera", {"vsh"}), ("mike", {"manager"}),
          ("nina", {"nominated_officer"}), ("otto", {"vsh"}), ("gone", {"vsh"}), ("nobody", {"manager"}),
          ("sarah", {"vsh"})]
KEYS = ["C-1", "C-2", "C-9", "TEST-1", "TEST-2"]  # TEST-2: no child record and no work opened for it
ROLES = ["social_worker", "designated_teacher", "vsh", "manager", "nominated_officer", "iro"]


def _expected_act(session: Session, username: str, claimed: set[str], role: str, key: str) -> bool:
    """The rule written out plainly, independently of casework.access."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active or role not in claimed or role not in user.roles_set:
        return False
    child = session.scalars(select(Child).where(Child.ref == key)).one_or_none()
    if child is None:
        return key == "TEST-1" and role in {"vsh", "manager", "admin"}
    if role == "social_worker":
        return child.social_worker == username
    if role == "designated_teacher":
        return user.school_urn is not None and child.school_urn == user.school_urn
    return child.la_code == user.la_code


def test_the_list_query_and_the_single_checks_agree_with_the_rule_over_every_actor_role_and_child(
    world: sessionmaker[Session],
) -> None:
    access = CaseAccess()
    pairs = union_all(*(select(literal(role, String).label("role"), literal(key, String).label("key"))
                        for role in ROLES for key in KEYS)).subquery("pairs")  # a table of (role, key) rows
    with unit_of_work(world) as session:
        for username, roles in ACTORS:
            actor = _actor(username, *roles)
            scope = access.scope(session, actor)
            listed_acts = set(session.execute(select(pairs.c.role, pairs.c.key)
                                              .where(scope.acts(pairs.c.role, pairs.c.key))).all())
            listed_sees = {key for _, key in session.execute(select(pairs.c.role, pairs.c.key)
                                                             .where(scope.sees(pairs.c.key))).all()}
            children = {c.ref for c in access.visible_children(session, actor, per_page=100).items}
            for key in KEYS:
                expected_see = any(_expected_act(session, username, roles, r, key) for r in ROLES)
                assert access.may_see(session, actor, key) is expected_see, (username, roles, key)
                assert (key in listed_sees) is expected_see, (username, roles, key)
                if not key.startswith("TEST-"):
                    assert (key in children) is expected_see, (username, roles, key)
                for role in ROLES:
                    expected = _expected_act(session, username, roles, role, key)
                    assert access.may_act(session, actor, role, key) is expected, (username, role, key)
                    assert ((role, key) in listed_acts) is expected, (username, role, key)


# -- the inbox joins the rule before it pages ------------------------------------------------------------


def _add_tasks(session: Session, key: str, role: str, n: int, first_due: datetime,
               assignee: str | None = None) -> list[str]:
    """``n`` open tasks of ``role`` for ``key``, due a day apart from ``first_due`` (rows as a step writes)."""
    definition = session.scalars(select(ProcessDefinition)).first()
    if definition is None:
        definition = ProcessDefinition(process_id="p", name="p", version=1, content_sha256="0" * 64,
                                       filename="p.bpmn", bpmn_xml="<x/>", deployed_at=first_due,
                                       deployed_by="test")
        session.add(definition)
        session.flush()
    instance = ProcessInstance(definition_id=definition.id, process_id="p", business_key=key, status="running",
                               state="{}", started_at=first_due, started_by="test", updated_at=first_due)
    session.add(instance)
    session.flush()
    ids = [str(uuid.uuid4()) for _ in range(n)]
    session.add_all(HumanTask(id=task_id, instance_id=instance.id, process_id="p", business_key=key,
                              element_id="t", title=f"{role} task {i}", role=role, state="open",
                              assignee=assignee, due_at=first_due + timedelta(days=i), created_at=first_due)
                    for i, task_id in enumerate(ids))
    session.flush()
    return ids


def _inbox(session: Session, clock: FrozenClock, actor: Actor, page: int = 1) -> Any:
    return WorkflowService(session, clock, Runtime(access=CaseAccess())).inbox(actor, page=page)


@pytest.mark.parametrize(("username", "role", "mine", "theirs"), [
    ("sarah", "social_worker", "C-1", "C-2"),          # another social worker's child, same authority
    ("dana", "designated_teacher", "C-1", "C-2"),      # another school's child
    ("vera", "vsh", "C-1", "C-9"),                     # another authority's child
])
def test_more_than_a_page_of_a_roles_tasks_elsewhere_never_hides_my_own(
    world: sessionmaker[Session], clock: FrozenClock, username: str, role: str, mine: str, theirs: str,
) -> None:
    soon = datetime(2026, 12, 2, tzinfo=UTC)
    with unit_of_work(world) as session:
        _add_tasks(session, theirs, role, 60, soon)                        # all due before mine
        own = _add_tasks(session, mine, role, 3, soon + timedelta(days=90))
        held = _add_tasks(session, mine, role, 1, soon + timedelta(days=200), assignee=username)
    with unit_of_work(world) as session:
        page = _inbox(session, clock, _actor(username, role))
        assert [t.id for t in page.items] == own + held
        assert not page.has_next


def test_the_inbox_pages_my_tasks_soonest_due_first_and_leaves_out_tasks_i_may_not_act_on(
    world: sessionmaker[Session], clock: FrozenClock,
) -> None:
    soon = datetime(2026, 12, 2, tzinfo=UTC)
    with unit_of_work(world) as session:
        own = _add_tasks(session, "C-1", "social_worker", 30, soon)
        _add_tasks(session, "C-1", "vsh", 5, soon)                          # not her role
        _add_tasks(session, "C-2", "social_worker", 5, soon, assignee="tom")  # claimed by tom
        undated = _add_tasks(session, "C-1", "social_worker", 1, soon)
        session.execute(update(HumanTask).where(HumanTask.id == undated[0]).values(due_at=None))
    with unit_of_work(world) as session:
        sarah = _actor("sarah", "social_worker")
        first, second = _inbox(session, clock, sarah), _inbox(session, clock, sarah, page=2)
        assert [t.id for t in first.items] == own[:25] and first.has_next and not first.has_previous
        assert [t.id for t in second.items] == own[25:] + undated and not second.has_next
        assert _inbox(session, clock, _actor("gone", "vsh")).items == []


def test_a_task_held_by_someone_no_longer_allocated_the_child_leaves_their_inbox(
    world: sessionmaker[Session], clock: FrozenClock,
) -> None:
    with unit_of_work(world) as session:
        [held] = _add_tasks(session, "C-2", "social_worker", 1, datetime(2026, 12, 2, tzinfo=UTC), assignee="sarah")
    with unit_of_work(world) as session:
        assert _inbox(session, clock, _actor("sarah", "social_worker")).items == []
        session.execute(update(Child).where(Child.ref == "C-2").values(social_worker="sarah"))
        assert [t.id for t in _inbox(session, clock, _actor("sarah", "social_worker")).items] == [held]
