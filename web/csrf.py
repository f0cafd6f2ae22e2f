"""CSRF protection: one random token per session, sent back in every POST form.

Templates call ``csrf_token()`` for the hidden field; every unsafe request is
refused with 400 unless it carries the session's token (form field or header). A request for an
unknown page or with a method the page does not take is answered 404 or 405 first.

A task's form (completing it, or saving it as a draft) is the one exception to the plain 400: when its
token fails and the post came from this service's own pages (no ``Sec-Fetch-Site`` or ``Origin`` of
another site), the check marks :func:`failed` and lets the view answer. The view saves nothing and shows
the form again, 400, with what was typed and the session's token (web/tasks.py); a signed-out user is
sent to sign in as for any page. docs/security.md, "Forms that expire".
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, g, request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXPIRED = "The form has expired or was not sent from this service. Go back, reload the page and try again."
TASK_FORMS = frozenset({"tasks.complete", "tasks.draft"})
"""Endpoints whose view answers a failed check itself, showing the form again with what was typed."""


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
        if request.endpoint in TASK_FORMS and _from_this_service():
            g.csrf_failed = True  # the view saves nothing and shows the form again (web/tasks.py)
            return
        abort(400, description=EXPIRED)


def failed() -> bool:
    """Did this request's CSRF check fail (only ever true for the views of :data:`TASK_FORMS`)?"""
    return bool(g.get("csrf_failed"))


def _from_this_service() -> bool:
    """Not sent by another site's page, as far as the browser says: ``Sec-Fetch-Site`` where it is sent
    (every current browser), else an ``Origin`` that names a host (with our ``Referrer-Policy: no-referrer``
    a browser may send ``Origin: null`` for our own forms)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or origin == "null" or urlsplit(origin).netloc == request.host


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
