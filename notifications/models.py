"""The notification tables: the outbox, the in-app list and each person's preference.

Rows are written in the caller's transaction (services flush; the unit of work commits),
so a message exists exactly when the step that caused it committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base

EMAIL_MODES = ("immediate", "daily_digest")
STATES = ("pending", "sent", "dead", "digest", "cancelled")


class OutboxMessage(Base):
    """One email to one person, rendered when queued so delivery never needs the domain.

    ``state``: ``pending`` (waiting for the delivery job), ``sent``, ``dead`` (dead-lettered
    after too many failures), ``digest`` (held for the person's daily digest) or ``cancelled`` (a dead
    letter an administrator gave up on, with a reason: never sent).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt", "state", "next_attempt_at"),
        Index("ix_outbox_recipient_state", "recipient_username", "state"),
        Index("ix_outbox_state_created", "state", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)  # RFC 5322 "<uuid@vsw>"
    dedupe_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    recipient_username: Mapped[str] = mapped_column(String(100))
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(1000), default="")
    channel: Mapped[str] = mapped_column(String(20), default="email")
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class InAppMessage(Base):
    """One line in a person's in-app notification list."""

    __tablename__ = "in_app_message"
    __table_args__ = (
        Index("ix_in_app_username_read", "username", "read_at"),
        Index("ix_in_app_username_created", "username", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    username: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class NotificationPreference(Base):
    """How a person wants email: each message at once, or one digest a day at ``digest_hour`` (UK time)."""

    __tablename__ = "notification_preference"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    email_mode: Mapped[str] = mapped_column(String(20), default="immediate")
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)
