"""Invitations: a new member of staff chooses their own password through an emailed link (docs/staff.md).

An invitation is a random 256-bit token; the table keeps only its SHA-256, so reading the database gives
no link that works. A link works once, for :data:`INVITATION_DAYS` days, and only while its user is
active; a new invitation for the same person ends the ones before it. The email goes through the
notifications outbox (``outbox_message``, sent by the delivery job), written in the caller's transaction,
so it exists exactly when the user it invites was saved. Its link is never copied into the in-app list.

Staff emails (the invitation, a caseload handed over) are notifications of the catalogue
(notifications/catalogue.py), rendered like every other message. Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import AuditEvent
from notifications.catalogue import render
from notifications.directory import Recipient
from notifications.models import InAppMessage, OutboxMessage
from notifications.notifier import new_message_id
from notifications.preferences import get_preference
from notifications.store import insert_once

from .passwords import password_problems
from .users import StaffInvitation, User

INVITATION_DAYS = 7
"""How long an invitation link works."""
TOKEN_BYTES = 32
INVITATION_PATH = "/invitation/"
"""The link is ``<VSW_BASE_URL>/invitation/<token>`` (web/staff.py)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def queue_staff_email(session: Session, now: datetime, name: str, user: User, context: Mapping[str, Any],
                      base_url: str | None, *, in_app: bool) -> None:
    """Queue one email to ``user`` in the outbox (and, if ``in_app``, a line in their in-app list)."""
    recipient = Recipient(user.username, user.email, user.display_name)
    mail = render(name, {**context, "recipient": recipient}, base=base_url)
    digest = in_app and get_preference(session, user.username).email_mode == "daily_digest"
    if in_app:
        insert_once(session, InAppMessage, {
            "dedupe_key": None, "username": user.username, "name": name, "subject": mail.subject, "text": mail.text,
            "link": mail.link, "created_at": now, "read_at": None})
    insert_once(session, OutboxMessage, {
        "message_id": new_message_id(), "dedupe_key": None, "name": name, "recipient_username": user.username,
        "recipient_email": user.email, "recipient_name": user.display_name, "subject": mail.subject,
        "text": mail.text, "html": mail.html, "link": mail.link, "channel": "email",
        "state": "digest" if digest else "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
        "created_at": now, "sent_at": None})


def invite(session: Session, clock: Clock, user: User, actor: str, base_url: str | None) -> str:
    """A new invitation for ``user`` (ending any before it), its email queued; the token (for tests)."""
    now = clock.now()
    session.execute(update(StaffInvitation).where(StaffInvitation.user_id == user.id, StaffInvitation.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + timedelta(days=INVITATION_DAYS)
    session.add(StaffInvitation(user_id=user.id, token_hash=_hash(token), created_at=now, created_by=actor[:100],
                                expires_at=expires))
    inviter = session.scalars(select(User.display_name).where(User.username == actor)).one_or_none()
    queue_staff_email(session, now, "staff_invitation", user,
                      {"path": INVITATION_PATH + token, "expires_at": expires, "invited_by": inviter or actor,
                       "username": user.username}, base_url, in_app=False)
    session.add(AuditEvent(at=now, actor=actor[:100], action="user.invited",
                           data={"user": user.username, "expires_at": expires.isoformat()}))
    session.flush()
    return token


def open_invitation(session: Session, now: datetime, token: str) -> tuple[StaffInvitation, User]:
    """The unused, unexpired invitation of an active user that ``token`` stands for; else NotFound (404)."""
    found = None
    if token and len(token) <= 100:
        found = session.execute(select(StaffInvitation, User).join(User, User.id == StaffInvitation.user_id)
                                .where(StaffInvitation.token_hash == _hash(token))).one_or_none()
    if found is None:
        raise NotFound("This invitation link is not right: check you copied all of it")
    invitation, user = found
    if invitation.used_at is not None or invitation.expires_at <= now or not user.active:
        raise NotFound("This invitation link has expired or has been used: ask your administrator for a new one")
    return invitation, user


def accept(session: Session, clock: Clock, hasher: PasswordHasher, token: str, password: str,
           confirm: str) -> User:
    """Set the invited user's password (the project's password rules) and use up the link."""
    now = clock.now()
    invitation, user = open_invitation(session, now, token)
    problems = password_problems(password or "", user.username, user.display_name, user.email)[:1]
    if not problems and password != confirm:
        problems = ["The passwords do not match: type the same password twice"]
    if problems:
        raise InvalidData({"password": problems}, problems[0])
    used = session.execute(update(StaffInvitation).where(StaffInvitation.id == invitation.id,
                                                         StaffInvitation.used_at.is_(None))
                           .values(used_at=now).execution_options(synchronize_session=False))
    if getattr(used, "rowcount", 0) != 1:  # the same link, used at the same moment in another browser
        raise Conflict("This invitation link has just been used: sign in with the password chosen")
    user.set_password(password, hasher)
    user.must_change_password = False
    session.add(AuditEvent(at=now, actor=user.username[:100], action="user.invitation_accepted",
                           data={"user": user.username}))
    session.flush()
    return user


def has_open_invitation(session: Session, now: datetime, user_id: int) -> bool:
    return session.scalars(select(StaffInvitation.id).where(
        StaffInvitation.user_id == user_id, StaffInvitation.used_at.is_(None),
        StaffInvitation.expires_at > now).limit(1)).first() is not None
