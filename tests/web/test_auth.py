from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from sqlalchemy.engine import make_url

from app.settings import Settings
from web import ConfigError, create_app

from .support import PASSWORD, csrf_token, login


def test_login_with_the_right_password_starts_a_session_and_opens_the_inbox(client: FlaskClient) -> None:
    response = login(client, "sam")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    inbox = client.get("/")
    assert inbox.status_code == 200
    assert "Your tasks" in inbox.text and "Sam Social" in inbox.text


def test_login_with_a_wrong_password_shows_an_error_and_starts_no_session(client: FlaskClient) -> None:
    response = login(client, "sam", "wrong password!")
    assert response.status_code == 200
    assert "govuk-error-summary" in response.text
    assert "The username or password is not right" in response.text
    assert 'value="sam"' in response.text  # the username is kept
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client: FlaskClient) -> None:
    login(client, "sam")
    page = client.get("/")
    response = client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/tasks/some-task", "/instances/1"])
def test_pages_require_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_after_login_the_user_goes_back_to_the_page_they_asked_for_but_never_off_site(
    client: FlaskClient,
) -> None:
    page = client.get("/login?next=/instances/1")
    response = client.post(
        "/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "next": "/instances/1",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["Location"] == "/instances/1"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused_with_400(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "sam", "password": PASSWORD})
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert client.get("/").status_code == 302  # not logged in


def test_post_with_a_wrong_csrf_token_is_refused_with_400(client: FlaskClient) -> None:
    login(client, "sam")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_responses_carry_security_headers_and_the_session_cookie_is_httponly_and_lax(
    client: FlaskClient,
) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_app_refuses_to_start_without_a_secret_key_outside_testing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VSW_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="VSW_SECRET_KEY"):
        create_app({"DATABASE_URL": db_url, "VSW_RUNTIME": object()})


def test_secret_key_and_database_come_from_the_settings_and_cookies_are_secure_in_production(db_url: str) -> None:
    settings = Settings(database_url=db_url, secret_key="from-the-settings")
    app = create_app({"VSW_RUNTIME": object()}, settings)
    assert app.config["SECRET_KEY"] == "from-the-settings"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert str(app.extensions["vsw"].engine.url) == make_url(db_url).render_as_string(hide_password=True)
    app.extensions["vsw"].engine.dispose()


def test_the_app_refuses_to_start_with_neither_settings_nor_a_test_config() -> None:
    with pytest.raises(ConfigError, match="app.wiring:create_web_app"):
        create_app()


def test_session_timeouts_come_from_the_settings_and_the_signed_cookie_lives_no_longer_than_a_session(
    db_url: str,
) -> None:
    settings = Settings(database_url=db_url, secret_key="from-the-settings", session_idle_minutes=5,
                        session_max_hours=2)
    app = create_app({"VSW_RUNTIME": object()}, settings)
    assert (app.config["VSW_SESSION_IDLE_MINUTES"], app.config["VSW_SESSION_MAX_HOURS"]) == (5, 2)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    app.extensions["vsw"].engine.dispose()


def test_signing_in_sets_a_secure_httponly_lax_session_cookie_and_a_trusted_browser_cookie_only_for_login(
    app_config: dict[str, object], app: Flask
) -> None:
    secure = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    try:
        client = secure.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        response = login(client, "sam")
        assert response.status_code == 302
        cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
        assert {"vsw_session", "vsw_device"} <= cookies.keys()
        for name in ("vsw_session", "vsw_device"):
            assert "Secure" in cookies[name] and "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert "Expires" not in cookies["vsw_session"]  # gone when the browser closes
        assert "Path=/login" in cookies["vsw_device"] and "Max-Age=7776000" in cookies["vsw_device"]
        value = cookies["vsw_device"].split(";", 1)[0].split("=", 1)[1]
        token = URLSafeSerializer(secure.secret_key or "", salt="vsw-trusted-browser").loads(value)
        assert set(token) == {"u", "d", "t"} and "sam" not in str(token)  # the account by a hash, not its name
    finally:
        secure.extensions["vsw"].engine.dispose()
