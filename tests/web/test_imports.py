"""The attendance and suspension imports and the suspension form, through HTTP, over the case world."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.csv_import import ImportUpload
from casework.records import PermanentExclusion
from casework.school_data import AttendanceRecord, Suspension
from engine.models import AuditEvent
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

ATTENDANCE = "/virtual-school/imports/attendance"
SUSPENSIONS = "/virtual-school/imports/suspensions"
HEADER = ("upn,child_ref,period_start,period_end,possible_sessions,attended_sessions,authorised_absence,"
          "unauthorised_absence\n")
GOOD = HEADER + ("P207000016049,,2026-11-02,2026-11-06,10,9,1,0\n,C-2,2026-11-02,2026-11-06,10,10,0,0\n"
                 ",C-3,2026-11-02,2026-11-06,10,4,0,6\n")
BAD = GOOD + ",C-404,2026-11-02,2026-11-06,10,10,0,0\n,C-2,2026-11-09,2026-11-13,10,9,0,0\n"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> str:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return csrf_token(client.get("/").text)


def upload(client: FlaskClient, token: str, text: str | bytes, url: str = ATTENDANCE,
           name: str = "attendance.csv") -> TestResponse:
    data = text.encode() if isinstance(text, str) else text
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client: FlaskClient, token: str, page: str, url: str = ATTENDANCE) -> TestResponse:
    found = re.search(r'name="upload_token" value="([^"]+)"', page)
    assert found, "the preview has no Import button"
    return client.post(url, data={"csrf_token": token, "upload_token": found.group(1)})


def count(world: World, model: type) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_vsh_uploads_sees_the_preview_and_imports_with_a_flash_of_the_counts(
    client: FlaskClient, world: World
) -> None:
    token = login(client, "vsh")
    assert client.get(ATTENDANCE).status_code == 200
    preview = upload(client, token, GOOD)
    assert preview.status_code == 200
    assert 'data-count="add">3<' in preview.text and "Import 3 rows" in preview.text
    assert count(world, AttendanceRecord) == 0
    done = confirm(client, token, preview.text)
    assert done.status_code == 302 and done.headers["Location"].endswith(ATTENDANCE)
    assert "Imported: 3 added, 0 replaced, 0 unchanged" in client.get(ATTENDANCE).text
    assert count(world, AttendanceRecord) == 3 and count(world, ImportUpload) == 0
    with world.session() as session:
        assert session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "attendance.imported")).all() == [
            "vsh"]
    again = upload(client, token, GOOD)
    assert 'data-count="unchanged">3<' in again.text and "nothing to import" in again.text
    assert 'name="upload_token"' not in again.text


def test_a_file_with_errors_shows_them_by_line_and_offers_no_import(client: FlaskClient, world: World) -> None:
    token = login(client, "manager")
    preview = upload(client, token, BAD)
    assert preview.status_code == 400
    assert 'data-count="errors">2<' in preview.text
    assert re.search(r"<td[^>]*>5</td>\s*<td[^>]*><code>child_ref</code></td>\s*<td[^>]*>No child of this authority",
                     preview.text)
    assert re.search(r"<td[^>]*>6</td>\s*<td[^>]*><code>possible_sessions</code>", preview.text)
    assert 'name="upload_token"' not in preview.text
    assert count(world, ImportUpload) == 0 and count(world, AttendanceRecord) == 0


def test_a_token_is_good_once_and_only_for_the_user_who_uploaded_it(client: FlaskClient, app: Flask) -> None:
    token = login(client, "vsh")
    preview = upload(client, token, GOOD)
    other = app.test_client()
    other_token = login(other, "admin")
    assert confirm(other, other_token, preview.text).status_code == 400
    assert confirm(client, token, preview.text).status_code == 302
    assert "expired or was imported already" in confirm(client, token, preview.text).text


@pytest.mark.parametrize("username", ["sw", "dt100001", "no", "dcs", "admissions", "send"])
def test_only_the_vsh_a_manager_or_an_administrator_may_import(client: FlaskClient, username: str) -> None:
    token = login(client, username)
    assert client.get(ATTENDANCE).status_code == 403
    assert client.get(SUSPENSIONS).status_code == 403
    assert upload(client, token, GOOD).status_code == 403


def test_a_file_over_5_mb_is_413_and_one_not_in_utf8_is_400_naming_the_problem(client: FlaskClient) -> None:
    token = login(client, "vsh")
    big = upload(client, token, HEADER + "x" * (5 * 1024 * 1024))
    assert big.status_code == 413
    huge = upload(client, token, b"x" * (6 * 1024 * 1024))
    assert huge.status_code == 413
    rows = upload(client, token, HEADER + ",C-2,1,1,1,1,0,0\n" * 200_001)
    assert rows.status_code == 413 and "more than 200,000 rows" in rows.text
    latin = upload(client, token, (HEADER + ",C-2,2026-11-02,2026-11-06,10,10,0,0\n# caf\u00e9\n").encode("cp1252"))
    assert latin.status_code == 400 and "not UTF-8 text" in latin.text
    missing = upload(client, token, "upn,period_start\n")
    assert missing.status_code == 400 and "The column period_end is missing" in missing.text
    none = client.post(ATTENDANCE, data={"csrf_token": token}, content_type="multipart/form-data")
    assert none.status_code == 400 and "Choose a CSV file" in none.text
    forged = client.post(ATTENDANCE, data={"file": (io.BytesIO(GOOD.encode()), "a.csv")},
                         content_type="multipart/form-data")
    assert forged.status_code == 400


def test_a_suspension_file_imports_and_a_permanent_exclusion_is_recorded_for_directions(
    client: FlaskClient, world: World
) -> None:
    token = login(client, "vsh")
    text = ("child_ref,kind,school_urn,start_date,days,reason\nC-2,suspension,100002,2026-10-05,1.5,PD\n"
            "C-3,permanent_exclusion,100002,2026-11-20,,PP\n")
    preview = upload(client, token, text, SUSPENSIONS, "s.csv")
    assert preview.status_code == 200 and "Import 2 rows" in preview.text
    assert confirm(client, token, preview.text, SUSPENSIONS).status_code == 302
    assert "Imported: 2 added, 0 replaced, 0 unchanged" in client.get(SUSPENSIONS).text
    assert count(world, Suspension) == 2 and count(world, PermanentExclusion) == 1


def test_the_childs_record_shows_attendance_and_exclusions_to_readers_of_education(
    client: FlaskClient, app: Flask
) -> None:
    token = login(client, "vsh")
    confirm(client, token, upload(client, token, GOOD).text)
    page = client.get("/children/C-3")
    assert "Attendance and exclusions" in page.text
    assert "40.0% (4 of 10 sessions)" in page.text and "Severely absent" in page.text
    assert "Record a suspension or exclusion" in page.text
    admissions = app.test_client()
    login(admissions, "admissions")
    assert "Attendance and exclusions" not in admissions.get("/children/C-3").text


def test_a_designated_teacher_records_a_suspension_and_sees_it_on_the_record(client: FlaskClient, world: World) -> None:
    token = login(client, "dt100001")
    form_page = client.get("/children/C-1/suspensions/new")
    assert form_page.status_code == 200
    assert 'data-autocomplete="schools" data-autocomplete-url="/search/schools"' in form_page.text  # choose, don't type
    form = {"csrf_token": token, "kind": "suspension", "school_urn": "100001", "starts_on-day": "3",
            "starts_on-month": "11", "starts_on-year": "2026", "days": "2.5", "reason": "PD"}
    answer = client.post("/children/C-1/suspensions/new", data=form)
    assert answer.status_code == 302
    page = client.get("/children/C-1").text
    assert "Suspension recorded for Ethan Walsh" in page and "Persistent disruptive behaviour" in page
    assert 'data-suspensions="days">2.5 days' in page
    refused = client.post("/children/C-1/suspensions/new", data={**form, "days": "43", "starts_on-day": "4"})
    assert refused.status_code == 400 and "at most 45 school days" in refused.text
    wrong = client.post("/children/C-1/suspensions/new", data={**form, "starts_on-month": "13", "reason": ""})
    assert wrong.status_code == 400 and "must be a real date" in wrong.text
    assert count(world, Suspension) == 1


def test_the_suspension_form_is_404_for_a_child_not_seen_and_403_for_a_role_that_may_not_record(
    client: FlaskClient, app: Flask
) -> None:
    login(client, "dt100002")
    assert client.get("/children/C-1/suspensions/new").status_code == 404
    manager = app.test_client()
    token = login(manager, "manager")
    assert manager.get("/children/C-1/suspensions/new").status_code == 403
    assert manager.post("/children/C-1/suspensions/new", data={"csrf_token": token}).status_code == 403
