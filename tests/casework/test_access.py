from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.access import CaseAccess
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Actor

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
        assert [c.ref for c in access.visible_children(session, sarah)] == ["C-1"]


def test_a_designated_teacher_sees_only_the_children_at_their_school(world: sessionmaker[Session]) -> None:
    access, dana = CaseAccess(), _actor("dana", "designated_teacher")
    with unit_of_work(world) as session:
        assert access.may_act(session, dana, "designated_teacher", "C-1")
        assert not access.may_see(session, dana, "C-2")
        assert not access.may_act(session, dana, "designated_teacher", "C-2")
        assert [c.ref for c in access.visible_children(session, dana)] == ["C-1"]


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
        assert [c.ref for c in access.visible_children(session, actor)] == ["C-1", "C-2"]


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
        assert access.visible_children(session, _actor("gone", "vsh")) == []


def test_a_key_with_no_child_record_is_open_only_to_vsh_manager_and_admin_by_role(
    world: sessionmaker[Session],
) -> None:
    access = CaseAccess()
    with unit_of_work(world) as session:
        assert access.may_act(session, _actor("vera", "vsh"), "vsh", "TEST-1")
        assert access.may_see(session, _actor("mike", "manager"), "TEST-1")
        assert not access.may_see(session, _actor("sarah", "social_worker"), "TEST-1")
        assert not access.may_act(session, _actor("nina", "nominated_officer"), "nominated_officer", "TEST-1")
        assert CaseAccess(frozenset({"nominated_officer"})).may_act(
            session, _actor("nina", "nominated_officer"), "nominated_officer", "TEST-1"
        )
