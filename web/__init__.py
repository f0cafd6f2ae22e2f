"""The Flask app factory (flaskr style): ``create_app(test_config=None)``.

One SQLAlchemy session per request, committed once at the edge when the
response is not an error, rolled back otherwise. Services only flush.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request, send_from_directory
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, SystemClock
from engine.db import database_url, make_engine, session_factory

from . import csrf, errors, filters

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


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("VSW_SECRET_KEY"),
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="vsw_session",
        VSW_CLOCK=None,
        VSW_RUNTIME=None,
        VSW_FORMS=None,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    relaxed = bool(app.config.get("TESTING") or app.config.get("DEBUG"))
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        # Secure cookies need HTTPS; VSW_INSECURE_COOKIES=1 is for plain-HTTP demos only.
        insecure = os.environ.get("VSW_INSECURE_COOKIES") == "1"
        app.config["SESSION_COOKIE_SECURE"] = not (relaxed or insecure)
    if not app.config["SECRET_KEY"]:
        if not relaxed:
            raise ConfigError(
                "VSW_SECRET_KEY is not set. The web app refuses to start without a secret key "
                "(it signs session cookies). Generate one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))' and export VSW_SECRET_KEY."
            )
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    db_engine = make_engine(app.config["DATABASE_URL"] or database_url())
    sessions = session_factory(db_engine)
    app.extensions["vsw"] = WebState(
        engine=db_engine,
        sessions=sessions,
        runtime=app.config["VSW_RUNTIME"] or _build_runtime(app.config["VSW_FORMS"], sessions),
        clock=app.config["VSW_CLOCK"] or SystemClock(),
    )

    csrf.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.after_request(_commit_or_roll_back)
    app.after_request(_security_headers)
    app.teardown_request(_close_session)

    from . import auth, children, escalations, instances, notices, tasks

    app.register_blueprint(auth.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(instances.bp)
    app.register_blueprint(children.bp)
    app.register_blueprint(escalations.bp)
    app.register_blueprint(notices.bp)
    app.context_processor(notices.nav_context)
    auth.init_app(app)

    @app.get("/assets/<path:filename>")
    def govuk_assets(filename: str) -> Response:
        """GOV.UK Frontend's compiled CSS asks for its fonts and images at /assets/."""
        return send_from_directory(GOVUK_ASSETS, filename, max_age=86400)

    return app


def _build_runtime(forms: Mapping[str, Any] | None, sessions: Any) -> Any:
    """The service's runtime (forms, school-term calendar, access rules), or one with only ``forms``."""
    if forms is not None:
        from engine.runtime import Runtime

        return Runtime(forms=dict(forms))
    from casework.runtime import build_runtime

    return build_runtime(sessions)


def _commit_or_roll_back(response: Response) -> Response:
    """The edge of the unit of work: an error response changes nothing."""
    session: Session | None = g.pop("db", None)
    if session is not None:
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
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
    if request.endpoint not in ("static", "govuk_assets"):
        headers["Cache-Control"] = "no-store"  # pages carry children's personal data
    return response
