"""Sessions live on the server: signing out, the idle timeout, the absolute lifetime, rotation and
"sign out everywhere" end them on every web process (casework/sessions.py, docs/access.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import select

from app.cli import main
from casework.sessions import UserSession
from casework.users import User, UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent
from tests.hashing import FAST_HASHER
from web import create_app

from .support import PASSWORD, csrf_token, login

COOKIE = "vsw_session"


@pytest.fixture
def second_app(app_config: dict[str, object]) -> Iterator[Flask]:
    """Another web process on the same database, with the same secret key."""
    other = create_app(app_config)
    yield other
    other.extensions["vsw"].engine.dispose()


@pytest.fixture
def admin(app: Flask, clock: FrozenClock) -> str:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"],
                                                     "LA-100")
    return "ada"


def signed_in_browser(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser (on ``app``) holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(COOKIE, cookie.value)
    return other


def cookie_contents(client: FlaskClient, app: Flask) -> dict[str, Any]:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    serializer = cast(SecureCookieSessionInterface, app.session_interface).get_signing_serializer(app)
    assert serializer is not None
    return cast(dict[str, Any], serializer.loads(cookie.value))


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def sign_out(client: FlaskClient) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    assert response.status_code == 302


def rows(app: Flask, username: str) -> list[UserSession]:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        return list(session.scalars(select(UserSession).join(User, User.id == UserSession.user_id)
                                    .where(User.username == username).order_by(UserSession.id)))


def test_a_cookie_copied_before_signing_out_does_not_work_afterwards(app: Flask) -> None:
    client = signed_in_browser(app, "sam")
    copied = copy_of(client, app)
    assert signed_in(copied)
    sign_out(client)
    response = copied.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "You were signed out: sign in again" in copied.get("/login").text
    (row,) = rows(app, "sam")
    assert row.revoked_at is not None and row.ended_because == "signed_out"


def test_signing_out_on_one_process_signs_the_session_out_on_every_process(app: Flask, second_app: Flask) -> None:
    client = signed_in_browser(app, "sam")
    elsewhere = copy_of(client, second_app)
    assert signed_in(elsewhere)
    sign_out(client)
    assert not signed_in(elsewhere)


def test_the_database_holds_only_a_hash_of_the_session_token(app: Flask) -> None:
    client = signed_in_browser(app, "sam")
    token = cookie_contents(client, app)["sid"]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    (row,) = rows(app, "sam")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token


def test_a_session_without_a_request_for_thirty_minutes_is_signed_out_with_a_message(
    app: Flask, clock: FrozenClock
) -> None:
    client = signed_in_browser(app, "sam")
    clock.advance(timedelta(minutes=20))
    assert signed_in(client)
    clock.advance(timedelta(minutes=30))
    assert signed_in(client)  # 30 minutes since the last request: not more
    clock.advance(timedelta(minutes=30, seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/"
    assert "You were signed out after 30 minutes without activity" in client.get("/login").text
    assert rows(app, "sam")[0].ended_because == "idle"


def test_the_idle_timeout_is_the_configured_one(app_config: dict[str, object], clock: FrozenClock, app: Flask) -> None:
    short = create_app({**app_config, "VSW_SESSION_IDLE_MINUTES": 5})
    try:
        client = signed_in_browser(short, "sam")
        clock.advance(timedelta(minutes=5, seconds=1))
        assert not signed_in(client)
        assert "You were signed out after 5 minutes without activity" in client.get("/login").text
    finally:
        short.extensions["vsw"].engine.dispose()


def test_a_session_ends_twelve_hours_after_signing_in_however_busy(app: Flask, clock: FrozenClock) -> None:
    client = signed_in_browser(app, "sam")
    for _ in range(12 * 3 - 1):
        clock.advance(timedelta(minutes=20))
        assert signed_in(client)
    clock.advance(timedelta(minutes=20))  # 12 hours
    assert not signed_in(client)
    assert "You were signed out because you signed in 12 hours ago" in client.get("/login").text
    assert rows(app, "sam")[0].ended_because == "expired"
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)  # the signed cookie, too


def test_the_last_request_is_written_at_most_once_a_minute(app: Flask, clock: FrozenClock) -> None:
    client = signed_in_browser(app, "sam")
    started = clock.now()
    clock.advance(timedelta(seconds=59))
    assert signed_in(client)
    assert rows(app, "sam")[0].last_seen_at == started
    clock.advance(timedelta(seconds=1))
    assert signed_in(client)
    assert rows(app, "sam")[0].last_seen_at == clock.now()


def test_signing_in_gives_a_new_session_and_ends_the_one_the_browser_had(app: Flask) -> None:
    client = app.test_client()
    client.get("/login")
    before = cookie_contents(client, app)
    assert "sid" not in before and "csrf_token" in before
    login(client, "sam")
    first = cookie_contents(client, app)
    assert first["sid"] and "csrf_token" not in first  # the signed-out page's CSRF token is gone with it
    copied = copy_of(client, app)
    page = client.get("/")
    response = client.post("/login", data={"username": "sam", "password": PASSWORD,
                                           "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    second = cookie_contents(client, app)
    assert second["sid"] != first["sid"]
    assert signed_in(client) and not signed_in(copied)
    old, new = rows(app, "sam")
    assert (old.ended_because, new.revoked_at) == ("replaced", None)


def test_signing_yourself_out_everywhere_ends_every_session_on_every_process(
    app: Flask, second_app: Flask
) -> None:
    here, there, phone = (signed_in_browser(app, "sam"), signed_in_browser(second_app, "sam"),
                          signed_in_browser(second_app, "sam"))
    colleague = signed_in_browser(second_app, "val")
    account = here.get("/account")
    assert account.status_code == 200
    assert account.text.count("govuk-table__row") == 4 and "This browser" in account.text
    response = here.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(account.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "You have signed out everywhere: 3 sessions ended" in here.get("/login").text
    assert not any(signed_in(client) for client in (here, there, phone))
    assert signed_in(colleague)
    assert last_audit(app) == ("sam", "sessions_revoked", {"user": "sam", "sessions": 3, "address": "127.0.0.1"})


def last_audit(app: Flask) -> tuple[str, str, dict[str, Any] | None]:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        return event.actor, event.action, event.data


def test_an_administrator_signs_a_leaver_out_everywhere_from_the_users_page(
    app: Flask, second_app: Flask, admin: str
) -> None:
    leaver = [signed_in_browser(app, "sam"), signed_in_browser(second_app, "sam")]
    administrator = signed_in_browser(app, admin)
    users = administrator.get("/admin/users")
    assert users.status_code == 200
    assert "Sam Social" in users.text and "Sign out everywhere<span class=\"govuk-visually-hidden\">: sam" in users.text
    response = administrator.post("/admin/users/sam/sign-out-everywhere", data={"csrf_token": csrf_token(users.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "sam is signed out everywhere: 2 sessions ended" in administrator.get("/admin/users").text
    assert not any(signed_in(client) for client in leaver)
    assert signed_in(administrator)
    assert last_audit(app) == ("ada", "sessions_revoked", {"user": "sam", "sessions": 2, "address": "127.0.0.1"})
    missing = administrator.post("/admin/users/nobody/sign-out-everywhere", data={"csrf_token": csrf_token(users.text)})
    assert missing.status_code == 404


def test_only_an_administrator_may_list_users_or_sign_them_out(app: Flask) -> None:
    sam, val = signed_in_browser(app, "sam"), signed_in_browser(app, "val")
    assert val.get("/admin/users").status_code == 403
    page = val.get("/")
    assert val.post("/admin/users/sam/sign-out-everywhere", data={"csrf_token": csrf_token(page.text)}).status_code == 403
    assert signed_in(sam)


def test_vsw_user_sign_out_ends_every_session_of_a_user_on_every_process(
    app: Flask, second_app: Flask, db_url: str, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> None:
    clock.set(datetime.now(UTC))  # the CLI reads the system clock: sessions opened now are still open to it
    leaver = [signed_in_browser(app, "sam"), signed_in_browser(second_app, "sam")]
    colleague = signed_in_browser(app, "val")
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["user", "sign-out", "sam"])
    assert result.exit_code == 0, result.output
    assert result.output == "Signed sam out everywhere: 2 sessions ended.\n"
    assert not any(signed_in(client) for client in leaver)
    assert signed_in(colleague)
    assert last_audit(app) == ("cli", "sessions_revoked", {"user": "sam", "sessions": 2})
    unknown = CliRunner().invoke(main, ["user", "sign-out", "nobody"])
    assert (unknown.exit_code, unknown.output) == (1, "Error: No user called 'nobody'\n")


def test_a_deactivated_user_is_signed_out_at_their_next_request(app: Flask) -> None:
    client = signed_in_browser(app, "sam")
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        user = session.scalars(select(User).where(User.username == "sam")).one()
        user.active = False
    assert not signed_in(client)
    assert rows(app, "sam")[0].ended_because == "inactive"
