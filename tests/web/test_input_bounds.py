"""Bad input is a 4xx naming what is wrong, never a 500, and changes nothing (issue 11's findings, each one).

Route ids are whole numbers from 1 to 2³¹ - 1 (anything else is 404: no such page); text keys in an address
(a child's reference, a task id) hold no control character and are at most 100 characters (404 too).
A control character anywhere else (a query parameter, a form field) is a 400 naming the field. Every
refused request leaves the database as it was and adds nothing to the audit trail.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from engine.models import HumanTask
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .snapshot import audit_count, snapshot
from .support import csrf_token
from .support import login as sign_in

ROOT = Path(__file__).resolve().parents[2]
HUGE_IDS = (2**31, 2**63, 10**30)


world = case_fixtures.world
app = case_fixtures.app


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["vsw"].engine  # type: ignore[no-any-return]


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username, PASSWORD).status_code == 302
    return client


def token(client: FlaskClient, url: str = "/notifications") -> str:
    return csrf_token(client.get(url).text)


def open_task(world: World, ref: str, element_id: str) -> str:
    with world.session() as session:
        return session.scalars(select(HumanTask.id).where(
            HumanTask.business_key == ref, HumanTask.element_id == element_id,
            HumanTask.state == "open")).one()


@pytest.fixture
def proposal(app: Flask, world: World) -> tuple[FlaskClient, str]:
    """``sw`` signed in, with the first task of a placement move for C-1 (``propose_move``) open."""
    client = signed_in(app, "sw")
    started = client.post("/children/C-1/moves", data={"csrf_token": token(client, "/children")})
    assert started.status_code == 302
    return client, open_task(world, "C-1", "propose_move")


GOOD_PROPOSAL = {"reason": "carer_request", "reason_detail": "", "planned_move_date-day": "14",
                 "planned_move_date-month": "12", "planned_move_date-year": "2026",
                 "childs_wishes": "I want to stay at my school."}


def refused(engine: Engine, send: object) -> TestResponse:
    """``send()``'s response, checking it changed no row and wrote no audit."""
    before, audited = snapshot(engine), audit_count(engine)
    response = send()  # type: ignore[operator]
    assert isinstance(response, TestResponse)
    assert snapshot(engine) == before
    assert audit_count(engine) == audited
    return response


def post_task(client: FlaskClient, task_id: str, data: dict[str, str]) -> TestResponse:
    url = f"/tasks/{task_id}"
    return client.post(url, data={**data, "csrf_token": token(client, url)})


# -- numbers and dates in forms ---------------------------------------------------------------------------


@pytest.fixture
def school_age_pep(app: Flask, world: World) -> tuple[FlaskClient, str]:
    """``dt100001`` signed in, with C-1's initial PEP (school age) open."""
    return signed_in(app, "dt100001"), open_task(world, "C-1", "complete_pep_school_age")


