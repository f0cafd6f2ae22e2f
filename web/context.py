"""Per-request access to the app's state: the session, the clock, the services, the actor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import abort, current_app, g
from sqlalchemy.orm import Session

from casework.need_to_know import NeedToKnow
from casework.users import User, UserService
from engine.clock import Clock
from engine.runtime import Actor

if TYPE_CHECKING:
    from . import WebState


def state() -> WebState:
    return current_app.extensions["vsw"]  # type: ignore[no-any-return]


def db() -> Session:
    """This request's session (opened on first use, committed or rolled back at the edge)."""
    if "db" not in g:
        g.db = state().sessions()
    return g.db  # type: ignore[no-any-return]


def clock() -> Clock:
    return state().clock


def users() -> UserService:
    """The users, hashing passwords with the app's hasher (``VSW_PASSWORD_HASHER``; production strength
    unless a test gives a cheap one). Signing in rehashes a password made with other parameters."""
    return UserService(db(), clock(), current_app.extensions["vsw_password_hasher"])


def workflow() -> Any:
    from engine.service import WorkflowService

    return WorkflowService(db(), clock(), state().runtime)


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def require_admin(reason: str) -> str:
    """The signed-in administrator's username; anyone else gets 403 with ``reason``."""
    user = current_user()
    if user is None or "admin" not in user.roles_set:
        abort(403, description=reason)
    return user.username


def actor() -> Actor:
    """The engine's view of the logged-in user."""
    user = current_user()
    if user is None:
        raise RuntimeError("actor() needs a logged-in user; decorate the view with @login_required")
    return Actor(user_id=user.username, roles=user.roles_set)


def may_see(business_key: str) -> bool:
    """The runtime's access policy: may the logged-in user see this child's records?"""
    return bool(state().runtime.access.may_see(db(), actor(), business_key))


def need_to_know() -> NeedToKnow:
    """What the logged-in user may read (casework/need_to_know.py), from their scope, once per request."""
    if "need_to_know" not in g:
        g.need_to_know = NeedToKnow(db(), state().runtime.access.scope(db(), actor()))
    return g.need_to_know  # type: ignore[no-any-return]


def may_act(role: str | None, business_key: str) -> bool:
    """The runtime's access policy: may the logged-in user act on a task of ``role`` for this key?"""
    return bool(state().runtime.access.may_act(db(), actor(), role, business_key))
