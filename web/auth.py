"""Signing in and out, and the ``login_required`` decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from engine.errors import NotFound

from .context import users

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None or request.endpoint in ("static", "govuk_assets"):
        return
    try:
        user = users().get(int(user_id))
    except (NotFound, ValueError, TypeError):
        session.clear()
        return
    if not user.active:
        session.clear()
        return
    g.user = user


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect somewhere else after signing in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("tasks.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if request.method == "GET":
        if g.get("user") is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", username="", error=None, next=request.args.get("next", ""))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    user = users().authenticate(username, password) if username and password else None
    if user is None:
        error = (
            "Enter a username and password"
            if not (username and password)
            else ("The username or password is not right")
        )
        page = render_template(
            "auth/login.html", username=username, error=error, next=request.form.get("next", "")
        )
        return page, 200
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    session["user_id"] = user.id
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
