"""``vsw authority``: an operator sets the authority's rules and loads its term dates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from casework.attendance_summary import AttendanceSummary
from casework.rules import rules_for
from casework.school_data import AttendanceRecord
from casework.terms import term_on
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory, unit_of_work
from tests.casework.records_support import add_child


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


def test_rules_are_shown_with_their_defaults_and_changed_by_name(cli: CliRunner, db_url: str) -> None:
    assert cli.invoke(main, ["authority", "add", "--la", "935", "--name", "Demo Borough"]).exit_code == 0
    shown = cli.invoke(main, ["authority", "rules", "--la", "935"])
    assert json.loads(shown.output)["school_place_limit_school_days"] == 20
    changed = cli.invoke(main, ["authority", "rules", "--la", "935", "school_place_limit_school_days=10",
                                "ks4_move_approver_role=vsh"])
    assert changed.exit_code == 0, changed.output
    with session_factory(make_engine(db_url))() as session:
        rules = rules_for(session, "935")
    assert (rules.school_place_limit_school_days, rules.ks4_move_approver_role) == (10, "vsh")


def test_a_bad_rule_is_one_line_naming_it_and_changes_nothing(cli: CliRunner, db_url: str) -> None:
    cli.invoke(main, ["authority", "add", "--la", "935", "--name", "Demo Borough"])
    bad = cli.invoke(main, ["authority", "rules", "--la", "935", "school_place_limit_school_days=10",
                            "ks4_move_approver_role=wizard"])
    assert bad.exit_code == 1 and "ks4_move_approver_role" in bad.output and "Traceback" not in bad.output
    with session_factory(make_engine(db_url))() as session:
        assert rules_for(session, "935").school_place_limit_school_days == 20


def test_term_dates_load_from_a_csv_file_and_a_bad_line_is_named(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "terms.csv"
    good.write_text("kind,academic_year,term,starts_on,ends_on\n"
                    "term,2026/27,autumn,2026-09-02,2026-12-18\n"
                    "half_term,2026/27,autumn,2026-10-26,2026-10-30\n"
                    "inset,2026/27,autumn,2026-09-02,2026-09-02\n", encoding="utf-8")
    loaded = cli.invoke(main, ["authority", "terms", "--la", "935", str(good)])
    assert loaded.exit_code == 0, loaded.output
    with session_factory(make_engine(db_url))() as session:
        term = term_on(session, "935", date(2026, 11, 2))
    assert term is not None and term.starts_on.isoformat() == "2026-09-02"
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,academic_year,term,starts_on,ends_on\nterm,2026/27,autumn,2026-12-18,2026-09-02\n",
                   encoding="utf-8")
    refused = cli.invoke(main, ["authority", "terms", "--la", "935", str(bad)])
    assert refused.exit_code == 1 and "line 2" in refused.output


def test_refresh_attendance_sums_records_held_before_the_summary_existed(
    cli: CliRunner, db_url: str, clock: FrozenClock
) -> None:
    factory = session_factory(make_engine(db_url))
    with unit_of_work(factory) as session:
        child = add_child(session, clock, ref="C-1")
        session.add(AttendanceRecord(child_id=child.id, period_start=date(2026, 11, 2), period_end=date(2026, 11, 6),
                                     possible_sessions=10, attended_sessions=9, recorded_at=clock.now()))
    refreshed = cli.invoke(main, ["authority", "refresh-attendance", "--la", "935"])
    assert refreshed.exit_code == 0 and "1 rows" in refreshed.output, refreshed.output
    with factory() as session:
        [row] = session.scalars(select(AttendanceSummary))
    assert (row.year_start, row.term_starts_on, row.possible_sessions, row.attended_sessions) == (
        2026, date(2026, 9, 3), 10, 9)
