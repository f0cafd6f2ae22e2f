"""``vsw processes …``: deployed processes; ``migrate`` moves running cases to a process's newest version.

One unit of work per command: a dry run changes nothing; a real run commits every case it moved at once
(a case it could not move, or lost to a concurrent step, is left exactly as it was).
See docs/modelling.md, "Moving running cases to a new version".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SystemClock
from engine.db import unit_of_work

F = TypeVar("F", bound=Callable[..., Any])
CLI_ACTOR = "cli"


class CommandDecorator(Protocol):
    def __call__(self, command: F, /) -> F: ...


def register(main: click.Group, one_line_errors: CommandDecorator,
             factory: Callable[[], sessionmaker[Session]], settings: Callable[[], Any]) -> None:
    """Add ``vsw processes`` to ``main`` (or extend it if it exists); ``factory`` opens the settings'
    database and ``settings`` reads them, when a command runs."""
    found = main.commands.get("processes")
    if isinstance(found, click.Group):
        processes = found
    else:
        @main.group("processes")
        def processes() -> None:
            """Deployed processes and the cases running on their versions."""

    @processes.command("migrate")
    @click.argument("process_id")
    @click.option("--dry-run", is_flag=True, help="List which cases can and cannot move, and why; change nothing.")
    @click.option("--instance", "instance_ids", type=click.IntRange(1, 2**31 - 1), multiple=True,
                  metavar="ID", help="Only this case (repeat for more). Default: every case on an older version.")
    @one_line_errors
    def migrate(process_id: str, dry_run: bool, instance_ids: tuple[int, ...]) -> None:
        """Move the running cases of PROCESS_ID to its newest version, where that is safe."""
        from app.wiring import build_runtime
        from engine import migration

        sessions = factory()
        runtime = build_runtime(settings(), sessions)
        clock = SystemClock()
        with unit_of_work(sessions) as session:
            target = migration.newest(session, process_id)
            if dry_run:
                if instance_ids:
                    verdicts = migration.judge(session, runtime, _known(session, process_id, instance_ids),
                                               target, clock)
                else:
                    verdicts = migration.plan(session, runtime, process_id, clock=clock)
                session.rollback()
                _table(verdicts, process_id, target.version)
                return
            result = migration.migrate(session, runtime, clock, process_id, CLI_ACTOR, instance_ids or None)
        for verdict in result.refused:
            click.echo(f"not moved: case {verdict.instance_id} ({verdict.business_key}): {verdict.reason}")
        for verdict in result.conflicts:
            click.echo(f"conflict: case {verdict.instance_id} ({verdict.business_key}): {verdict.reason}")
        counts = result.counts()
        click.echo(f"{process_id}: moved to version {target.version}: {counts['moved']}; "
                   f"cannot move: {counts['cannot_move']}; conflicts: {counts['conflicts']}.")


def _known(session: Session, process_id: str, instance_ids: tuple[int, ...]) -> list[int]:
    """The ids given, refusing (one line) any that is not a case of the process."""
    from sqlalchemy import select

    from engine.errors import NotFound
    from engine.models import ProcessInstance

    ids = sorted(set(instance_ids))
    found = set(session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(ids),
                                                                   ProcessInstance.process_id == process_id)))
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(f"--instance: no case {', '.join(missing)} of '{process_id}'")
    return ids


def _table(verdicts: list[Any], process_id: str, version: int) -> None:
    movable = sum(v.can_move for v in verdicts)
    if not verdicts:
        click.echo(f"{process_id}: no running case is on a version older than {version}.")
        return
    rows = [("case", "key", "from", "to", "can move", "why")]
    rows += [(str(v.instance_id), v.business_key, str(v.from_version), str(v.to_version),
              "yes" if v.can_move else "no", v.reason) for v in verdicts]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    click.echo(f"{process_id}: {movable} of {len(verdicts)} can move to version {version} (dry run: nothing "
               "was changed).")
