"""``vsw``: the operator's command line. Each command is one transaction; errors are one line.

Each command reads the settings (:class:`~app.settings.Settings`) when it runs, so ``vsw --help``
works whatever the environment holds; a bad setting is one line naming the variable.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.serving import WSGIRequestHandler

from app.cli_authority import register as register_authority_commands
from app.settings import Settings, SettingsError
from engine.clock import SystemClock
from engine.db import make_engine, session_factory, unit_of_work
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


def settings() -> Settings:
    """The settings, read from the environment once per command; a bad one is a one-line error."""
    meta = click.get_current_context().meta
    if "vsw.settings" not in meta:
        try:
            meta["vsw.settings"] = Settings.from_env()
        except SettingsError as error:
            raise click.ClickException(error.message) from None
    chosen: Settings = meta["vsw.settings"]
    return chosen


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings().database_url).render_as_string(hide_password=True)


def _factory() -> Any:
    return session_factory(make_engine(settings().database_url))


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


@db.command("fill-message-waits")
@one_line_errors
def db_fill_message_waits() -> None:
    """Record what running cases already wait for (BPMN messages), once, after upgrading to this version."""
    from app.wiring import build_runtime
    from engine.backfill import fill_message_waits

    with unit_of_work(_factory()) as session:
        written = fill_message_waits(session, build_runtime(settings(), _factory()), SystemClock().now())
    click.echo(f"Message waits recorded: {written}.")


def upgrade_database() -> None:
    """Run the Alembic migrations shipped in the ``migrations`` package (works installed or from a checkout)."""
    from alembic import command
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).resolve().parent))
    config.attributes["url"] = settings().database_url
    command.upgrade(config, "head")


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path), required=False)
@one_line_errors
def deploy(path: Path | None) -> None:
    """Validate and deploy BPMN files (a file or a folder; default: the shipped processes)."""
    from app.wiring import build_runtime
    from engine.service import WorkflowService
    from processes import PROCESS_DIR

    target = path or PROCESS_DIR
    with unit_of_work(_factory()) as session:
        service = WorkflowService(session, SystemClock(), build_runtime(settings(), _factory()))
        if target.is_dir():
            deployed = service.deploy_directory(target, ADMIN)
        else:
            deployed = service.deploy_file(target, ADMIN)
    for definition in deployed:
        click.echo(f"{definition.process_id}: version {definition.version} ({definition.filename}, {definition.content_sha256[:12]})")


PIPE_A_PASSWORD = "printf '%s\\n' \"$PASSWORD\" | vsw user add ..."


def _refuse_password(_context: click.Context, _parameter: click.Parameter, value: str | None) -> None:
    """``--password`` would leave the password in shell history and process lists: refuse it, in one line."""
    if value is not None:
        raise click.ClickException("--password is not accepted (the command line is kept in shell history and "
                                   "process lists): type the password at the prompt, or give it as the first "
                                   f"line of standard input: {PIPE_A_PASSWORD}")


def _read_password() -> str:
    """A hidden prompt asked twice at a terminal; otherwise the first line of standard input."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password"))
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException(f"No password on standard input: give it as the first line, {PIPE_A_PASSWORD}")
    return password


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
@click.option("--password", hidden=True, expose_value=False, callback=_refuse_password)
@one_line_errors
def user_add(username: str, display_name: str, email: str, roles: tuple[str, ...], la_code: str,
             school_urn: str | None) -> None:
    """Add a user with one or more roles.

    The password is typed at a hidden prompt (twice) when run at a terminal, or read from the first
    line of standard input otherwise, never from the command line:
    printf '%s\\n' "$PASSWORD" | vsw user add ... It must be 10 characters or more and not a common
    password (three random words work well)."""
    from casework.users import UserService

    password = _read_password()
    with unit_of_work(_factory()) as session:
        created = UserService(session, SystemClock()).add(username, display_name, email, password, roles, la_code, school_urn)
        click.echo(f"Added {created.username} ({created.roles}).")


@user.command("sign-out")
@click.argument("username")
@one_line_errors
def user_sign_out(username: str) -> None:
    """End every session USERNAME has open, in every browser and on every web process (a leaver, a lost
    laptop): they must sign in again. Audited as sessions_revoked by cli."""
    from casework.sessions import SessionStore

    with unit_of_work(_factory()) as session:
        ended = SessionStore(session, SystemClock()).sign_out_everywhere(username, by=ADMIN.user_id)
    click.echo(f"Signed {username} out everywhere: {ended} session{'' if ended == 1 else 's'} ended.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--with-scheduler", is_flag=True, help="Also fire due timers in this process (single machine).")
def serve(host: str, port: int, with_scheduler: bool) -> None:
    """Serve the web app (use a WSGI server such as gunicorn in production: see docs/deployment.md)."""
    _serve(host, port, with_scheduler)


