from __future__ import annotations

import pytest
from flask.testing import FlaskClient
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
