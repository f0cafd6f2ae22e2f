from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from casework.users import User, UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound

PASSWORD = "a long enough secret"


def add_sam(service: UserService, **overrides: object) -> User:
    args: dict[str, object] = {
        "username": "sam",
        "display_name": "Sam Social",
        "email": "sam@la.example",
        "password": PASSWORD,
        "roles": ["social_worker"],
        "la_code": "LA-100",
    }
    args.update(overrides)
    return service.add(**args)  # type: ignore[arg-type]


def test_added_user_can_authenticate_with_their_password(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_sam(UserService(session, clock), roles=["social_worker", "iro"])
    with unit_of_work(factory) as session:
        user = UserService(session, clock).authenticate("sam", PASSWORD)
        assert user is not None
        assert user.roles_set == frozenset({"social_worker", "iro"})
        assert user.created_at == clock.now()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_wrong_password_unknown_user_and_inactive_user_do_not_authenticate(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        service = UserService(session, clock)
        user = add_sam(service)
        assert service.authenticate("sam", "not the password") is None
        assert service.authenticate("nobody", PASSWORD) is None
        user.active = False
        assert service.authenticate("sam", PASSWORD) is None


def test_unknown_role_is_refused_naming_the_roles_field(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add_sam(UserService(session, clock), roles=["social_worker", "headteacher"])
    assert "headteacher" in caught.value.errors["roles"][0]


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_empty_or_short_password_is_refused(
    factory: sessionmaker[Session], clock: FrozenClock, password: str
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add_sam(UserService(session, clock), password=password)
    assert set(caught.value.errors) == {"password"}


def test_duplicate_username_is_a_conflict(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_sam(UserService(session, clock))
    with unit_of_work(factory) as session, pytest.raises(Conflict):
        add_sam(UserService(session, clock), email="other@la.example")


def test_get_unknown_user_is_not_found(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session, pytest.raises(NotFound):
        UserService(session, clock).get(999)


def test_outdated_hash_is_upgraded_on_successful_login(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with unit_of_work(factory) as session:
        user = add_sam(UserService(session, clock))
        user.password_hash = weak.hash(PASSWORD)
        old_hash = user.password_hash
    with unit_of_work(factory) as session:
        assert UserService(session, clock).authenticate("sam", PASSWORD) is not None
    with unit_of_work(factory) as session:
        user = UserService(session, clock).by_username("sam")
        assert user is not None and user.password_hash != old_hash
        assert user.check_password(PASSWORD)
