"""``vsw import schools FILE``: the schools register from the GIAS establishment download.

One unit of work: the whole file is imported, or (on any error) nothing. ``--dry-run`` shows the preview
only. docs/import-schools.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy.orm import Session, sessionmaker

from app.cli_authority import CommandDecorator
from engine.db import unit_of_work

ERRORS_SHOWN = 50


def register(group: click.Group, one_line_errors: CommandDecorator,
             factory: Callable[[], sessionmaker[Session]]) -> None:
    """Add ``schools`` to the ``vsw import`` group."""

    @group.command("schools")
    @click.argument("gias_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
    @click.option("--actor", default="cli", show_default=True, help="Who the audit trail names.")
    @one_line_errors
    def schools(gias_file: Path, dry_run: bool, actor: str) -> None:
        """Load or update the schools register from a GIAS establishment download (CSV)."""
        from casework import gias
        from engine.clock import SystemClock

        if gias_file.stat().st_size > gias.MAX_BYTES:
            raise click.ClickException(f"{gias_file}: the file is larger than {gias.MAX_BYTES // 2**20} MB")
        rows = list(gias.read(gias.decode(gias_file.read_bytes())))
        with unit_of_work(factory()) as session:
            result = gias.preview(session, rows)
            if result.ok and not dry_run:
                gias.write(session, SystemClock(), result, actor, gias_file.name)
        if not result.ok:
            for error in result.errors[:ERRORS_SHOWN]:
                click.echo(f"line {error.line}, {error.column}: {error.reason}", err=True)
            more = result.error_count - min(result.error_count, ERRORS_SHOWN)
            raise click.ClickException(f"{gias_file.name}: {result.error_count} errors"
                                       f"{f' ({more} more not shown)' if more else ''}; nothing was imported")
        for type_name, count in sorted(result.passed_over.items()):
            click.echo(f"passed over (not a school): {type_name}: {count}")
        click.echo(f"{'Would import' if dry_run else 'Imported'} {gias_file.name}: {result.summary()}.")
