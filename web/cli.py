"""``vsw``: the operator's command line. Each command is one transaction; errors are one line."""

from __future__ import annotations

import functools
import logging
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from engine.clock import SystemClock
from engine.db import database_url, make_engine, session_factory, unit_of_work
from engine.errors import EngineError
from engine.runtime import Actor

F = TypeVar("F", bound=Callable[..., Any])
ADMIN = Actor("cli", frozenset({"admin"}))


def one_line_errors(command: F) -> F:
    """Turn the errors an operator can cause into one clear line and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except EngineError as error:
            details = getattr(error, "errors", None)
            suffix = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in details.items()) if details else ""
            raise click.ClickException(error.message + (f" ({suffix})" if suffix else "")) from None
        except SQLAlchemyError as error:
            first = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise click.ClickException(f"Database error ({_safe_url()}): {first}") from None

    return wrapper  # type: ignore[return-value]


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(database_url()).render_as_string(hide_password=True)


def _factory() -> Any:
    return session_factory(make_engine())


@click.group()
def main() -> None:
    """Virtual School Workflow: placement moves and PEPs for children in care."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("vsw").setLevel(logging.INFO)
    logging.getLogger("spiff").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    upgrade_database()
    click.echo(f"Database at {_safe_url()} is up to date.")


def upgrade_database() -> None:
    """Run the Alembic migrations shipped in the ``migrations`` package (works installed or from a checkout)."""
    from alembic import command
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).resolve().parent))
    config.attributes["url"] = database_url()
    command.upgrade(config, "head")


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path), required=False)
@one_line_errors
def deploy(path: Path | None) -> None:
    """Validate and deploy BPMN files (a file or a folder; default: the shipped processes)."""
    from casework.runtime import build_runtime
    from engine.service import WorkflowService
    from processes import PROCESS_DIR

    target = path or PROCESS_DIR
    with unit_of_work(_factory()) as session:
        service = WorkflowService(session, SystemClock(), build_runtime())
        if target.is_dir():
            deployed = service.deploy_directory(target, ADMIN)
        else:
            deployed = service.deploy_file(target, ADMIN)
    for definition in deployed:
        click.echo(f"{definition.process_id}: version {definition.version} ({definition.filename}, {definition.content_sha256[:12]})")


@main.group()
def user() -> None:
    """People who sign in."""


@user.command("add")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Full name shown to colleagues.")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--la", "la_code", required=True, help="Local authority number, e.g. 935.")
@click.option("--school-urn", default=None, help="For designated teachers: their school's URN.")
@click.password_option(help="At least 10 characters; prompted for if not given.")
@one_line_errors
def user_add(username: str, display_name: str, email: str, roles: tuple[str, ...], la_code: str,
             school_urn: str | None, password: str) -> None:
    """Add a user with one or more roles."""
    from casework.users import UserService

    with unit_of_work(_factory()) as session:
        created = UserService(session, SystemClock()).add(username, display_name, email, password, roles, la_code, school_urn)
        click.echo(f"Added {created.username} ({created.roles}).")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-scheduler", is_flag=True, help="Also fire due timers in this process (single machine).")
def serve(host: str, port: int, with_scheduler: bool) -> None:
    """Serve the web app (use a WSGI server such as gunicorn in production: see docs/deployment.md)."""
    _serve(host, port, with_scheduler)


def _serve(host: str, port: int, with_scheduler: bool, config: dict[str, Any] | None = None) -> None:
    from web import ConfigError, create_app

    try:
        app = create_app(config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if with_scheduler:
        from scheduler import start_background_scheduler

        start_background_scheduler()
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command()
@click.option("--interval", default=30, show_default=True, type=int, help="Seconds between polls for due timers.")
def scheduler(interval: int) -> None:
    """Run the scheduler: fires due timers (see docs/deployment.md)."""
    from scheduler import run_blocking_scheduler

    run_blocking_scheduler(interval)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@one_line_errors
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the schema, load a demo authority and serve it with the scheduler in-process."""
    from casework.demo import DEMO_PASSWORD, STAFF, load_demo
    from casework.runtime import build_runtime

    upgrade_database()
    with unit_of_work(_factory()) as session:
        summary = load_demo(session, SystemClock(), build_runtime())
    click.echo(f"Demo authority loaded: {summary.users} staff, {summary.instances} new placement moves.")
    click.echo(f"Sign in as any of: {', '.join(u for u, _, _ in STAFF)} — password: {DEMO_PASSWORD}")
    if not no_serve:
        click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
        # The demo runs on plain http://localhost with a secret made for this run only.
        demo_config = {"SECRET_KEY": os.environ.get("VSW_SECRET_KEY") or secrets.token_hex(32),
                       "SESSION_COOKIE_SECURE": False}
        _serve(host, port, with_scheduler=True, config=demo_config)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
