"""``vsw authority …``: an authority's own data — its rules and its school term dates.

Each command is one unit of work: all of it is saved, or (on any error) none of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from engine.db import unit_of_work

F = TypeVar("F", bound=Callable[..., Any])


class CommandDecorator(Protocol):
    def __call__(self, command: F, /) -> F: ...


def register(main: click.Group, one_line_errors: CommandDecorator,
             factory: Callable[[], sessionmaker[Session]]) -> None:
    """Add ``vsw authority`` to ``main``; ``factory`` opens the settings' database when a command runs."""
    @main.group()
    def authority() -> None:
        """An authority's rules and term dates (configurable data)."""

    @authority.command("add")
    @click.option("--la", "la_code", required=True, help="Three-digit LA number, e.g. 935.")
    @click.option("--name", required=True, help="The council's name.")
    @one_line_errors
    def add(la_code: str, name: str) -> None:
        """Record an authority (with the default rules)."""
        from casework.rules import ensure_authority

        with unit_of_work(factory()) as session:
            ensure_authority(session, la_code, name)
        click.echo(f"Authority {la_code} recorded.")

    @authority.command("rules")
    @click.option("--la", "la_code", required=True)
    @click.argument("changes", nargs=-1)
    @one_line_errors
    def rules(la_code: str, changes: tuple[str, ...]) -> None:
        """Show the rules, or change some: ``vsw authority rules --la 935 school_place_limit_school_days=10``."""
        from casework.rules import as_dict, rules_for, set_rules

        parsed: dict[str, object] = {}
        for change in changes:
            key, sep, value = change.partition("=")
            if not sep or not key:
                raise click.ClickException(f"'{change}': write each change as name=value")
            parsed[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else value.strip()
        with unit_of_work(factory()) as session:
            current = set_rules(session, la_code, parsed) if parsed else rules_for(session, la_code)
        click.echo(json.dumps(as_dict(current), indent=2, sort_keys=True))

    @authority.command("terms")
    @click.option("--la", "la_code", required=True)
    @click.option("--defaults", is_flag=True, help="Load the default English pattern (2025/26 to 2027/28).")
    @click.argument("csv_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @one_line_errors
    def terms(la_code: str, defaults: bool, csv_file: Path | None) -> None:
        """Replace the authority's term dates from a CSV file (see docs/configuration.md)."""
        from casework.terms import import_term_dates_csv, load_default_term_dates

        if defaults == (csv_file is not None):
            raise click.ClickException("give either a CSV file or --defaults")
        with unit_of_work(factory()) as session:
            if csv_file is not None:
                rows = import_term_dates_csv(session, la_code, csv_file.read_text(encoding="utf-8"))
            else:
                rows = load_default_term_dates(session, la_code)
        click.echo(f"Term dates for {la_code}: {rows} rows. The running web and scheduler processes use them "
                   "within 5 seconds; no restart is needed.")


    @authority.command("refresh-attendance")
    @click.option("--la", "la_code", required=True)
    @one_line_errors
    def refresh_attendance(la_code: str) -> None:
        """Sum the authority's attendance records per term again (after upgrading to 0015; see docs/cohort.md)."""
        from casework.attendance_summary import refresh

        with unit_of_work(factory()) as session:
            rows = refresh(session, la_code)
        click.echo(f"Attendance of {la_code} summed per term: {rows} rows.")
