"""The Flask app factory (flaskr style): ``create_app(test_config=None, settings=None)``.

The production app is built by the composition root, ``app.wiring.create_web_app()``, which passes the
deployment's settings and the domain's runtime; tests pass a ``test_config`` instead. This package
never reads the environment.

One SQLAlchemy session per request, committed once at the edge when the
response is not an error, rolled back otherwise. Services only flush.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, Response, g, request, send_from_directory
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from casework.sessions import IDLE_MINUTES, MAX_HOURS
from engine.clock import Clock, SystemClock
from engine.db import make_engine, session_factory

from . import bounds, csrf, errors, filters

GOVUK_ASSETS = Path(__file__).parent / "static" / "govuk" / "assets"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


@dataclass
class WebState:
    """What lives as long as the app: the database engine, the session maker, the runtime, the clock."""

    engine: Engine
    sessions: sessionmaker[Session]
    runtime: Any
    clock: Clock


class ConfigError(RuntimeError):
    """The app was asked to start without something it needs."""


class WebSettings(Protocol):
    """The deployment's settings the web app reads (``app.settings.Settings`` is one)."""

    @property
    def database_url(self) -> str: ...

    @property
    def secret_key(self) -> str | None: ...

    @property
    def insecure_cookies(self) -> bool: ...

    @property
    def session_idle_minutes(self) -> int: ...

    @property
    def session_max_hours(self) -> int: ...


RuntimeBuilder = Callable[[sessionmaker[Session]], Any]
"""Builds the app's engine runtime from its session maker (``app.wiring.build_runtime``)."""
WebApp = Flask
"""The app's type, for the composition root (``app/``), which imports no Flask itself."""


