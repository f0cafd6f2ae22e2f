"""Signed-in sessions, kept on the server: one ``user_session`` row per sign-in, shared by every web process.

The browser holds only a random 256-bit token; the table holds its SHA-256, so reading the database
yields no cookie that works. A session ends when it is signed out (``POST /logout``), when it has seen
no request for ``idle`` (default 30 minutes), when it is ``lifetime`` old (default 12 hours), when its
user signs in again in the same browser (a new token each time: rotation), when its user or an
administrator signs the user out everywhere, or when the user is deactivated. Ending a session writes
``revoked_at``; every process looks the row up on every request, so it ends on all of them at once.
``last_seen_at`` is written at most once a ``touch_every``, not on every request.

docs/security.md, "Signing in and sessions". Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.clock import Clock
from engine.errors import NotFound
from engine.models import AuditEvent, Base
from engine.paging import PAGE_SIZE, Page, check_page, cut, fetch_page

from .users import User

TOKEN_BYTES = 32
"""256 bits from ``secrets``."""
IDLE_MINUTES = 30
MAX_HOURS = 12
"""The defaults of ``VSW_SESSION_IDLE_MINUTES`` and ``VSW_SESSION_MAX_HOURS`` (app/settings.py)."""
SIGNED_OUT = "signed_out"
IDLE = "idle"
EXPIRED = "expired"
REVOKED = "revoked"
REPLACED = "replaced"
INACTIVE = "inactive"


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lasts: ``VSW_SESSION_IDLE_MINUTES`` and ``VSW_SESSION_MAX_HOURS`` (app/settings.py)."""

    idle: timedelta = timedelta(minutes=IDLE_MINUTES)
    lifetime: timedelta = timedelta(hours=MAX_HOURS)
    touch_every: timedelta = timedelta(minutes=1)


class UserSession(Base):
    """One sign-in in one browser, found by the SHA-256 of its token."""

    __tablename__ = "user_session"
    __table_args__ = (
        Index("ix_user_session_token", "token_hash", unique=True),  # every request
        Index("ix_user_session_user", "user_id", "revoked_at"),  # signing a user out everywhere, their list
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    """``created_at`` plus the lifetime: the session ends then, however active."""
    revoked_at: Mapped[datetime | None]
    ended_because: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(100))
    """The client address it was started from, shown on the user's sessions page."""


@dataclass(frozen=True)
class Found:
    """The session a token stands for and its user, or why there is none (``ended``: idle, expired, …)."""

    session: UserSession | None
    user: User | None
    ended: str | None


@dataclass(frozen=True)
class UserSessions:
    """A user and how many sessions they have open, for the administrators' list."""

    user: User
    open_sessions: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """The sessions on ``session`` (the caller commits), timed by ``clock`` under ``policy``."""

    def __init__(self, session: Session, clock: Clock, policy: SessionPolicy | None = None) -> None:
        self.session = session
        self.clock = clock
        self.policy = policy or SessionPolicy()

    def start(self, user: User, address: str | None, replacing: str | None = None) -> tuple[str, UserSession]:
        """A new session for ``user``: its token (for the cookie) and row. ``replacing``: the browser's
        previous token, whose session ends (rotation at sign-in)."""
        now = self.clock.now()
        if replacing:
            self._end(self.session.scalars(select(UserSession).where(
                UserSession.token_hash == token_hash(replacing), UserSession.revoked_at.is_(None))), REPLACED, now)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        row = UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                          expires_at=now + self.policy.lifetime, address=(address or None) and address[:100])
        self.session.add(row)
        self.session.flush()
        return token, row

    def find(self, token: str) -> Found:
        """The open session of ``token`` and its active user; else why not (and the session is ended)."""
        found = self.session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                                     .where(UserSession.token_hash == token_hash(token))).one_or_none()
        if found is None:
            return Found(None, None, REVOKED)
        row, user = found
        now = self.clock.now()
        if row.revoked_at is not None:
            return Found(row, user, row.ended_because or REVOKED)
        ended = (EXPIRED if now >= row.expires_at else IDLE if now - row.last_seen_at > self.policy.idle
                 else INACTIVE if not user.active else None)
        if ended is not None:
            self._end([row], ended, now)
            return Found(row, user, ended)
        if now - row.last_seen_at >= self.policy.touch_every:
            self.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
        return Found(row, user, None)

    def sign_out(self, token: str, address: str | None) -> User | None:
        """End the session of ``token`` (``POST /logout``); its user, if it was open."""
        found = self.session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                                     .where(UserSession.token_hash == token_hash(token),
                                            UserSession.revoked_at.is_(None))).one_or_none()
        if found is None:
            return None
        row, user = found
        now = self.clock.now()
        self._end([row], SIGNED_OUT, now)
        self._audit(now, user.username, "signed_out", {"address": address, "session": row.id})
        return user

    def sign_out_everywhere(self, username: str, by: str, address: str | None = None) -> int:
        """End every open session of ``username`` on every process; how many. ``by``: who asked (audited)."""
        user = self.session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise NotFound(f"No user called {username!r}")
        now = self.clock.now()
        ended = self.session.execute(
            update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                      UserSession.expires_at > now)
            .values(revoked_at=now, ended_because=REVOKED).execution_options(synchronize_session=False))
        count = int(getattr(ended, "rowcount", 0) or 0)
        data: dict[str, Any] = {"user": user.username, "sessions": count}
        if address:
            data["address"] = address
        self._audit(now, by, "sessions_revoked", data)
        self.session.flush()
        return count

    def open_sessions(self, user_id: int, page: int = 1, per_page: int = PAGE_SIZE) -> Page[UserSession]:
        """A user's sessions still open, last used first."""
        query = (select(UserSession).where(*self._open(), UserSession.user_id == user_id)
                 .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
        return fetch_page(self.session, query, page, per_page)

    def users(self, page: int = 1, per_page: int = PAGE_SIZE) -> Page[UserSessions]:
        """Every user by username, with how many sessions each has open (one query for the page's counts)."""
        check_page(page, per_page)
        people = list(self.session.scalars(select(User).order_by(User.username, User.id)
                                           .offset((page - 1) * per_page).limit(per_page + 1)))
        counts: dict[int, int] = {}
        if people:
            query = (select(UserSession.user_id, func.count())
                     .where(*self._open(), UserSession.user_id.in_([u.id for u in people])).group_by(UserSession.user_id))
            counts = {user_id: count for user_id, count in self.session.execute(query)}
        return cut([UserSessions(user, counts.get(user.id, 0)) for user in people], page, per_page)

    def _open(self) -> list[Any]:
        now = self.clock.now()
        return [UserSession.revoked_at.is_(None), UserSession.expires_at > now,
                UserSession.last_seen_at >= now - self.policy.idle]

    def _end(self, rows: Any, because: str, now: datetime) -> None:
        for row in rows:
            row.revoked_at, row.ended_because = now, because
        self.session.flush()

    def _audit(self, at: datetime, actor: str, action: str, data: dict[str, Any]) -> None:
        self.session.add(AuditEvent(at=at, actor=actor[:100], action=action, data=data))
