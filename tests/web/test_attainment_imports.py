"""Importing attainment over HTTP (/virtual-school/imports/attainment): preview, confirm, line-numbered
errors that change nothing, the same file twice, who may import, and the child's record showing it."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.attainment import record, record_eet
from casework.records import Child
from casework.school_data import Attainment
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token, login

world = case_fixtures.world
app = case_fixtures.app

URL = "/virtual-school/imports/attainment"
GOOD = ("child,academic_year,term,subject,kind,value,target\n"
        "P207000016049,2026/27,autumn,reading,teacher_assessment,towards,expected\n"
        "C-3,2026/27,autumn,maths,gcse_working_at,4,5\n")


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def upload(client: FlaskClient, content: str | bytes, filename: str = "autumn.csv") -> TestResponse:
    token = csrf_token(client.get(URL).text)
    data = content.encode() if isinstance(content, str) else content
    return client.post(URL, data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client: FlaskClient, preview: TestResponse) -> TestResponse:
    found = re.search(r'name="content" value="([^"]*)"', preview.text, re.S)
    assert found, "the preview offers no import"
    return client.post(f"{URL}/confirm", data={"csrf_token": csrf_token(preview.text),
                                               "content": html.unescape(found.group(1))})


def stored(world: World) -> list[tuple[str, str, str, str, str | None]]:
    with world.session() as session:
        query = (select(Child.ref, Attainment.subject, Attainment.kind, Attainment.value, Attainment.target)
                 .join(Child, Child.id == Attainment.child_id).order_by(Child.ref, Attainment.subject))
        return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def test_the_vsh_previews_a_file_then_imports_it_and_the_same_file_again_changes_nothing(
    app: Flask, world: World
) -> None:
    client = signed_in(app, "vsh")
    page = client.get(URL)
    assert page.status_code == 200 and "child,academic_year,term,subject,kind,value,target" in page.text
    preview = upload(client, GOOD)
    assert preview.status_code == 200
    assert re.search(r"New</dt><dd[^>]*>2</dd>", preview.text) and "Import 2 lines" in preview.text
    assert stored(world) == []  # a preview records nothing
    done = confirm(client, preview)
    assert done.status_code == 302 and done.headers["Location"].endswith(URL)
    assert "Attainment imported: 2 new, 0 changed, 0 already recorded" in client.get(URL).text
    expected = [("C-1", "reading", "teacher_assessment", "towards", "expected"),
                ("C-3", "maths", "gcse_working_at", "4", "5")]
    assert stored(world) == expected
    again = upload(client, GOOD)
    assert re.search(r"Already recorded</dt><dd[^>]*>2</dd>", again.text)
    confirm(client, again)
    assert "0 new, 0 changed, 2 already recorded" in client.get(URL).text
    assert stored(world) == expected


def test_a_file_with_errors_is_refused_with_each_line_and_reason_and_records_nothing(
    app: Flask, world: World
) -> None:
    client = signed_in(app, "vsh")
    bad = GOOD + "C-404,2026/27,autumn,reading,teacher_assessment,towards,\nC-2,2026/27,autum,reading,x,1,\n"
    preview = upload(client, bad)
    assert preview.status_code == 400
    assert "nothing has been recorded" in preview.text
    assert "Line 4: no child with UPN or reference ‘C-404’ is on your roll" in preview.text
    assert "Line 5: term ‘autum’ must be one of autumn, spring, summer; kind ‘x’ must be one of" in preview.text
    assert 'name="content"' not in preview.text  # nothing to confirm
    forced = client.post(f"{URL}/confirm", data={"csrf_token": csrf_token(preview.text), "content": bad})
    assert forced.status_code == 400 and "Line 4:" in forced.text
    assert stored(world) == []


@pytest.mark.parametrize(("content", "message"), [
    (b"", "Choose a CSV file to import"),
    (b"name,score\nEthan,5\n", "Line 1 must name the columns"),
    ("child\n".encode("utf-16"), "The file is not UTF-8 text"),
])
def test_no_file_or_an_unreadable_file_is_a_clear_error_on_the_upload_page(
    app: Flask, world: World, content: bytes, message: str
) -> None:
    response = upload(signed_in(app, "vsh"), content)
    assert response.status_code == 400
    assert "There is a problem" in response.text and message in response.text


def test_a_designated_teacher_imports_only_for_their_schools_children(app: Flask, world: World) -> None:
    client = signed_in(app, "dt100002")  # St Anne's: Amy (C-2) and Leo (C-3), not Ethan (C-1)
    preview = upload(client, GOOD)
    assert preview.status_code == 400
    assert "Line 2: no child with UPN or reference ‘P207000016049’ is on your roll" in preview.text
    only_leo = "child,academic_year,term,subject,kind,value,target\nC-3,2026/27,autumn,maths,gcse_working_at,4,5\n"
    assert confirm(client, upload(client, only_leo)).status_code == 302
    assert stored(world) == [("C-3", "maths", "gcse_working_at", "4", "5")]


@pytest.mark.parametrize("username", ["sw", "manager", "admissions", "admin"])
def test_other_roles_may_not_import_attainment(app: Flask, world: World, username: str) -> None:
    client = signed_in(app, username)
    assert client.get(URL).status_code == 403
    token = csrf_token(client.get("/account").text)
    refused = client.post(f"{URL}/confirm", data={"csrf_token": token, "content": GOOD})
    assert refused.status_code == 403 and "Only the virtual school head or a designated teacher" in refused.text
    assert stored(world) == []


def test_signed_out_the_import_page_asks_you_to_sign_in(app: Flask) -> None:
    response = app.test_client().get(URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_childs_record_shows_the_latest_attainment_against_target_and_eet_to_education_readers_only(
    app: Flask, world: World
) -> None:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with world.session() as session:
        ethan = session.scalars(select(Child.id).where(Child.ref == "C-1")).one()
        record(session, ethan, "2026/27", "autumn", "reading", "teacher_assessment", "towards", "expected", at=at)
        record(session, ethan, "2026/27", "autumn", "maths", "teacher_assessment", "greater_depth", "expected", at=at)
        record_eet(session, ethan, date(2026, 11, 30), "education", at=at)
    page = signed_in(app, "vsh").get("/children/C-1")
    assert page.status_code == 200
    assert "Latest assessments: autumn term 2026/27" in page.text
    assert re.search(r"Reading</td>\s*<td[^>]*>Working towards the expected standard</td>\s*<td[^>]*>Working at "
                     r"the expected standard</td>\s*<td[^>]*><strong[^>]*>Below target", page.text)
    assert "On or above target" in page.text
    assert "Education, employment or training: <strong>In education</strong>" in page.text
    hidden = signed_in(app, "admissions").get("/children/C-1")  # reads the school place, not the education
    assert hidden.status_code == 200 and "Latest assessments" not in hidden.text and 'id="attainment-heading"' not in hidden.text
