"""``vsw import ssda903``: an operator loads the authority's children from the SSDA903 return's two files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from casework.records import Child
from engine.db import make_engine, session_factory
from engine.models import AuditEvent
from tests.casework.test_ssda903 import sample_episodes, sample_header

BROKEN = sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9")


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    runner = CliRunner()
    for command in (["authority", "add", "--la", "935", "--name", "Demo Borough"],
                    ["authority", "terms", "--la", "935", "--defaults"], ["deploy"]):
        done = runner.invoke(main, command)
        assert done.exit_code == 0, done.output
    return runner


def files(tmp_path: Path, episodes: str = sample_episodes()) -> list[str]:
    (tmp_path / "header.csv").write_text(sample_header(), encoding="utf-8")
    (tmp_path / "episodes.csv").write_text(episodes, encoding="utf-8")
    return ["import", "ssda903", "--la", "935", "--header", str(tmp_path / "header.csv"),
            "--episodes", str(tmp_path / "episodes.csv")]


def children(db_url: str) -> list[str]:
    with session_factory(make_engine(db_url))() as session:
        return list(session.scalars(select(Child.ref).order_by(Child.ref)))


def test_the_return_is_imported_and_importing_it_again_changes_nothing(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    done = cli.invoke(main, files(tmp_path))
    assert done.exit_code == 0, done.output
    assert "Imported: 4 new, 0 changed, 0 leaving, 0 unchanged; PEPs of children already in care: next_termly" \
        in done.output
    assert children(db_url) == ["A001", "A002", "A003", "A004"]
    again = cli.invoke(main, files(tmp_path))
    assert again.exit_code == 0 and "Imported: 0 new, 0 changed, 0 leaving, 4 unchanged" in again.output
    with session_factory(make_engine(db_url))() as session:
        actors = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "ssda903.imported")).all()
    assert actors == ["cli", "cli"]


def test_a_dry_run_shows_the_counts_and_writes_nothing(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    shown = cli.invoke(main, [*files(tmp_path), "--dry-run"])
    assert shown.exit_code == 0 and "4 new, 0 changed, 0 leaving, 0 unchanged" in shown.output
    assert "Dry run: nothing was written." in shown.output and children(db_url) == []


def test_a_bad_file_is_refused_naming_each_line_and_the_children_to_skip(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    refused = cli.invoke(main, files(tmp_path, BROKEN))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "episodes.csv line 7, column PLACE: 'Q9' is not an SSDA903 placement type (PLACE) code" in refused.output
    assert "Nothing was imported" in refused.output and "--skip A004" in refused.output
    assert children(db_url) == []
    skipped = cli.invoke(main, [*files(tmp_path, BROKEN), "--skip", "A004"])
    assert skipped.exit_code == 0, skipped.output
    assert children(db_url) == ["A001", "A002", "A003"]


def test_an_unreadable_file_is_one_line_naming_it(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    arguments = files(tmp_path)
    (tmp_path / "header.csv").write_bytes(b"CHILD,SEX,DOB\n\xff\xfe\n")
    refused = cli.invoke(main, arguments)
    assert refused.exit_code == 1 and "header.csv: The file is not UTF-8" in refused.output
    assert children(db_url) == []
    (tmp_path / "header.csv").write_text("CHILD,SEX,DOB\nA001,1,14/03/2016\n", encoding="utf-8")
    missing = cli.invoke(main, arguments)
    assert missing.exit_code == 1 and "header.csv: The column ethnic is missing" in missing.output


def test_the_pep_choice_is_one_of_those_documented(cli: CliRunner, tmp_path: Path) -> None:
    refused = cli.invoke(main, [*files(tmp_path), "--pep-start", "everything"])
    assert refused.exit_code == 2 and "next_termly" in refused.output and "initial_now" in refused.output
