"""``vsw import staff FILE``: an authority's staff from a CSV file (docs/staff.md, "Importing staff").

One unit of work: every row is imported, or (any error) none is. New people are emailed an invitation
whose link starts with ``VSW_BASE_URL``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from app.cli_authority import CommandDecorator
from engine.db import unit_of_work

ACTOR = "cli"
ERRORS_SHOWN = 200


def register(group: click.Group, one_line_errors: CommandDecorator,
             factory: Callable[[], sessionmaker[Session]]) -> None:
    """Add ``staff`` to ``group`` (``vsw import``); ``factory`` opens the settings' database when it runs."""

    @group.command("staff")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--la", "la_code", required=True, help="The authority the staff work for, e.g. 935.")
    @click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
    @one_line_errors
    def staff(file: Path, la_code: str, dry_run: bool) -> None:
        """Add or update the authority's staff from a CSV file; new people are sent an invitation."""
        from app.cli import settings
        from casework import staff_import
        from casework.csv_import import decode
        from engine.clock import SystemClock

        text, clock, sessions = decode(file.read_bytes()), SystemClock(), factory()
        with sessions() as session:
            result = staff_import.preview(session, la_code, text)
        for error in result.errors[:ERRORS_SHOWN]:
            click.echo(f"Line {error.line}, {error.column}: {error.reason}", err=True)
        if result.error_count > ERRORS_SHOWN:
            click.echo(f"... and {result.error_count - ERRORS_SHOWN} more errors", err=True)
        summary = (f"{result.rows} rows: {len(result.add)} new, {len(result.replace)} changed, "
                   f"{result.unchanged} unchanged, {result.error_count} errors")
        if not result.ok:
            raise click.ClickException(f"{summary}. Nothing was imported: correct the file and run the command again.")
        if dry_run:
            for item in result.add + result.replace:
                click.echo(f"Line {item['line']}: {staff_import.describe(item)}")
            click.echo(f"{summary}. Dry run: nothing was written.")
            return
        with unit_of_work(sessions) as session:
            done = staff_import.apply(session, clock, la_code, text, ACTOR, settings().base_url)
        click.echo(f"Imported: {len(done.add)} added and invited, {len(done.replace)} changed, "
                   f"{done.unchanged} unchanged.")
