"""The SSDA903 import page through HTTP, over the case world: upload both files, preview, confirm."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.csv_import import ImportUpload
from casework.records import Child, Pep
from engine.models import AuditEvent
from tests.casework.test_ssda903 import sample_episodes, sample_header
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

PAGE = "/admin/children/import"
BROKEN = sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> str:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return csrf_token(client.get("/").text)


def upload(client: FlaskClient, token: str, header: str | None = None, episodes: str | None = None) -> TestResponse:
    data: dict[str, object] = {"csrf_token": token}
    if header is not None:
        data["header"] = (io.BytesIO(header.encode()), "header.csv")
    if episodes is not None:
        data["episodes"] = (io.BytesIO(episodes.encode()), "episodes.csv")
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def confirm(client: FlaskClient, token: str, page: str, **extra: str) -> TestResponse:
    fields = dict(re.findall(r'name="(header_token|episodes_token|skip)" value="([^"]*)"', page))
    assert "header_token" in fields, "the preview has no Import button"
    return client.post(PAGE, data={"csrf_token": token, **fields, **extra})


def imported(world: World) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(Child).where(Child.ref.like("A%"))) or 0)


def uploads(world: World) -> int:
    with world.session() as session:
        return int(session.scalar(select(func.count()).select_from(ImportUpload)) or 0)


def test_the_admin_uploads_both_files_sees_the_counts_chooses_how_peps_start_and_imports(
    client: FlaskClient, world: World
) -> None:
    token = login(client, "admin")
    assert "Import children from the SSDA903 return" in client.get(PAGE).text
    preview = upload(client, token, sample_header(), sample_episodes())
    assert preview.status_code == 200
    assert 'data-count="new">4<' in preview.text and "Import 4 children" in preview.text
    assert 'value="next_termly" checked' in preview.text
    assert imported(world) == 0
    done = confirm(client, token, preview.text, pep_start="initial_now")
    assert done.status_code == 302 and done.headers["Location"].endswith(PAGE)
    assert "Imported: 4 new, 0 changed, 0 leaving, 0 unchanged" in client.get(PAGE).text
    assert imported(world) == 4 and uploads(world) == 0
    with world.session() as session:
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "ssda903.imported")).one()
        kinds = session.scalars(select(Pep.kind).join(Child, Child.id == Pep.child_id)
                                .where(Child.ref.in_(["A002", "A004"]))).all()
    assert audit.actor == "admin" and (audit.data or {})["new"] == 4 and (audit.data or {})["pep_start"] == "initial_now"
    assert kinds == ["initial", "initial"]


def test_the_same_files_again_have_nothing_to_import(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    confirm(client, token, upload(client, token, sample_header(), sample_episodes()).text, pep_start="next_termly")
    again = upload(client, token, sample_header(), sample_episodes())
    assert again.status_code == 200 and 'data-count="unchanged">4<' in again.text
    assert "there is nothing to import" in again.text and "header_token" not in again.text


def test_only_an_administrator_may_import(client: FlaskClient, world: World) -> None:
    for username in ("vsh", "sw", "manager"):
        token = login(client, username)
        assert client.get(PAGE).status_code == 403
        assert upload(client, token, sample_header(), sample_episodes()).status_code == 403
        client.post("/logout", data={"csrf_token": token})
    assert imported(world) == 0


def test_errors_are_shown_by_file_and_line_and_the_others_import_only_once_the_skip_is_ticked(
    client: FlaskClient, world: World
) -> None:
    token = login(client, "admin")
    preview = upload(client, token, sample_header(), BROKEN)
    assert preview.status_code == 200  # a choice: the files wait for it
    assert re.search(r"episodes\.csv</td>\s*<td[^>]*>7</td>\s*<td[^>]*><code>PLACE</code>", preview.text)
    assert "These children are left as they are: A004." in preview.text and "Import 3 children" in preview.text
    refused = confirm(client, token, preview.text, pep_start="next_termly")
    assert refused.status_code == 400 and 'href="#confirm_skip"' in refused.text
    assert imported(world) == 0
    done = confirm(client, token, preview.text, pep_start="next_termly", confirm_skip="yes")
    assert done.status_code == 302 and imported(world) == 3
    assert "skipped A004" in client.get(PAGE).text


def test_an_error_naming_no_child_refuses_the_files_and_keeps_nothing(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    refused = upload(client, token, sample_header(), sample_episodes() + ",01/01/2026,S,C2,N1,U4,PR1,,,,,,\n")
    assert refused.status_code == 400 and "Nothing can be imported from these files" in refused.text
    assert "header_token" not in refused.text and uploads(world) == 0


def test_a_missing_file_or_column_is_refused_naming_the_field(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    missing = upload(client, token, sample_header(), None)
    assert missing.status_code == 400 and 'href="#episodes">Choose the return&#39;s episodes file' in missing.text
    column = upload(client, token, sample_header(), sample_episodes().replace(",URN\n", "\n", 1))
    assert column.status_code == 400
    assert 'href="#episodes">episodes.csv: The column urn is missing from the first line' in column.text
    assert imported(world) == 0


def test_files_already_imported_cannot_be_confirmed_again(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    preview = upload(client, token, sample_header(), sample_episodes()).text
    assert confirm(client, token, preview, pep_start="next_termly").status_code == 302
    again = confirm(client, token, preview, pep_start="next_termly")
    assert again.status_code == 400 and "have expired or were imported already" in again.text


def test_an_unknown_pep_choice_is_refused_naming_the_field(client: FlaskClient, world: World) -> None:
    token = login(client, "admin")
    preview = upload(client, token, sample_header(), sample_episodes()).text
    refused = confirm(client, token, preview, pep_start="everything_now")
    assert refused.status_code == 400 and 'href="#pep_start"' in refused.text and imported(world) == 0
