"""``vsw import schools FILE``: an operator loads the schools register from the GIAS download."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.cli import main
from casework.records import School
from engine.db import make_engine, session_factory
from engine.models import AuditEvent
from tests.casework.gias_file import establishment, gias_csv

FILE = [establishment("100001", "Riverside Primary School"),
        establishment("100002", "Hillcrest Academy", "Academy converter", group="Academies"),
        establishment("100003", "Sampleton University", "Higher education institutions")]


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def school_count(db_url: str) -> int:
    with session_factory(make_engine(db_url))() as session:
        return int(session.scalar(select(func.count()).select_from(School)) or 0)


def test_a_gias_file_is_imported_then_importing_it_again_changes_nothing(
        cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "edubasealldata20261201.csv"
    path.write_bytes(gias_csv(FILE).encode("cp1252"))
    first = cli.invoke(main, ["import", "schools", str(path)])
    assert first.exit_code == 0, first.output
    assert "Imported edubasealldata20261201.csv: 2 new, 0 changed, 0 unchanged, 1 not schools" in first.output
    assert "passed over (not a school): Higher education institutions: 1" in first.output
    again = cli.invoke(main, ["import", "schools", str(path)])
    assert "0 new, 0 changed, 2 unchanged" in again.output
    with session_factory(make_engine(db_url))() as session:
        audits = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "schools.imported")).all()
    assert audits == ["cli", "cli"]
    assert school_count(db_url) == 2


def test_a_dry_run_shows_the_counts_and_writes_nothing(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "gias.csv"
    path.write_text(gias_csv(FILE), encoding="utf-8-sig")
    shown = cli.invoke(main, ["import", "schools", "--dry-run", str(path)])
    assert shown.exit_code == 0 and "Would import gias.csv: 2 new" in shown.output
    assert school_count(db_url) == 0


def test_a_bad_file_names_each_line_exits_1_and_changes_nothing(
        cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "gias.csv"
    path.write_text(gias_csv([*FILE, establishment("10000", "Short URN"),
                              establishment("100009", "Open?", status="Perhaps")]))
    bad = cli.invoke(main, ["import", "schools", str(path)])
    assert bad.exit_code == 1
    assert "line 5, URN: 10000 is not a URN (six digits)" in bad.output
    assert "line 6, EstablishmentStatus (name): Perhaps is not an establishment status" in bad.output
    assert "gias.csv: 2 errors; nothing was imported" in bad.output and "Traceback" not in bad.output
    assert school_count(db_url) == 0


def test_a_file_that_is_not_a_gias_download_is_one_line_naming_the_missing_column(
        cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("URN,EstablishmentName\n100001,Somewhere\n")
    bad = cli.invoke(main, ["import", "schools", str(path)])
    assert bad.exit_code == 1 and "The column LA (code) is missing from the first line" in bad.output
