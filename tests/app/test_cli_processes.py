"""``vsw processes migrate``: the dry run's table, and the move's counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory, unit_of_work
from engine.models import AuditEvent, ProcessDefinition, ProcessInstance
from engine.runtime import Actor, Runtime
from engine.service import WorkflowService

BPMN = Path(__file__).resolve().parents[1] / "engine" / "bpmn"
SAM = Actor("sam", frozenset({"social_worker"}))
REMOVED = "waits at 'Review the case' (review), which version 2 removed"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


@pytest.fixture
def cases(cli: CliRunner, db_url: str, clock: FrozenClock) -> tuple[int, int]:
    """Version 1 of the test process with a case at 'gather' (C-1) and one at 'review' (C-3); then version 2,
    which removed 'review'."""
    assert cli.invoke(main, ["deploy", str(BPMN / "migration_v1.bpmn")]).exit_code == 0
    with unit_of_work(session_factory(make_engine(db_url))) as session:
        service = WorkflowService(session, clock, Runtime())
        at_gather = service.start("migration", "C-1", {}, SAM).id
        at_review = service.start("migration", "C-3", {}, SAM).id
        [task] = service.instance_tasks(at_review)
        service.complete(task.id, {}, SAM)
    assert cli.invoke(main, ["deploy", str(BPMN / "migration_removed.bpmn")]).exit_code == 0
    return at_gather, at_review


def versions(db_url: str) -> dict[str, int]:
    with session_factory(make_engine(db_url))() as session:
        rows = session.execute(select(ProcessInstance.business_key, ProcessDefinition.version)
                               .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id))
        return {key: version for key, version in rows}


def test_the_dry_run_prints_which_cases_can_move_and_why_and_changes_nothing(
        cli: CliRunner, db_url: str, cases: tuple[int, int]) -> None:
    at_gather, at_review = cases
    result = cli.invoke(main, ["processes", "migrate", "migration", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:5] == ["case", "key", "from", "to", "can"]
    [gather_line] = [line for line in lines if line.startswith(f"{at_gather} ")]
    [review_line] = [line for line in lines if line.startswith(f"{at_review} ")]
    assert gather_line.split()[1:5] == ["C-1", "1", "2", "yes"]
    assert review_line.split()[1:5] == ["C-3", "1", "2", "no"] and review_line.endswith(REMOVED)
    assert lines[-1] == "migration: 1 of 2 can move to version 2 (dry run: nothing was changed)."
    assert versions(db_url) == {"C-1": 1, "C-3": 1}


def test_the_move_prints_its_counts_moves_exactly_the_movable_cases_and_audits_each(
        cli: CliRunner, db_url: str, cases: tuple[int, int]) -> None:
    at_gather, at_review = cases
    result = cli.invoke(main, ["processes", "migrate", "migration"])
    assert result.exit_code == 0, result.output
    assert f"not moved: case {at_review} (C-3): {REMOVED}" in result.output
    assert result.output.splitlines()[-1] == "migration: moved to version 2: 1; cannot move: 1; conflicts: 0."
    assert versions(db_url) == {"C-1": 2, "C-3": 1}
    with session_factory(make_engine(db_url))() as session:
        audit = session.execute(select(AuditEvent.actor, AuditEvent.instance_id, AuditEvent.data)
                                .where(AuditEvent.action == "instance_migrated")).all()
    assert [tuple(a) for a in audit] == [("cli", at_gather, {"from_version": 1, "to_version": 2})]
    again = cli.invoke(main, ["processes", "migrate", "migration"])
    assert again.output.splitlines()[-1] == "migration: moved to version 2: 0; cannot move: 1; conflicts: 0."


def test_instance_picks_the_cases_to_look_at(cli: CliRunner, db_url: str, cases: tuple[int, int]) -> None:
    at_gather, at_review = cases
    dry = cli.invoke(main, ["processes", "migrate", "migration", "--dry-run", "--instance", str(at_review)])
    assert dry.exit_code == 0 and REMOVED in dry.output
    assert [line.split()[0] for line in dry.output.splitlines()[1:-1]] == [str(at_review)]
    moved = cli.invoke(main, ["processes", "migrate", "migration", "--instance", str(at_gather)])
    assert moved.exit_code == 0 and "moved to version 2: 1; cannot move: 0" in moved.output
    assert versions(db_url) == {"C-1": 2, "C-3": 1}


@pytest.mark.parametrize(("args", "message"), [
    (["processes", "migrate", "nope"], "No process 'nope' has been deployed"),
    (["processes", "migrate", "migration", "--dry-run", "--instance", "999"], "--instance: no case 999 of 'migration'"),
    (["processes", "migrate", "migration", "--instance", "abc"], "'abc' is not a valid integer"),
])
def test_a_bad_process_or_case_is_one_line_and_changes_nothing(
        cli: CliRunner, db_url: str, cases: tuple[int, int], args: list[str], message: str) -> None:
    result = cli.invoke(main, args)
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert versions(db_url) == {"C-1": 1, "C-3": 1}
