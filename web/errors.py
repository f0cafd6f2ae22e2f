"""Error pages: engine errors and HTTP errors as GOV.UK pages, or JSON when asked.

No page ever shows a traceback; unexpected errors are logged and answered 500. An engine error of
status 500 or more is logged with its message and answered with the generic page of its status: its
message is for the operator, not the user.

A database failure, in a view or when the request commits, is answered like the engine's own errors:
a lost race (a unique row taken, a stale version, a serialization failure or deadlock, SQLite busy)
is 409 Conflict and a database that cannot be reached is 503 Unavailable. Nothing of the request is
saved either way.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import Conflict, EngineError, ProcessError, Unavailable
from engine.incidents import record_step_failure

logger = logging.getLogger(__name__)

TITLES = {
    400: "There is a problem with your request",
    401: "You need to sign in",
    403: "You cannot do this",
    404: "Page not found",
    405: "You cannot do that here",
    409: "Someone else got there first",
    413: "What you sent is too large",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}
SERVER_ERROR = "Try again later. If it keeps happening, contact your system administrator."
TOO_LARGE = ("What you sent is too large to save: nothing was saved. Shorten the longest answers "
             "(each box says how many characters it takes) and try again.")
CONCURRENT_CHANGE = "Someone else changed this at the same time: nothing was saved; try again."
CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialization failure, deadlock, lock not available


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def error_response(status: int, message: str, errors: dict[str, Any] | None = None) -> Response:
    if wants_json():
        body: dict[str, Any] = {"error": message}
        if errors:
            body["errors"] = errors
        response = jsonify(body)
    else:
        html = render_template(
            "errors/error.html",
            status=status,
            title=TITLES.get(status, TITLES[400]),
            message=message,
            errors=errors,
        )
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def _engine_error(exc: EngineError) -> Response:
    if isinstance(exc, ProcessError):
        _step_incident(exc)
    errors = getattr(exc, "errors", None)
    if exc.status >= 500:
        logger.error("%s (%d) on %s %s: %s%s", type(exc).__name__, exc.status, request.method, request.path,
                     exc.message, f" {errors}" if errors else "", exc_info=exc)
        return error_response(exc.status, SERVER_ERROR)
    return error_response(exc.status, exc.message, errors)


def _step_incident(exc: ProcessError) -> None:
    """A person's step failed (a script raised, or went over the sandbox's bounds): the person is told and
    nothing of the step is saved. The request's transaction is rolled back here, and the failure is kept
    as a ``step`` incident in a second, separate transaction (engine/incidents.py, docs/operations.md)."""
    args, user = request.view_args or {}, g.get("user")
    task_id, instance_id = args.get("task_id"), args.get("instance_id")
    if user is None or not (isinstance(task_id, str) or isinstance(instance_id, int)):
        return
    pending = g.get("db")
    if pending is not None:
        pending.rollback()  # first: the step's writes (and SQLite's write lock) go before the incident's
    vsw = current_app.extensions["vsw"]
    record_step_failure(vsw.sessions, exc, vsw.clock.now(), actor=user.username,
                        task_id=task_id if isinstance(task_id, str) else None,
                        instance_id=instance_id if isinstance(instance_id, int) else None)


def database_error(exc: SQLAlchemyError) -> EngineError | None:
    """The engine error a failed statement or commit stands for (Conflict or Unavailable), or None: a bug."""
    if isinstance(exc, (IntegrityError, StaleDataError)):
        return Conflict(CONCURRENT_CHANGE)
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig)
        if getattr(exc.orig, "sqlstate", None) in CONFLICT_SQLSTATES:
            return Conflict(CONCURRENT_CHANGE)
        if isinstance(exc, OperationalError) and ("locked" in reason.lower() or "busy" in reason.lower()):
            return Conflict(CONCURRENT_CHANGE)  # SQLite: another writer held the database too long
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            return Unavailable(f"The database cannot be reached: {reason.strip()}")
    return None


def _database_error(exc: SQLAlchemyError) -> Response:
    mapped = database_error(exc)
    if mapped is None:
        raise exc  # a bug: Flask logs it and answers 500, like any unexpected error
    mapped.__cause__ = exc
    return _engine_error(mapped)


def failed_commit(exc: Exception) -> Response:
    """The answer when the request's commit (or rollback) raised ``exc``: 409, 503, or a logged 500.

    The session cookie is not rewritten either, so a sign-in whose commit failed leaves no one signed in."""
    session.modified = False
    if isinstance(exc, EngineError):
        return _engine_error(exc)
    mapped = database_error(exc) if isinstance(exc, SQLAlchemyError) else None
    if mapped is None:
        logger.error("The commit of %s %s failed", request.method, request.path, exc_info=exc)
        return error_response(500, SERVER_ERROR)
    mapped.__cause__ = exc
    return _engine_error(mapped)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, InternalServerError) or status >= 500:
        # Flask has already logged the original exception; the page never shows it.
        message = SERVER_ERROR
    elif status == 404:
        message = "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."
    elif status == 405:
        message = f"This page does not accept {request.method} requests."
    elif status == 413:
        message = TOO_LARGE
    else:
        message = exc.description or TITLES.get(status, "")
    response = error_response(status, message)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
