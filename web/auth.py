"""Signing in and out, the server-side session of each request, and the ``login_required`` decorator.

The signed Flask cookie (``vsw_session``) carries the CSRF token, flash messages and the token of a
``user_session`` row; every request looks that row up (``casework/sessions.py``), so signing out, the
idle timeout, the absolute lifetime and "sign out everywhere" take effect on every web process at once.
Signing in is throttled per account, per client address and per trusted browser (``casework/signin.py``).
docs/security.md, "Signing in and sessions".
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as cookie
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from casework.sessions import EXPIRED, IDLE, SessionPolicy, SessionStore
from casework.signin import SignIns
from engine.db import unit_of_work

from .context import clock, db, state, users

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "sid"
"""The Flask session's key for the ``user_session`` token."""
DEVICE_COOKIE = "vsw_device"
"""A browser that signed in to an account carries this, so a lock an attacker holds elsewhere does not stop it."""
DEVICE_DAYS = 90
WRONG = "The username or password is not right"
PASSWORDS_OFF = "Signing in with a password is turned off for this service: use your organisation's sign-in"


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def session_store(on: Session | None = None) -> SessionStore:
    """The sessions, on this request's database session unless ``on`` another; timed by the app's settings."""
    config = current_app.config
    policy = SessionPolicy(idle=timedelta(minutes=config["VSW_SESSION_IDLE_MINUTES"]),
                           lifetime=timedelta(hours=config["VSW_SESSION_MAX_HOURS"]))
    return SessionStore(on if on is not None else db(), clock(), policy)


def _load_user() -> None:
    g.user = None
    g.user_session = None
    token = cookie.get(SESSION_KEY)
    if not isinstance(token, str) or request.endpoint in ("static", "govuk_assets"):
        return
    with unit_of_work(state().sessions) as own:  # ending or touching the row is saved whatever the response
        found = session_store(own).find(token)
    if found.ended is not None:
        cookie.pop(SESSION_KEY, None)
        if request.endpoint != "auth.logout":  # signing out says so itself
            flash(_ended_message(found.ended), "important")
        return
    g.user = found.user
    g.user_session = found.session


def _ended_message(why: str) -> str:
    config = current_app.config
    if why == IDLE:
        return f"You were signed out after {_count(config['VSW_SESSION_IDLE_MINUTES'], 'minute')} without activity"
    if why == EXPIRED:
        return (f"You were signed out because you signed in {_count(config['VSW_SESSION_MAX_HOURS'], 'hour')} "
                "ago: sign in again")
    return "You were signed out: sign in again"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect somewhere else after signing in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("tasks.inbox")


def _page(username: str, error: str | None, next_url: str) -> str:
    return render_template("auth/login.html", username=username, error=error, next=next_url)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(_safe_next(request.args.get("next")))
        return _page("", None, request.args.get("next", ""))
    if not current_app.config.get("VSW_LOCAL_PASSWORDS", True):  # single sign-on only (web/sso.py, docs/sso.md)
        return _page("", PASSWORDS_OFF, request.form.get("next", "")), 403
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    next_url = request.form.get("next", "")
    if not (username and password):
        return _page(username, "Enter a username and password", next_url), 200
    device = _trusted_browser(username)
    with unit_of_work(state().sessions) as own:  # counted and committed before the password is checked
        attempt = SignIns(own, clock()).begin(username, request.remote_addr, device)
    if not attempt.allowed:
        # The same answer for every username, known or not: the lock counts what was typed.
        wait = max(1, math.ceil(attempt.retry_after.total_seconds()))
        minutes = _count(math.ceil(wait / 60), "minute")
        error = f"Too many attempts to sign in. Wait {minutes}, then try again"
        return _page(username, error, next_url), 429, {"Retry-After": str(wait)}
    user = users().authenticate(username, password)
    SignIns(db(), clock()).finish(attempt, signed_in=user is not None)
    if user is None:
        return _page(username, WRONG, next_url), 200
    previous = cookie.get(SESSION_KEY)
    token, _row = session_store().start(user, request.remote_addr,
                                        replacing=previous if isinstance(previous, str) else None)
    cookie.clear()  # a fresh session (and CSRF token) for the signed-in user
    cookie[SESSION_KEY] = token
    response = redirect(_safe_next(next_url))
    _trust_browser(response, user.username, device)
    return response


@bp.post("/logout")
def logout() -> Response:
    token = cookie.get(SESSION_KEY)
    if isinstance(token, str):
        session_store().sign_out(token, request.remote_addr)
    cookie.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


# -- trusted browsers: the owner is never locked out by someone else's guesses --------------------------------


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="vsw-trusted-browser")


def _who(username: str) -> str:
    return hashlib.sha256(username.encode()).hexdigest()[:32]  # the cookie need not name the user


def _trusted_browser(username: str) -> str | None:
    """The id of this browser's device token if it signed in as ``username`` within ``DEVICE_DAYS``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        token = _devices().loads(raw)
    except BadSignature:
        return None
    if not isinstance(token, dict) or token.get("u") != _who(username):
        return None
    device, issued = token.get("d"), token.get("t")
    if not isinstance(device, str) or not isinstance(issued, int):
        return None
    if clock().now().timestamp() - issued > DEVICE_DAYS * 86400:
        return None
    return device


def _trust_browser(response: Response, username: str, device: str | None) -> None:
    token = {"u": _who(username), "d": device or secrets.token_urlsafe(16), "t": int(clock().now().timestamp())}
    response.set_cookie(DEVICE_COOKIE, _devices().dumps(token), max_age=DEVICE_DAYS * 86400,
                        path=url_for("auth.login"), secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
                        httponly=True, samesite="Lax")


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
