from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from engine.db import make_engine
from engine.errors import Unavailable
from notifications.errors import NotificationError
from tests.conftest import on_postgres
from web import create_app
from web.context import db
from web.errors import CONCURRENT_CHANGE, SERVER_ERROR

from .support import GOOD_MOVE, csrf_token, login

JSON = {"Accept": "application/json"}


def test_unknown_page_is_a_govuk_404_page(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "govuk-header" in response.text


def test_wrong_method_is_a_405_page_with_an_allow_header(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "govuk-heading-l" in response.text


def test_unexpected_error_is_a_500_page_without_a_traceback(app_config: dict[str, object]) -> None:
    app = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    app.extensions["vsw"].engine.dispose()


def test_invalid_data_is_json_with_per_field_errors_when_json_is_asked_for(
    client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    token = csrf_token(client.get(url).text)
    response = client.post(
        url, data={**GOOD_MOVE, "reason": "", "csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] and list(response.json["errors"]) == ["reason"]


def test_govuk_frontend_assets_are_served_for_the_compiled_css(app: Flask, client: FlaskClient) -> None:
    css = client.get("/static/govuk/govuk-frontend.min.css")
    assert css.status_code == 200 and "govuk-header" in css.text
    font = client.get("/assets/fonts/bold-b542beb274-v2.woff2")
    assert font.status_code == 200 and font.mimetype == "font/woff2"
    script = client.get("/static/js/app.js")
    assert script.status_code == 200 and "javascript" in (script.mimetype or "")
    for response in (css, font, script):
        response.close()


@pytest.fixture
def scratch(db_url: str) -> Iterator[Engine]:
    """Two tables of the test's own, in the test's database: ``scratch_child.parent_id`` is a foreign key
    checked only when the transaction commits (DEFERRABLE INITIALLY DEFERRED, on SQLite and PostgreSQL)."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch_parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE scratch_child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
                          "REFERENCES scratch_parent (id) DEFERRABLE INITIALLY DEFERRED)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE scratch_child"))
        conn.execute(text("DROP TABLE scratch_parent"))
    engine.dispose()


@pytest.fixture
def scratch_app(app_config: dict[str, object], scratch: Engine) -> Iterator[Flask]:
    """The web app plus routes that write the scratch tables and answer 200, so the request's commit runs."""
    app = create_app(app_config)

    @app.post("/scratch/orphan")
    def orphan() -> str:  # a child whose parent does not exist: refused only at commit
        db().execute(text("INSERT INTO scratch_child (id, parent_id) VALUES (1, 42)"))
        return "recorded"

    @app.post("/scratch/family")
    def family() -> str:
        db().execute(text("INSERT INTO scratch_parent (id) VALUES (42)"))
        db().execute(text("INSERT INTO scratch_child (id, parent_id) VALUES (1, 42)"))
        return "recorded"

    @app.post("/scratch/cut-off")
    def cut_off() -> str:  # PostgreSQL: the request's own server process is terminated before it commits
        db().execute(text("INSERT INTO scratch_parent (id) VALUES (7)"))
        pid = db().scalar(text("SELECT pg_backend_pid()"))
        with scratch.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "recorded"

    @app.post("/scratch/write-skew")
    def write_skew() -> str:  # PostgreSQL: two serializable transactions that cannot both commit
        db().connection(execution_options={"isolation_level": "SERIALIZABLE"})
        db().scalar(text("SELECT count(*) FROM scratch_parent WHERE id = 2"))
        db().execute(text("INSERT INTO scratch_parent (id) VALUES (1)"))
        with scratch.connect().execution_options(isolation_level="SERIALIZABLE") as other:
            other.scalar(text("SELECT count(*) FROM scratch_parent WHERE id = 1"))
            other.execute(text("INSERT INTO scratch_parent (id) VALUES (2)"))
            other.commit()  # the other transaction commits first; this request's commit must then fail
        return "recorded"

    @app.get("/scratch/broken-notification")
    def broken_notification() -> str:
        raise NotificationError("Notification 'pep_overdue' needs child_name in its context")

    @app.get("/scratch/mail-server-gone")
    def mail_server_gone() -> str:
        raise Unavailable("SMTP relay smtp.internal.example:25 refused the connection")

    yield app
    app.extensions["vsw"].engine.dispose()


def rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def test_a_commit_refused_by_a_constraint_checked_at_commit_is_a_409_that_saves_nothing(
    scratch_app: Flask, scratch: Engine
) -> None:
    client = scratch_app.test_client()
    response = client.post("/scratch/orphan", data={"csrf_token": csrf_token(client.get("/login").text)})
    assert response.status_code == 409
    assert "Someone else got there first" in response.text and CONCURRENT_CHANGE in response.text
    assert "FOREIGN KEY" not in response.text.upper() and "Traceback" not in response.text
    # the error page went through the other response hooks too
    assert response.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in response.headers
    as_json = client.post("/scratch/orphan", data={"csrf_token": csrf_token(client.get("/login").text)},
                          headers=JSON)
    assert (as_json.status_code, as_json.json) == (409, {"error": CONCURRENT_CHANGE})
    assert rows(scratch, "scratch_child") == 0
    # the same writes with the parent first commit: it was the commit-time check that refused them
    fine = client.post("/scratch/family", data={"csrf_token": csrf_token(client.get("/login").text)})
    assert (fine.status_code, fine.text) == (200, "recorded")
    assert rows(scratch, "scratch_child") == 1


def test_a_failed_commit_on_sign_in_leaves_the_browser_signed_out(
    app_config: dict[str, object], scratch: Engine
) -> None:
    """The sign-in's session cookie is not sent when its commit fails: nothing of the request took effect."""
    app = create_app(app_config)

    @app.post("/scratch/sign-in-and-orphan")
    def sign_in_and_orphan() -> str:
        from flask import session

        session["user_id"] = 1
        db().execute(text("INSERT INTO scratch_child (id, parent_id) VALUES (1, 42)"))
        return "signed in"

    client = app.test_client()
    response = client.post("/scratch/sign-in-and-orphan",
                           data={"csrf_token": csrf_token(client.get("/login").text)})
    assert response.status_code == 409
    assert not any("vsw_session" in cookie for cookie in response.headers.getlist("Set-Cookie"))
    app.extensions["vsw"].engine.dispose()


@pytest.mark.postgres_only
def test_a_serialization_failure_at_commit_is_a_409_that_saves_nothing(
    scratch_app: Flask, scratch: Engine
) -> None:
    assert on_postgres(), "run with VSW_TEST_DATABASE_URL pointing at PostgreSQL"
    client = scratch_app.test_client()
    response = client.post("/scratch/write-skew", data={"csrf_token": csrf_token(client.get("/login").text)},
                           headers=JSON)
    assert (response.status_code, response.json) == (409, {"error": CONCURRENT_CHANGE})
    with scratch.connect() as conn:  # only the other transaction's row
        assert list(conn.scalars(text("SELECT id FROM scratch_parent"))) == [2]


@pytest.mark.postgres_only
def test_a_commit_whose_database_connection_is_lost_is_a_503_logged_with_its_reason(
    scratch_app: Flask, scratch: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert on_postgres(), "run with VSW_TEST_DATABASE_URL pointing at PostgreSQL"
    client = scratch_app.test_client()
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        response = client.post("/scratch/cut-off", data={"csrf_token": csrf_token(client.get("/login").text)})
    assert response.status_code == 503
    assert "Sorry, the service is unavailable" in response.text and SERVER_ERROR in response.text
    assert "terminat" not in response.text and "connection" not in response.text
    [record] = [r for r in caplog.records if r.name == "web.errors"]
    assert "Unavailable (503) on POST /scratch/cut-off: The database cannot be reached" in record.getMessage()
    assert rows(scratch, "scratch_parent") == 0
    again = client.post("/scratch/family", data={"csrf_token": csrf_token(client.get("/login").text)})
    assert again.status_code == 200  # the pool let the dead connection go


def test_signing_in_while_the_database_cannot_be_reached_is_a_503_with_a_generic_message_and_a_log_line(
    app_config: dict[str, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = ("postgresql://postgres@127.0.0.1:1/nowhere" if on_postgres()
               else f"sqlite:///{tmp_path}/no/such/directory/vsw.db")
    app = create_app({**app_config, "DATABASE_URL": nowhere})
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        page = client.post("/login", data={"username": "sam", "password": "x" * 12, "csrf_token": token})
        as_json = client.post("/login", data={"username": "sam", "password": "x" * 12, "csrf_token": token},
                              headers=JSON)
    assert page.status_code == 503 and "Sorry, the service is unavailable" in page.text
    assert "nowhere" not in page.text and "directory" not in page.text
    assert (as_json.status_code, as_json.json) == (503, {"error": SERVER_ERROR})
    logged = [r.getMessage() for r in caplog.records if r.name == "web.errors"]
    assert len(logged) == 2 and all("POST /login: The database cannot be reached" in m for m in logged)
    app.extensions["vsw"].engine.dispose()


@pytest.mark.parametrize(("url", "status", "detail"), [
    ("/scratch/broken-notification", 500, "Notification 'pep_overdue' needs child_name in its context"),
    ("/scratch/mail-server-gone", 503, "SMTP relay smtp.internal.example:25 refused the connection"),
])
def test_a_server_side_engine_error_is_logged_with_its_message_which_never_reaches_the_page_or_json(
    scratch_app: Flask, caplog: pytest.LogCaptureFixture, url: str, status: int, detail: str
) -> None:
    client = scratch_app.test_client()
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        page = client.get(url)
        as_json = client.get(url, headers=JSON)
    assert page.status_code == status and SERVER_ERROR in page.text
    assert "pep_overdue" not in page.text and "smtp" not in page.text.lower()
    assert (as_json.status_code, as_json.json) == (status, {"error": SERVER_ERROR})
    logged = [r for r in caplog.records if r.name == "web.errors"]
    assert len(logged) == 2 and all(r.levelno == logging.ERROR and detail in r.getMessage() for r in logged)
