from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy.orm import Session, sessionmaker

from casework.users import User, UserService
from engine.clock import Clock, FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound
from tests.hashing import FAST_HASHER

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


def users(session: Session, clock: Clock) -> UserService:
    return UserService(session, clock, FAST_HASHER)


class RecordingHasher(PasswordHasher):
    """A real argon2id hasher (the tests' cheap parameters) that remembers every hash it verified against."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def test_added_user_can_authenticate_with_their_password(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_sam(users(session, clock), roles=["social_worker", "iro"])
    with unit_of_work(factory) as session:
        user = users(session, clock).authenticate("sam", PASSWORD)
        assert user is not None
        assert user.roles_set == frozenset({"social_worker", "iro"})
        assert user.created_at == clock.now()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_wrong_password_unknown_user_and_inactive_user_do_not_authenticate(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        service = users(session, clock)
        user = add_sam(service)
        assert service.authenticate("sam", "not the password") is None
        assert service.authenticate("nobody", PASSWORD) is None
        user.active = False
        assert service.authenticate("sam", PASSWORD) is None


def test_unknown_role_is_refused_naming_the_roles_field(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add_sam(users(session, clock), roles=["social_worker", "headteacher"])
    assert "headteacher" in caught.value.errors["roles"][0]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("", "Enter a password"),
        ("short", "Password must be 10 characters or more"),
        ("123456789", "Password must be 10 characters or more"),
        ("sam social", "Password must not contain your username, your name or your email address"),
        ("password12", "Password is too common: choose one that is hard to guess, such as three random words"),
    ],
)
def test_an_empty_short_personal_or_common_password_is_refused_with_its_one_reason(
    factory: sessionmaker[Session], clock: FrozenClock, password: str, reason: str
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add_sam(users(session, clock), password=password)
    assert caught.value.errors == {"password": [reason]}


def test_duplicate_username_is_a_conflict(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_sam(users(session, clock))
    with unit_of_work(factory) as session, pytest.raises(Conflict):
        add_sam(users(session, clock), email="other@la.example")


def test_get_unknown_user_is_not_found(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session, pytest.raises(NotFound):
        users(session, clock).get(999)


def test_a_hash_made_with_other_parameters_is_rehashed_with_the_services_hasher_on_successful_login(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    with unit_of_work(factory) as session:
        old_hash = add_sam(users(session, clock)).password_hash
    with unit_of_work(factory) as session:
        assert UserService(session, clock, stronger).authenticate("sam", PASSWORD) is not None
    with unit_of_work(factory) as session:
        user = users(session, clock).by_username("sam")
        assert user is not None and user.password_hash != old_hash
        assert extract_parameters(user.password_hash) == extract_parameters(stronger.hash(PASSWORD))
        assert user.check_password(PASSWORD, stronger)


def test_a_user_added_with_the_default_hasher_gets_argon2id_at_production_strength_and_signs_in(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """The one test at production strength: 3 passes over 64 MiB in 4 lanes (argon2-cffi's RFC 9106 choice)."""
    with unit_of_work(factory) as session:
        add_sam(UserService(session, clock))
    with unit_of_work(factory) as session:
        user = UserService(session, clock).authenticate("sam", PASSWORD)
        assert user is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        stored = user.password_hash
    with unit_of_work(factory) as session:
        user = users(session, clock).by_username("sam")
        assert user is not None and user.password_hash == stored  # the right strength: not rehashed


def test_an_unknown_username_is_checked_against_a_hash_made_once_with_the_services_own_parameters(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    hasher = RecordingHasher()
    with unit_of_work(factory) as session:
        service = UserService(session, clock, hasher)
        assert service.authenticate("nobody", PASSWORD) is None
        assert service.authenticate("no-one", "another password") is None
    first, second = hasher.verified
    assert first == second  # one dummy hash for these parameters, made once
    assert extract_parameters(first) == extract_parameters(hasher.hash(PASSWORD))
