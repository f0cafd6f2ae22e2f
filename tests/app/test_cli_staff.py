"""``vsw import staff FILE``: a dry run, a refused file with its lines, an import that invites, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.cli import main
from casework.users import User
from engine.db import make_engine, session_factory
from notifications.models import OutboxMessage

GOOD = ("username,display_name,email,roles,school_urn,team\n"
        "nina,Nina Patel,nina@la.example,social_worker,,North\n"
        "mo,Mo Khan,mo@la.example,manager;social_worker,,\n")


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VSW_BASE_URL", "https://vsw.council.example")
    return CliRunner()


def outbox(db_url: str) -> list[OutboxMessage]:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(OutboxMessage)))
    finally:
        engine.dispose()


def count(db_url: str, model: type) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_a_dry_run_shows_what_would_change_and_writes_nothing(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "staff.csv"
    file.write_text(GOOD)
    result = cli.invoke(main, ["import", "staff", str(file), "--la", "935", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Line 2: nina (Nina Patel): new, invited by email to nina@la.example" in result.output
    assert "2 rows: 2 new, 0 changed, 0 unchanged, 0 errors. Dry run: nothing was written." in result.output
    assert count(db_url, User) == 0


def test_the_import_invites_every_new_person_with_a_link_on_the_base_url_and_is_idempotent(
        cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "staff.csv"
    file.write_text(GOOD)
    first = cli.invoke(main, ["import", "staff", str(file), "--la", "935"])
    assert first.exit_code == 0, first.output
    assert "Imported: 2 added and invited, 0 changed, 0 unchanged." in first.output
    mails = outbox(db_url)
    assert sorted(m.recipient_email for m in mails) == ["mo@la.example", "nina@la.example"]
    assert all(m.link.startswith("https://vsw.council.example/invitation/") for m in mails)
    again = cli.invoke(main, ["import", "staff", str(file), "--la", "935"])
    assert "Imported: 0 added and invited, 0 changed, 2 unchanged." in again.output
    assert count(db_url, OutboxMessage) == 2


def test_a_bad_file_is_refused_line_by_line_with_exit_status_1_and_nothing_imported(
        cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "staff.csv"
    file.write_text(GOOD + "zed,Zed,not-an-email,cook,,\n")
    result = cli.invoke(main, ["import", "staff", str(file), "--la", "935"])
    assert result.exit_code == 1
    assert "Line 4, email: Enter an email address in the correct format" in result.output
    assert "Line 4, roles: Unknown role: cook" in result.output
    assert "Nothing was imported" in result.output
    assert count(db_url, User) == 0
    file.write_bytes(b"username,display_name,email,roles\n\xff\xfe\n")
    assert "not UTF-8" in cli.invoke(main, ["import", "staff", str(file), "--la", "935"]).output
