"""``vsw import ssda903``: an authority's looked-after children from its SSDA903 return (docs/import-children.md).

One unit of work: every child is imported, or (on any error not skipped by name) none is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from app.cli_authority import CommandDecorator
from engine.db import unit_of_work
from engine.runtime import Actor

ADMIN = Actor("cli", frozenset({"admin"}))
ERRORS_SHOWN = 200
FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _text(path: Path) -> str:
    """The file as text; one it cannot decode (or too large) is a one-line error naming it."""
    from casework.csv_import import decode
    from engine.errors import EngineError

    try:
        return decode(path.read_bytes())
    except EngineError as error:
        reasons = [reason for found in (getattr(error, "errors", None) or {}).values() for reason in found]
        raise click.ClickException(f"{path.name}: {' '.join(reasons) or error.message}") from None


def register(group: click.Group, one_line_errors: CommandDecorator,
             factory: Callable[[], sessionmaker[Session]]) -> None:
    """Add ``ssda903`` to ``group`` (``vsw import``); ``factory`` opens the settings' database when it runs."""
    from casework.ssda903_codes import DEFAULT_PEP_START, PEP_START_CHOICES

    @group.command("ssda903")
    @click.option("--la", "la_code", required=True, help="Three-digit LA number of the authority, e.g. 935.")
    @click.option("--header", "header", required=True, type=FILE, help="The return's header file (CSV).")
    @click.option("--episodes", "episodes", required=True, type=FILE, help="The return's episodes file (CSV).")
    @click.option("--pep-start", type=click.Choice(list(PEP_START_CHOICES)), default=DEFAULT_PEP_START,
                  show_default=True, help="How the PEPs of children already in care start (see the docs).")
    @click.option("--skip", "skip", multiple=True, metavar="CHILD",
                  help="Import the others, skipping this child (repeat; every child in error must be named).")
    @click.option("--dry-run", is_flag=True, help="Check the files and show what would change; write nothing.")
    @one_line_errors
    def ssda903(la_code: str, header: Path, episodes: Path, pep_start: str, skip: tuple[str, ...],
                dry_run: bool) -> None:
        """Create or update the authority's children from the SSDA903 header and episodes files."""
        from app.cli import settings
        from app.wiring import build_runtime
        from casework import ssda903_apply
        from engine.clock import SystemClock

        clock, sessions = SystemClock(), factory()
        header_text, episodes_text = _text(header), _text(episodes)
        names = {"header_file": header.name, "episodes_file": episodes.name}
        with sessions() as session:
            result = ssda903_apply.preview(session, la_code, header_text, episodes_text, clock.now().date(),
                                           **names)
        _report(result, set(skip))
        blocked = result.found.unskippable or not result.found.children_in_error <= set(skip)
        if dry_run or blocked:
            if blocked:
                raise click.ClickException(_refusal(result, set(skip)))
            click.echo("Dry run: nothing was written.")
            return
        runtime = build_runtime(settings(), sessions)
        with unit_of_work(sessions) as session:
            done = ssda903_apply.apply(session, clock, runtime, la_code, header_text, episodes_text, ADMIN,
                                       pep_start, skip, **names)
        click.echo(f"Imported: {done.summary()}; PEPs of children already in care: {pep_start}.")


def _report(result: Any, skip: set[str]) -> None:
    found = result.found
    for error in found.errors[:ERRORS_SHOWN]:
        click.echo(str(error), err=True)
    if found.error_count > ERRORS_SHOWN:
        click.echo(f"... and {found.error_count - ERRORS_SHOWN} more errors", err=True)
    click.echo(f"{found.header_rows} children and {found.episode_rows} episodes read; {result.summary()}; "
               f"{found.error_count} errors" + (f"; skipping {', '.join(sorted(skip))}" if skip else "") + ".")


def _refusal(result: Any, skip: set[str]) -> str:
    found = result.found
    if found.unskippable:
        return "Nothing was imported: some errors name no child; correct the files and run the command again."
    missing = sorted(found.children_in_error - skip)
    return ("Nothing was imported: correct the files, or import the other children by skipping those in error: "
            + " ".join(f"--skip {ref}" for ref in missing))
