"""The sign-in throttles and the session store below the web app (casework/signin.py, casework/sessions.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.sessions import SessionPolicy, SessionStore
from casework.signin import ADDRESS, Attempt, SignIns, SignInThrottle, ThrottleRules, address_key
from casework.users import User, UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER

PASSWORD = "a long enough secret"


def add(session: Session, clock: FrozenClock, username: str) -> User:
    return UserService(session, clock, FAST_HASHER).add(username, username.title(), f"{username}@la.example",
                                                        PASSWORD, ["social_worker"], "LA-100")


def attempt(factory: sessionmaker[Session], clock: FrozenClock, username: str, address: str, ok: bool) -> Attempt:
    with unit_of_work(factory) as session:
        begun = SignIns(session, clock).begin(username, address)
    if begun.allowed:
        with unit_of_work(factory) as session:
            SignIns(session, clock).finish(begun, signed_in=ok)
    return begun


def throttle(factory: sessionmaker[Session], kind: str, key: str) -> SignInThrottle | None:
    with factory() as session:
        return session.scalars(select(SignInThrottle).where(SignInThrottle.kind == kind,
                                                            SignInThrottle.key == key)).one_or_none()


@pytest.mark.parametrize(("address", "key"), [
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("192.0.2.7", "192.0.2.7"),
    (None, "unknown"),
])
def test_a_client_is_throttled_by_its_address_and_an_ipv6_client_by_its_64_block(address: str | None, key: str) -> None:
    assert address_key(address) == key


def test_locks_last_a_minute_then_twice_as_long_each_time_up_to_fifteen_minutes() -> None:
    rules = ThrottleRules()
    assert [rules.lock_for(n) for n in range(1, 8)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15)]
    assert rules.lock_for(10_000) == timedelta(minutes=15)
    with pytest.raises(ValueError, match="forget_after"):
        ThrottleRules(forget_after=timedelta(minutes=15))


def test_signing_in_takes_back_only_its_own_attempt_from_the_address(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add(session, clock, "sam")
    for n in range(19):
        attempt(factory, clock, f"guess{n}", "192.0.2.9", ok=False)
    assert attempt(factory, clock, "sam", "192.0.2.9", ok=True).allowed
    address = throttle(factory, ADDRESS, "192.0.2.9")
    assert address is not None and (address.failures, address.locked_until) == (19, None)
    attempt(factory, clock, "guess-again", "192.0.2.9", ok=False)
    assert not attempt(factory, clock, "sam", "192.0.2.9", ok=True).allowed  # the 20th failure locked it


def test_throttles_quiet_for_an_hour_are_deleted_at_the_next_successful_sign_in(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add(session, clock, "sam")
    for n in range(30):
        attempt(factory, clock, f"someone{n}", f"198.51.100.{n}", ok=False)
    clock.advance(timedelta(hours=1))
    attempt(factory, clock, "sam", "192.0.2.1", ok=True)
    with factory() as session:
        left = session.scalars(select(SignInThrottle.key).order_by(SignInThrottle.key)).all()
    assert left == ["192.0.2.1", "sam"]


def test_open_sessions_leave_out_the_idle_the_expired_and_the_ended(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    policy = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    with unit_of_work(factory) as session:
        sam, val = add(session, clock, "sam"), add(session, clock, "val")
        store = SessionStore(session, clock, policy)
        _, idle = store.start(sam, "192.0.2.1")
        clock.advance(timedelta(minutes=31))
        ended_token, _ = store.start(sam, "192.0.2.2")
        store.sign_out(ended_token, "192.0.2.2")
        _, kept = store.start(sam, None)
        store.start(val, "192.0.2.3")
    with unit_of_work(factory) as session:
        store = SessionStore(session, clock, policy)
        assert [row.id for row in store.open_sessions(sam.id)] == [kept.id]
        assert [(item.user.username, item.open_sessions) for item in store.users()] == [("sam", 1), ("val", 1)]
        assert idle.id != kept.id
    clock.advance(timedelta(hours=12))
    with unit_of_work(factory) as session:
        store = SessionStore(session, clock, policy)
        assert list(store.open_sessions(sam.id)) == []
        assert store.sign_out_everywhere("sam", by="cli") == 0  # nothing left open to end
        assert session.scalar(select(func.count()).select_from(User)) == 2