def test_an_integer_field_given_a_superscript_digit_is_a_400_naming_the_field_and_its_range(
    school_age_pep: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = school_age_pep
    response = refused(engine, lambda: post_task(client, task_id, {"school_year_group": "²"}))
    assert response.status_code == 400
    assert "Year group must be a whole number from 0 to 13" in response.text


def test_an_integer_field_given_five_thousand_digits_is_a_400_naming_the_field(
    school_age_pep: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = school_age_pep
    response = refused(engine, lambda: post_task(client, task_id, {"exclusions_this_term": "9" * 5000}))
    assert response.status_code == 400
    assert "Exclusions this term must be a whole number from 0 to" in response.text


def test_a_number_field_given_arabic_indic_digits_is_a_400_naming_the_field(
    school_age_pep: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = school_age_pep
    response = refused(engine, lambda: post_task(client, task_id, {"attendance_percent": "٩٠"}))
    assert response.status_code == 400
    assert "Attendance this term (%) must be a number from 0 to 100" in response.text


def test_a_date_whose_year_would_overflow_is_a_400_naming_the_field(
    proposal: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = proposal
    data = {**GOOD_PROPOSAL, "planned_move_date-year": "99999999999999999999"}
    response = refused(engine, lambda: post_task(client, task_id, data))
    assert response.status_code == 400
    assert "Planned move date must have a year from 1900 to 2100" in response.text


def test_a_date_in_a_row_whose_year_would_overflow_is_a_400_naming_the_field(
    school_age_pep: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = school_age_pep
    data = {"actions-0-description": "Tutor", "actions-0-owner": "Ms Patel", "actions-0-due_date-day": "1",
            "actions-0-due_date-month": "2", "actions-0-due_date-year": "9" * 30}
    response = refused(engine, lambda: post_task(client, task_id, data))
    assert response.status_code == 400
    assert "Due by must have a year from 1900 to 2100" in response.text


@pytest.mark.parametrize("hour", ["٩", "²", "9" * 4000])
def test_a_digest_hour_that_is_not_one_or_two_ascii_digits_is_a_400_naming_the_field(
    app: Flask, engine: Engine, hour: str
) -> None:
    client = signed_in(app, "sw")
    data = {"email_mode": "daily_digest", "digest_hour": hour, "csrf_token": token(client)}
    response = refused(engine, lambda: client.post("/notifications/preferences", data=data))
    assert response.status_code == 400
    assert "The hour must be a whole number from 0 (midnight) to 23 (11pm)" in response.text


# -- ids and keys in addresses --------------------------------------------------------------------------


@pytest.mark.parametrize("number", HUGE_IDS)
def test_an_instance_id_past_the_databases_integer_range_is_a_404(
    app: Flask, engine: Engine, number: int
) -> None:
    client = signed_in(app, "vsh")
    response = refused(engine, lambda: client.get(f"/instances/{number}"))
    assert response.status_code == 404 and "Page not found" in response.text


@pytest.mark.parametrize("path", ["/instances/0", "/instances/-1", "/instances/%C2%B2", "/instances/01"])
def test_an_instance_id_that_is_not_a_whole_number_from_one_is_a_404(app: Flask, path: str) -> None:
    assert signed_in(app, "vsh").get(path).status_code == 404


@pytest.mark.parametrize("number", HUGE_IDS)
def test_marking_a_notification_read_with_an_id_past_the_integer_range_is_a_404(
    app: Flask, engine: Engine, number: int
) -> None:
    client = signed_in(app, "sw")
    sent = token(client)
    url = f"/notifications/{number}/read"
    response = refused(engine, lambda: client.post(url, data={"csrf_token": sent}))
    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["dead-letters", "incidents"])
def test_retrying_a_dead_letter_or_incident_with_an_id_of_two_to_the_sixty_third_is_a_404(
    app: Flask, engine: Engine, kind: str
) -> None:
    client = signed_in(app, "admin")
    sent = token(client, f"/admin/{kind}")
    response = refused(engine, lambda: client.post(f"/admin/{kind}/{2**63}/retry", data={"csrf_token": sent}))
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/tasks/%00", "/tasks/a%00b/claim", "/children/C-1%00",
                                  "/children/%01", "/children/" + "C" * 101])
def test_a_control_character_or_an_over_long_key_in_an_address_is_a_404(
    app: Flask, engine: Engine, path: str
) -> None:
    client = signed_in(app, "sw")
    sent = token(client)
    assert refused(engine, lambda: client.get(path)).status_code in (404, 405)
    assert refused(engine, lambda: client.post(path, data={"csrf_token": sent})).status_code in (404, 405)


# -- control characters in fields and parameters --------------------------------------------------------


def test_a_nul_byte_in_a_free_text_answer_is_a_400_naming_the_field(
    proposal: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = proposal
    data = {**GOOD_PROPOSAL, "childs_wishes": "I want\x00 to stay"}
    response = refused(engine, lambda: post_task(client, task_id, data))
    assert response.status_code == 400
    assert "wishes and feelings had a character that is not allowed" in response.text
    assert "I want to stay" in response.text and "\x00" not in response.text  # shown again, without it


def test_tabs_and_new_lines_in_a_free_text_answer_are_kept(
    proposal: tuple[FlaskClient, str], world: World
) -> None:
    client, task_id = proposal
    data = {**GOOD_PROPOSAL, "childs_wishes": "I want\tto stay.\r\nAt my school."}
    assert post_task(client, task_id, data).status_code == 302
    with world.session() as session:
        task = session.get(HumanTask, task_id)
        assert task is not None and task.state == "completed"


def test_a_nul_byte_in_the_username_of_a_sign_in_is_a_400_naming_the_field(
    app: Flask, engine: Engine
) -> None:
    client = app.test_client()
    sent = csrf_token(client.get("/login").text)
    data = {"username": "sw\x00", "password": PASSWORD, "csrf_token": sent}
    response = refused(engine, lambda: client.post("/login", data=data))
    assert response.status_code == 400
    assert "username contains a character that is not allowed" in response.text


@pytest.mark.parametrize("query", ["page=1%00", "kind=%1b", "next=/%00"])
def test_a_control_character_in_a_query_parameter_is_a_400_naming_it(app: Flask, query: str) -> None:
    client = signed_in(app, "manager")
    path = "/login" if query.startswith("next") else "/escalations"
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert f"{query.split('=')[0]} contains a character that is not allowed" in response.text


# -- sizes ------------------------------------------------------------------------------------------------


def test_a_free_text_answer_over_its_limit_is_a_400_naming_the_limit(
    proposal: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = proposal
    data = {**GOOD_PROPOSAL, "reason_detail": "x" * 5001}
    response = refused(engine, lambda: post_task(client, task_id, data))
    assert response.status_code == 400
    assert "About the reason must be 5,000 characters or fewer" in response.text


def test_a_free_text_answer_of_ten_megabytes_is_a_413_page_that_saves_nothing(
    proposal: tuple[FlaskClient, str], engine: Engine
) -> None:
    client, task_id = proposal
    data = {**GOOD_PROPOSAL, "childs_wishes": "x" * 10_000_000}
    response = refused(engine, lambda: post_task(client, task_id, data))
    assert response.status_code == 413
    assert "govuk-header" in response.text and "too large" in response.text


def test_the_page_shows_each_free_text_fields_limit_with_the_govuk_character_count(
    proposal: tuple[FlaskClient, str]
) -> None:
    client, task_id = proposal
    page = client.get(f"/tasks/{task_id}").text
    assert 'data-module="govuk-character-count" data-maxlength="10000"' in page  # the child's wishes
    assert 'id="childs_wishes-info"' in page and "You can enter up to 10,000 characters" in page
    assert 'class="govuk-textarea govuk-js-character-count"' in page


# -- methods and banners ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_an_unsupported_method_is_a_405_with_an_allow_header_before_the_csrf_check(
    app: Flask, engine: Engine, method: str
) -> None:
    client = app.test_client()
    response = refused(engine, lambda: client.open("/login", method=method))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert "expired" not in response.text


def test_a_post_to_a_page_that_does_not_exist_is_a_404_not_a_csrf_refusal(app: Flask) -> None:
    response = app.test_client().post("/no/such/page")
    assert response.status_code == 404


def test_the_app_sends_no_server_header(app: Flask) -> None:
    assert "Server" not in app.test_client().get("/login").headers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_vsw_serve_sends_no_server_version_banner(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "VSW_SECRET_KEY": "k" * 64, "VSW_INSECURE_COOKIES": "1"}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        headers = None
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/login")
                response = connection.getresponse()
                headers, status = dict(response.getheaders()), response.status
                connection.close()
                break
            except OSError:
                time.sleep(0.1)
        assert headers is not None, "vsw serve did not answer"
        assert status == 200
        assert not any(name.lower() == "server" for name in headers), headers
        assert not any("Werkzeug" in value or "Python" in value for value in headers.values())
    finally:
        server.terminate()
        server.wait(timeout=10)
