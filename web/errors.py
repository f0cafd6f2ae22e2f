"""Error pages: engine errors and HTTP errors as GOV.UK pages, or JSON when asked.

No page ever shows a traceback; unexpected errors are logged and answered 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import EngineError

TITLES = {
    400: "There is a problem with your request",
    401: "You need to sign in",
    403: "You cannot do this",
    404: "Page not found",
    405: "You cannot do that here",
    409: "Someone else got there first",
    500: "Sorry, there is a problem with the service",
}


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
    return error_response(exc.status, exc.message, getattr(exc, "errors", None))


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, InternalServerError) or status >= 500:
        # Flask has already logged the original exception; the page never shows it.
        message = "Try again later. If it keeps happening, contact your system administrator."
    elif status == 404:
        message = "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."
    elif status == 405:
        message = f"This page does not accept {request.method} requests."
    else:
        message = exc.description or TITLES.get(status, "")
    response = error_response(status, message)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(HTTPException, _http_error)
