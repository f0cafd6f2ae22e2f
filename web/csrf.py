"""CSRF protection: one random token per session, sent back in every POST form.

Templates call ``csrf_token()`` for the hidden field; every unsafe request is
refused with 400 unless it carries the session's token (form field or header). A request for an
unknown page or with a method the page does not take is answered 404 or 405 first.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    token = session.get(FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[FIELD] = token
    return token


def _check() -> None:
    if request.routing_exception is not None:
        return  # an unknown page (404) or method (405): Flask raises it when it dispatches, not a CSRF error
    if request.method in SAFE_METHODS or request.endpoint in ("static", "govuk_assets"):
        return
    expected = session.get(FIELD)
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(
            400,
            description="The form has expired or was not sent from this service. Go back, reload the page and try again.",
        )


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
