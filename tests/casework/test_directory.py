"""Whom to notify: the holders of a role who may act for the child, found in one query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from casework.directory import CaseDirectory
from casework.records import note_unrecorded_key
from casework.users import User
from engine.clock import FrozenClock
from engine.db import unit_of_work

from .records_support import add_child, add_school


def _user(session: Session, clock: FrozenClock, username: str, roles: str, la_code: str = "935",
          school_urn: str | None = None, active: bool = True) -> None:
    session.add(User(username=username, display_name=username.title(), email=f"{username}@la.example",
                     password_hash="-", roles=roles, la_code=la_code, school_urn=school_urn, active=active,
                     created_at=clock.now()))


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> sessionmaker[Session]:
    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        add_school(session, clock, "100002")
        _user(session, clock, "sarah", "social_worker")
        _user(session, clock, "dana", "designated_teacher", school_urn="100001")
        _user(session, clock, "vera", "manager,vsh")
        _user(session, clock, "otto", "vsh", la_code="936")
        _user(session, clock, "gone", "vsh", active=False)
        _user(session, clock, "vshadow", "vsh_deputy")  # a role whose name merely contains "vsh"
        add_child(session, clock, ref="C-1", social_worker="sarah", school_urn="100001")
        note_unrecorded_key(session, "TEST-1", clock.now())
    return factory


def _more_users(factory: sessionmaker[Session], clock: FrozenClock, n: int) -> None:
    with unit_of_work(factory) as session:
        for i in range(n):
            _user(session, clock, f"sw{i}", "social_worker")
            _user(session, clock, f"dt{i}", "designated_teacher", school_urn="100002")
            _user(session, clock, f"far{i}", "vsh,manager", la_code="936")


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", count)


def _people(factory: sessionmaker[Session], role: str, key: str | None) -> tuple[list[str], int]:
    with unit_of_work(factory) as session:
        session.connection()  # the transaction is open before counting
        with statements(session) as seen:
            names = [p.username for p in CaseDirectory().people(session, role, key)]
        return names, len(seen)


def test_each_role_tells_only_its_holders_who_may_act_for_the_child(world: sessionmaker[Session]) -> None:
    assert _people(world, "social_worker", "C-1")[0] == ["sarah"]
    assert _people(world, "designated_teacher", "C-1")[0] == ["dana"]
    assert _people(world, "vsh", "C-1")[0] == ["vera"]
    assert _people(world, "vsh", "TEST-1")[0] == ["otto", "vera"]   # no child record: by role alone
    assert _people(world, "social_worker", "TEST-1")[0] == []
    assert _people(world, "vsh", None)[0] == ["otto", "vera"]


def test_notifying_a_roles_holders_is_one_statement_whatever_the_number_of_users(
    world: sessionmaker[Session], clock: FrozenClock,
) -> None:
    before = {role: _people(world, role, "C-1") for role in ("social_worker", "designated_teacher", "vsh")}
    _more_users(world, clock, 60)
    after = {role: _people(world, role, "C-1") for role in ("social_worker", "designated_teacher", "vsh")}
    assert after == before
    assert {n for _, n in after.values()} == {1}
