"""Signing in resists guessing: per account, per address and per trusted browser, shared by every process,
the same answer for unknown usernames, and everything audited (casework/signin.py, docs/access.md)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.signin import SignInThrottle
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent
from web import create_app

from .support import PASSWORD, login

WRONG = "wrong password!"
TOO_MANY = "Too many attempts to sign in"
SIGN_IN_ACTIONS = ("sign_in", "sign_in_failed", "sign_in_locked", "signed_out", "sessions_revoked")


def browser(app: Flask, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def audit(app: Flask) -> list[tuple[str, str, dict[str, Any] | None]]:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(SIGN_IN_ACTIONS)).order_by(AuditEvent.id))
        return [(row.actor, row.action, row.data) for row in rows]


@pytest.fixture
def second_app(app_config: dict[str, object]) -> Iterator[Flask]:
    """Another web process on the same database."""
    other = create_app(app_config)
    yield other
    other.extensions["vsw"].engine.dispose()


def test_forty_wrong_passwords_lock_the_account_and_the_right_one_is_refused_until_the_lock_ends(
    app: Flask, clock: FrozenClock
) -> None:
    client = browser(app)
    statuses = [login(client, "sam", WRONG).status_code for _ in range(40)]
    assert statuses == [200] * 5 + [429] * 35
    refused = login(client, "sam")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert f"{TOO_MANY}. Wait 1 minute, then try again" in refused.text
    assert not signed_in(client)
    clock.advance(timedelta(seconds=59))
    assert login(client, "sam").status_code == 429
    clock.advance(timedelta(seconds=1))
    assert login(client, "sam").status_code == 302
    assert signed_in(client)


def test_each_lock_after_the_first_lasts_twice_as_long_up_to_fifteen_minutes(app: Flask, clock: FrozenClock) -> None:
    client = browser(app)
    for _ in range(5):
        login(client, "sam", WRONG)
    waits = []
    for _ in range(6):
        waits.append(int(login(client, "sam", WRONG).headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert login(client, "sam", WRONG).status_code == 200  # the lock is over: one more guess, checked
    assert waits == [60, 120, 240, 480, 900, 900]
    assert int(login(client, "sam").headers["Retry-After"]) == 900


def test_a_quiet_hour_forgets_the_failures_and_signing_in_resets_the_account(app: Flask, clock: FrozenClock) -> None:
    client = browser(app)
    for _ in range(4):
        login(client, "sam", WRONG)
    clock.advance(timedelta(hours=1))
    for _ in range(4):
        assert login(client, "sam", WRONG).status_code == 200
    assert login(client, "sam").status_code == 302
    client.post("/logout", data={"csrf_token": _token(client.get("/").text)})
    for _ in range(4):
        assert login(client, "sam", WRONG).status_code == 200  # counting from nothing again


def test_one_address_trying_many_usernames_is_locked_out_for_every_one_of_them(app: Flask) -> None:
    attacker = browser(app, "203.0.113.9")
    statuses = [login(attacker, f"guess{n}", WRONG).status_code for n in range(20)]
    assert statuses == [200] * 20
    assert login(attacker, "sam").status_code == 429
    assert login(attacker, "val", WRONG).status_code == 429
    assert not signed_in(attacker)
    colleague = browser(app, "198.51.100.7")
    assert login(colleague, "sam").status_code == 302  # another address is not held back


def test_an_unknown_username_gets_exactly_the_answer_a_known_one_gets_locked_or_not(app: Flask) -> None:
    def answers(username: str, address: str) -> list[tuple[int, str | None, str]]:
        client = browser(app, address)
        seen = []
        for _ in range(7):
            response = login(client, username, WRONG)
            seen.append((response.status_code, response.headers.get("Retry-After"), normalised(response, username)))
        return seen

    known, unknown = answers("tess", "192.0.2.1"), answers("nobody-here", "192.0.2.2")
    assert [status for status, _, _ in known] == [200] * 5 + [429] * 2
    assert known == unknown


def normalised(response: TestResponse, username: str) -> str:
    """The page with the typed username and the CSRF token taken out: all that may differ."""
    text = response.text.replace(f'value="{username}"', 'value="USERNAME"')
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="TOKEN"', text)


def test_every_sign_in_failure_lockout_and_sign_out_is_audited_with_the_address(app: Flask) -> None:
    client = browser(app, "192.0.2.44")
    login(client, "sam", WRONG)
    login(client, "sam")
    client.post("/logout", data={"csrf_token": _token(client.get("/").text)})
    for _ in range(6):
        login(client, "ghost", WRONG)
    events = audit(app)
    assert [(actor, action) for actor, action, _ in events] == [
        ("sam", "sign_in_failed"), ("sam", "sign_in"), ("sam", "signed_out"),
        *[("ghost", "sign_in_failed")] * 5, ("ghost", "sign_in_locked"),
    ]
    assert all(data is not None and data["address"] == "192.0.2.44" for _, _, data in events)
    locked = events[-1][2]
    assert locked is not None and locked["locked"] == "account" and locked["failures"] == 5
    assert locked["until"] == "2026-12-01T09:01:00+00:00"


def test_the_owners_browser_still_signs_in_while_someone_elsewhere_keeps_the_account_locked(
    app: Flask, clock: FrozenClock
) -> None:
    owner = browser(app, "192.0.2.10")
    assert login(owner, "sam").status_code == 302
    owner.post("/logout", data={"csrf_token": _token(owner.get("/").text)})
    attacker = browser(app, "203.0.113.66")
    for _ in range(40):
        login(attacker, "sam", WRONG)
    assert login(attacker, "sam").status_code == 429
    assert login(browser(app, "192.0.2.10"), "sam").status_code == 429  # a new browser waits, even at home
    assert login(owner, "sam").status_code == 302  # the browser that signed in before does not
    assert audit(app)[-1][2] == {"address": "192.0.2.10", "trusted_browser": True}
    # A trusted browser for another account is no way round the lock.
    assert login(attacker, "tess").status_code == 302
    attacker.post("/logout", data={"csrf_token": _token(attacker.get("/").text)})
    assert login(attacker, "sam").status_code == 429


def test_a_trusted_browser_that_guesses_wrong_is_locked_on_its_own(app: Flask) -> None:
    shared = browser(app)
    assert login(shared, "sam").status_code == 302
    shared.post("/logout", data={"csrf_token": _token(shared.get("/").text)})
    assert [login(shared, "sam", WRONG).status_code for _ in range(6)] == [200] * 5 + [429]
    assert login(shared, "sam").status_code == 429


def test_failures_on_one_web_process_count_on_every_other(app: Flask, second_app: Flask) -> None:
    first, second = browser(app), browser(second_app)
    for _ in range(3):
        assert login(first, "sam", WRONG).status_code == 200
    for _ in range(2):
        assert login(second, "sam", WRONG).status_code == 200
    assert login(first, "sam").status_code == 429
    assert login(second, "sam").status_code == 429


def test_guesses_sent_all_at_once_to_two_processes_still_get_five_password_checks(
    app: Flask, second_app: Flask
) -> None:
    statuses: list[int] = []
    start = threading.Barrier(12)

    def guess(target: Flask) -> None:
        client = browser(target)
        page = client.get("/login")
        start.wait()
        response = client.post("/login", data={"username": "sam", "password": WRONG,
                                                "csrf_token": _token(page.text)})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(app if n % 2 else second_app,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] * 5 + [429] * 7
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        account = session.scalars(select(SignInThrottle).where(SignInThrottle.kind == "account")).one()
        assert (account.key, account.failures, account.lockouts) == ("sam", 5, 1)


def test_a_blank_username_or_password_is_not_counted(app: Flask) -> None:
    client = browser(app)
    for _ in range(10):
        assert login(client, "sam", "").status_code == 200
    assert login(client, "sam", PASSWORD).status_code == 302


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)