def _serve(host: str, port: int, with_scheduler: bool, config: dict[str, Any] | None = None) -> None:
    from app.wiring import create_web_app, scheduler_jobs
    from web import ConfigError

    chosen = settings()
    try:
        web_app = create_web_app(chosen, config)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if with_scheduler:
        from scheduler import AnotherSchedulerRunning, start_background_scheduler

        try:
            start_background_scheduler(chosen.database_url, lambda: scheduler_jobs(chosen))
        except AnotherSchedulerRunning as error:
            raise click.ClickException(f"Not starting the in-process scheduler: {error.message} "
                                       "(or serve without --with-scheduler)") from None
    web_app.run(host=host, port=port, debug=False, use_reloader=False,
                request_handler=NoBannerRequestHandler)


class NoBannerRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its ``Server: Werkzeug/x Python/y`` header: no version banner."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


@main.command()
@click.option("--interval", default=30, show_default=True, type=click.IntRange(min=1),
              help="Seconds between polls for due timers.")
@click.option("--batch", default=50, show_default=True, type=click.IntRange(min=1, max=64),
              help="Cases claimed per transaction on PostgreSQL.")
@click.option("--once", is_flag=True, help="Run every job once and exit (catch up by hand, or from cron).")
@one_line_errors
def scheduler(interval: int, batch: int, once: bool) -> None:
    """Run the scheduler: fires due timers and runs the other jobs (see docs/deployment.md)."""
    from app.wiring import scheduler_jobs
    from scheduler import FIRE_TIMERS, AnotherSchedulerRunning, JobFailed, run_blocking_scheduler, run_once

    chosen = settings()
    try:
        if not once:
            run_blocking_scheduler(chosen.database_url,
                                   lambda: scheduler_jobs(chosen, interval_seconds=interval, batch=batch))
            return
        results = run_once(chosen.database_url, lambda: scheduler_jobs(chosen, batch=batch))
    except AnotherSchedulerRunning as error:
        raise click.ClickException(error.message) from None
    timers = results.get(FIRE_TIMERS)
    if timers is not None and not isinstance(timers, JobFailed):
        click.echo(f"timers: fired {timers.fired} in {timers.instances} instances, "
                   f"{timers.skipped} skipped, {timers.failed} failed")
    failed = [report for report in results.values() if isinstance(report, JobFailed)]
    if failed:
        raise click.ClickException("; ".join(f"job {f.name} failed: {f.error}" for f in failed))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data and exit.")
@one_line_errors
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the schema, load a demo authority and serve it with the scheduler in-process."""
    from app.wiring import build_runtime
    from casework.demo import DEMO_PASSWORD, STAFF, load_demo, open_escalations

    _serve_links_from(host, port)
    upgrade_database()
    factory, clock = _factory(), SystemClock()
    runtime = build_runtime(settings(), factory)
    with unit_of_work(factory) as session:
        summary = load_demo(session, clock, runtime)
    with factory() as session:
        escalations = open_escalations(session)
    click.echo(f"Demo authority loaded: {summary.users} staff, {summary.children} new children, "
               f"{summary.peps} new PEPs, {summary.instances} new placement moves; "
               f"escalations open: {escalations}.")
    click.echo(f"Sign in as any of: {', '.join(s[0] for s in STAFF)} — password: {DEMO_PASSWORD}")
    if not no_serve:
        click.echo(f"Serving on http://{host}:{port}/ (Ctrl+C to stop)")
        # The demo runs on plain http://localhost with a secret made for this run only.
        demo_config = {"SECRET_KEY": settings().secret_key or secrets.token_hex(32),
                       "SESSION_COOKIE_SECURE": False}
        _serve(host, port, with_scheduler=True, config=demo_config)


def _serve_links_from(host: str, port: int) -> None:
    """Without ``VSW_BASE_URL``, the demo's links point at the address it serves (not ``localhost``, whose
    sign-in cookie another address does not share)."""
    chosen = settings()
    if chosen.base_url_given:
        return
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    click.get_current_context().meta["vsw.settings"] = dataclasses.replace(chosen, base_url=f"http://{shown}:{port}")


register_authority_commands(main, one_line_errors, _factory)


@main.group("import")
def import_group() -> None:
    """Load the authority's schools, children and staff from the files it already has (docs/onboarding.md)."""


# -- issue 14: vsw import schools --
from app.cli_gias import register as register_gias  # noqa: E402

register_gias(import_group, one_line_errors, _factory)
# -- issue 14: vsw import ssda903 --
from app.cli_ssda903 import register as register_ssda903  # noqa: E402

register_ssda903(import_group, one_line_errors, _factory)
# -- issue 14: vsw import staff --
from app.cli_staff import register as register_staff_import  # noqa: E402

register_staff_import(import_group, one_line_errors, _factory)
# -- issue 14: other commands --
# -- issue 15: vsw processes migrate --
from app.cli_processes import register as register_processes  # noqa: E402

register_processes(main, one_line_errors, _factory, settings)
# -- issue 15: other commands --

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
