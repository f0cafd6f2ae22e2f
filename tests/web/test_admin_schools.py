"""/admin/schools: the schools register from the GIAS download, upload -> preview -> confirm, over HTTP."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.csv_import import ImportUpload
from casework.records import School
from engine.models import AuditEvent
from tests.casework.gias_file import establishment, gias_csv
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

PAGE = "/admin/schools"
FILE = gias_csv([
    establishment("100001", "Riverside Primary School"),  # in the world as "Riverside Primary": changed
    establishment("140001", "Brookside Academy", "Academy sponsor led", group="Academies", phase="Secondary"),
    establishment("140002", "Meadow Voluntary Controlled Primary", "Voluntary controlled school"),
    establishment("140003", "Closed Infant School", status="Closed"),
    establishment("140004", "A Children's Centre", "Children's centre"),
])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> str:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return csrf_token(client.get("/").text)


def upload(client: FlaskClient, token: str, data: bytes, name: str = "edubasealldata.csv") -> TestResponse:
    return client.post(PAGE, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client: FlaskClient, token: str, page: str) -> TestResponse:
    found = re.search(r'name="upload_token" value="([^"]+)"', page)
    assert found, "the preview has no Import button"
    return client.post(PAGE, data={"csrf_token": token, "upload_token": found.group(1)})


def counted(page: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', page)
    assert found, f"no {name} count on the page"
    return int(found.group(1))


def school_count(world: World) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(School)) or 0)


def test_an_administrator_previews_then_imports_the_register_and_the_same_file_again_changes_nothing(
        client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    before = school_count(world)
    preview = upload(client, token, FILE.encode("cp1252"))
    assert preview.status_code == 200
    assert [counted(preview.text, n) for n in ("rows", "add", "change", "closed", "passed", "errors")] == [
        5, 2, 1, 1, 1, 0]
    assert school_count(world) == before  # the preview writes nothing
    done = confirm(client, token, preview.text)
    assert done.status_code == 302
    assert "2 new, 1 changed" in client.get(PAGE).text
    with world.session() as session:
        assert session.get_one(School, "140001").school_type == "academy"
        assert session.get_one(School, "100001").name == "Riverside Primary School"
        assert session.get(School, "140003") is None
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "schools.imported")).one()
        assert (audit.actor, (audit.data or {})["added"], (audit.data or {})["changed"]) == ("admin", 2, 1)
        assert session.scalar(select(func.count()).select_from(ImportUpload)) == 0
    again = upload(client, token, FILE.encode("utf-8-sig"))
    assert [counted(again.text, n) for n in ("add", "change", "unchanged")] == [0, 0, 3]
    assert 'name="upload_token"' not in again.text


def test_only_the_columns_read_wait_for_the_confirmation_not_the_file(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    data = FILE.encode()
    upload(client, token, data)
    with world.session() as session:
        kept = session.scalars(select(ImportUpload)).one()
    assert kept.kind == "schools" and len(kept.content) < len(data) / 4


def test_a_bad_file_shows_each_error_by_line_and_imports_nothing(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    bad = gias_csv([establishment("140001", "Good"), establishment("14000", "Short"),
                    establishment("140002", "Bad LA", la_code="X")])
    page = upload(client, token, bad.encode())
    assert page.status_code == 400
    assert counted(page.text, "errors") == 2
    assert re.search(r"<td class=\"govuk-table__cell\">3</td>\s*<td[^>]*><code>URN</code>", page.text)
    assert re.search(r"<td class=\"govuk-table__cell\">4</td>\s*<td[^>]*><code>LA \(code\)</code>", page.text)
    assert 'name="upload_token"' not in page.text
    assert school_count(world) == 5


def test_a_file_that_is_not_a_gias_download_is_refused_naming_the_missing_columns(client: FlaskClient) -> None:
    token = login(client, "admin")
    page = upload(client, token, b"upn,child_ref\n")
    assert page.status_code == 400
    assert "The column URN is missing from the first line" in page.text
    assert upload(client, token, b"", name="").status_code == 400


def test_an_upload_over_5_mb_is_taken_and_one_over_100_mb_is_refused(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    wide = gias_csv(establishment(f"{150000 + n}", f"School {n}") for n in range(14_000))
    assert len(wide) > 5 * 1024 * 1024
    assert upload(client, token, wide.encode()).status_code == 200
    assert upload(client, token, b"x" * (100 * 1024 * 1024 + 1)).status_code == 413


@pytest.mark.parametrize("username", ["vsh", "manager", "sw"])
def test_no_one_but_an_administrator_may_import_the_register(client: FlaskClient, username: str) -> None:
    token = login(client, username)
    assert client.get(PAGE).status_code == 403
    assert upload(client, token, FILE.encode()).status_code == 403


def test_a_confirmation_token_used_already_is_refused(client: FlaskClient) -> None:
    token = login(client, "admin")
    preview = upload(client, token, FILE.encode())
    assert confirm(client, token, preview.text).status_code == 302
    again = confirm(client, token, preview.text)
    assert again.status_code == 400 and "expired or was imported already" in again.text