def create_app(test_config: Mapping[str, Any] | None = None, settings: WebSettings | None = None, *,
               build_runtime: RuntimeBuilder | None = None) -> Flask:
    """The web app from ``settings`` (production: ``app.wiring.create_web_app``), or from ``test_config``,
    whose keys (``DATABASE_URL``, ``SECRET_KEY``, ``VSW_RUNTIME``, ``VSW_FORMS``, ``VSW_CLOCK`` …) win."""
    if test_config is None and settings is None:
        raise ConfigError("create_app() was given no settings: serve 'app.wiring:create_web_app()' "
                          "(see docs/deployment.md)")
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key if settings is not None else None,
        DATABASE_URL=settings.database_url if settings is not None else None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="vsw_session",
        VSW_CLOCK=None,
        VSW_RUNTIME=None,
        VSW_FORMS=None,
        VSW_SESSION_IDLE_MINUTES=settings.session_idle_minutes if settings is not None else IDLE_MINUTES,
        VSW_SESSION_MAX_HOURS=settings.session_max_hours if settings is not None else MAX_HOURS,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    # The signed cookie is accepted no longer than a session may last (web/auth.py, docs/security.md).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["VSW_SESSION_MAX_HOURS"])
    relaxed = bool(app.config.get("TESTING") or app.config.get("DEBUG"))
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        # Secure cookies need HTTPS; VSW_INSECURE_COOKIES=1 is for plain-HTTP demos only.
        insecure = settings is not None and settings.insecure_cookies
        app.config["SESSION_COOKIE_SECURE"] = not (relaxed or insecure)
    if not app.config["SECRET_KEY"]:
        if not relaxed:
            raise ConfigError(
                "VSW_SECRET_KEY is not set. The web app refuses to start without a secret key "
                "(it signs session cookies). Generate one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))' and export VSW_SECRET_KEY."
            )
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    if not app.config["DATABASE_URL"]:
        raise ConfigError("No DATABASE_URL: give the app its settings (app.wiring.create_web_app) "
                          "or DATABASE_URL in test_config")
    db_engine = make_engine(app.config["DATABASE_URL"])
    sessions = session_factory(db_engine)
    app.extensions["vsw"] = WebState(
        engine=db_engine,
        sessions=sessions,
        runtime=app.config["VSW_RUNTIME"] or _build_runtime(app.config["VSW_FORMS"], sessions, build_runtime),
        clock=app.config["VSW_CLOCK"] or SystemClock(),
    )

    from casework.users import production_hasher

    # One password hasher for signing in and adding users (tests give a cheap one).
    app.extensions["vsw_password_hasher"] = app.config.get("VSW_PASSWORD_HASHER") or production_hasher()

    bounds.init_app(app)  # route converters and input bounds: before any route is added
    csrf.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.after_request(_security_headers)
    app.after_request(_commit_or_roll_back)  # registered last, so it runs first: its error page gets the headers
    app.teardown_request(_close_session)

    from . import account, auth, children, escalations, incidents, instances, notices, peps, tasks, timeline

    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(children.bp)
    app.register_blueprint(timeline.bp)
    app.register_blueprint(escalations.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(peps.bp)
    from . import cohort

    app.register_blueprint(cohort.bp)
    from . import roll

    app.register_blueprint(roll.bp)
    from . import attainment_imports

    app.register_blueprint(attainment_imports.bp)
    from . import imports

    imports.init_app(app)  # attendance and suspensions: the blueprint and its upload size
    # -- issue 14: admin: schools register (GIAS) --
    from . import admin_schools

    admin_schools.init_app(app)  # the GIAS schools register: the blueprint and its upload size
    # -- issue 14: search endpoints (autocomplete) --
    from . import search

    app.register_blueprint(search.bp)  # the autocomplete's /search/schools, /people, /authorities
    # -- issue 14: admin: children from SSDA903 --
    from . import admin_children_import

    admin_children_import.init_app(app)  # the SSDA903 import: the blueprint and its upload size
    # -- issue 14: admin: staff and caseloads --
    from . import caseloads, staff

    staff.init_app(app)  # users, invitations, passwords (and the first sign-in's password change), the import
    app.register_blueprint(caseloads.bp)
    # -- issue 14: admin: authority settings --
    from . import authority_settings

    app.register_blueprint(authority_settings.bp)
    # -- issue 14: single sign-on --
    from . import sso

    sso.init_app(app, settings)  # OpenID Connect sign-in, and whether local passwords are on
    # -- issue 15: work queues (task list) --
    from . import work_queue

    app.register_blueprint(work_queue.bp)  # /tasks: the task list's other address (the list is tasks.inbox, /)
    # -- issue 15: assigning tasks --
    from . import assign

    app.register_blueprint(assign.bp)  # a manager gives tasks to someone else, one or many
    # -- issue 15: operator view --
    from . import operations

    app.register_blueprint(operations.bp)  # /admin/operations: running cases, counts per element, cancelling
    # -- issue 15: version migration --
    from . import process_migration

    app.register_blueprint(process_migration.bp)  # /admin/processes/<id>/migrate: the dry run and the move
    from . import admin

    admin.init_app(app)  # /admin: the administrator's starting point, and the navigation's "Administration"
    app.context_processor(notices.nav_context)
    auth.init_app(app)

    @app.get("/assets/<path:filename>")
    def govuk_assets(filename: str) -> Response:
        """GOV.UK Frontend's compiled CSS asks for its fonts and images at /assets/."""
        return send_from_directory(GOVUK_ASSETS, filename, max_age=86400)

    return app


def _build_runtime(forms: Mapping[str, Any] | None, sessions: sessionmaker[Session],
                   build_runtime: RuntimeBuilder | None) -> Any:
    """A runtime with only ``forms`` (tests), else the service's own from ``build_runtime``."""
    if forms is not None:
        from engine.runtime import Runtime

        return Runtime(forms=dict(forms))
    if build_runtime is None:
        raise ConfigError("No runtime: give VSW_RUNTIME or VSW_FORMS in test_config, "
                          "or build the app with app.wiring.create_web_app()")
    return build_runtime(sessions)


def _commit_or_roll_back(response: Response) -> Response:
    """The edge of the unit of work: an error response changes nothing; a failed commit is a 409 or 503."""
    session: Session | None = g.pop("db", None)
    if session is not None:
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        except Exception as exc:  # never a raw 500: a lost race or an unreachable database (web/errors.py)
            return errors.failed_commit(exc)
        finally:
            session.close()
    return response


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:  # an exception escaped before after_request ran
        session.rollback()
        session.close()


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.pop("Server", None)  # no software or version banner
    if request.endpoint not in ("static", "govuk_assets"):
        headers["Cache-Control"] = "no-store"  # pages carry children's personal data
    return response
