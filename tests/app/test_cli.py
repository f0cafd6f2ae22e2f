"""The operator's CLI: one transaction per command, one clear line per error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.cli import main
from casework.users import User
from engine.db import make_engine, session_factory
from engine.models import HumanTask, ProcessDefinition

BROKEN = Path(__file__).resolve().parents[1] / "engine" / "bpmn" / "review.bpmn"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def count(db_url: str, model: type) -> int:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_schema_in_an_empty_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output
    assert count(url, ProcessDefinition) == 0


def test_deploy_without_a_path_deploys_the_shipped_processes(cli: CliRunner, db_url: str) -> None:
    result = cli.invoke(main, ["deploy"])
    assert result.exit_code == 0, result.output
    assert "placement_move: version 1" in result.output
    again = cli.invoke(main, ["deploy"])
    assert "placement_move: version 1" in again.output  # unchanged content, same version


def test_deploying_a_broken_file_prints_one_line_naming_it_and_stores_nothing(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text(BROKEN.read_text().replace("drafted_at = now()", "import os"))
    result = cli.invoke(main, ["deploy", str(broken)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: broken.bpmn: element 'stamp': script: Script refused")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert count(db_url, ProcessDefinition) == 0


def test_user_add_reports_every_bad_field_in_one_line_and_adds_no_one(cli: CliRunner, db_url: str) -> None:
    result = cli.invoke(main, ["user", "add", "--username", "kim", "--name", "Kim", "--email", "kim@council.example",
                               "--role", "wizard", "--la", "935", "--password", "short"])
    assert result.exit_code == 1
    assert "password:" in result.output and "roles: Unknown role: wizard" in result.output
    assert count(db_url, User) == 0


def test_user_add_creates_a_user_who_can_then_be_found(cli: CliRunner, db_url: str) -> None:
    result = cli.invoke(main, ["user", "add", "--username", "kim", "--name", "Kim Lee", "--email", "kim@council.example",
                               "--role", "vsh", "--role", "manager", "--la", "935", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Added kim (manager,vsh)."
    assert count(db_url, User) == 1


def test_a_database_that_cannot_be_reached_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    result = CliRunner().invoke(main, ["deploy"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: Database error (postgresql+psycopg://postgres@127.0.0.1:1/nowhere)")
    assert "Traceback" not in result.output


def test_a_bad_setting_is_one_line_naming_the_variable_and_help_still_works(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VSW_SMTP_HOST", "smtp.la.example")
    monkeypatch.setenv("VSW_SMTP_PORT", "abc")
    result = cli.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: The settings are not valid: VSW_SMTP_PORT: give a whole number, not 'abc'"]
    assert cli.invoke(main, ["db", "--help"]).exit_code == 0


def test_the_cli_uses_the_database_the_settings_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/named.db"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.output.strip() == f"Database at {url} is up to date."
    assert (tmp_path / "named.db").exists()


def test_demo_loads_staff_and_placement_moves_once(cli: CliRunner, db_url: str) -> None:
    first = cli.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "13 staff, 7 new children, 7 new PEPs, 3 new placement moves" in first.output
    second = cli.invoke(main, ["demo", "--no-serve"])
    assert "0 new children, 0 new PEPs, 0 new placement moves; escalations open: 1." in second.output
    assert count(db_url, User) == 13
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            open_tasks = session.scalars(select(HumanTask.element_id).where(
                HumanTask.state == "open", HumanTask.process_id == "placement_move")).all()
    finally:
        engine.dispose()
    # two moves wait for a proposal; one was proposed, so both of its branches are open
    assert sorted(open_tasks) == ["confirm_care_placement", "discuss_school_choice", "propose_move", "propose_move"]



def test_the_demo_records_every_childs_care_placement_and_escalates_the_overdue_initial_pep(
    cli: CliRunner, db_url: str
) -> None:
    from casework.escalations import Escalation
    from casework.records import Child

    result = cli.invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "escalations open: 1." in result.output  # the initial PEP's deadline passed before today
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            children = session.scalars(select(Child)).all()
            assert len(children) == 7 and all(c.current_placement_id is not None for c in children)
            [escalation] = session.scalars(select(Escalation)).all()
            assert (escalation.kind, escalation.child_ref, escalation.state) == ("overdue_pep", "C-1007", "open")
            manager_tasks = session.scalars(select(HumanTask.business_key).where(
                HumanTask.state == "open", HumanTask.role == "manager")).all()
            assert manager_tasks == ["C-1007"]
    finally:
        engine.dispose()
