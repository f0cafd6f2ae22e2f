"""Delivering the outbox: the scheduler job, its retries, and the dead letters.

Each message is handled in three short steps, none holding a transaction open while the mail
server is talked to:

1. **claim** (one transaction): the row is still ``pending`` and due; on PostgreSQL it is locked with
   ``FOR UPDATE SKIP LOCKED`` so another worker passes it by. ``attempts`` goes up by one and
   ``next_attempt_at`` moves forward by a lease, so no other worker picks it up while it is sent;
2. **send** through the mailer, with the row's own ``Message-ID``;
3. **record** (one transaction): ``sent``; or, on failure, the error, and the next attempt after an
   exponential backoff (1 minute × 2^(attempt-1), at most 6 hours); after ``max_attempts`` (or an error
   the server says is permanent) the row is ``dead``.

Delivery is at-least-once: if a worker dies between 2 and 3, the lease runs out and the message is
sent again *with the same Message-ID*, which the receiving side can use to drop the duplicate.
Nothing is ever lost: a row leaves ``pending`` only as ``sent`` or ``dead``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.audit import AuditLog
from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound
from engine.paging import PAGE_SIZE, Page, fetch_page

from .errors import MailError
from .mailer import Mailer, OutgoingMail
from .models import OutboxMessage

log = logging.getLogger("vsw.notifications.delivery")

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_LEASE = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, 8 … minutes, never more than 6 hours."""
    if attempts < 1:
        return timedelta(0)
    return min(BACKOFF_BASE * (1 << min(attempts - 1, 30)), BACKOFF_CAP)  # 1 << n is 2 ** n, typed int


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    disabled: bool = False


def due_message_ids(session: Session, as_of: datetime, limit: int) -> list[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == "pending", OutboxMessage.channel == "email",
               OutboxMessage.next_attempt_at <= as_of)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _claim(session: Session, message_pk: int, as_of: datetime, lease: timedelta) -> OutgoingMail | None:
    due = (OutboxMessage.id == message_pk, OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= as_of)
    if session.get_bind().dialect.name == "postgresql":
        if session.scalar(select(OutboxMessage.id).where(*due).with_for_update(skip_locked=True)) is None:
            return None
    # On SQLite this UPDATE takes the database's write lock and re-reads the row: the claim is atomic.
    result = session.execute(
        update(OutboxMessage).where(*due)
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=as_of + lease)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.execute(select(OutboxMessage).where(OutboxMessage.id == message_pk)).scalar_one()
    session.refresh(row)
    return OutgoingMail(message_id=row.message_id, to_email=row.recipient_email, to_name=row.recipient_name,
                        subject=row.subject, text=row.text, html=row.html, date=row.created_at)


def deliver_one(
    factory: sessionmaker[Session], clock: Clock, mailer: Mailer, message_pk: int, *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta = DEFAULT_LEASE,
) -> str:
    """Claim, send and record one message: 'sent', 'failed', 'dead' or 'skipped' (not due, or taken)."""
    as_of = clock.now()
    with unit_of_work(factory) as session:
        mail = _claim(session, message_pk, as_of, lease)
    if mail is None:
        return "skipped"
    try:
        mailer.send(mail)
    except MailError as exc:
        return _record_failure(factory, clock, message_pk, exc, max_attempts)
    with unit_of_work(factory) as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_pk, OutboxMessage.state == "pending")
            .values(state="sent", sent_at=clock.now(), next_attempt_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    return "sent"


def _record_failure(
    factory: sessionmaker[Session], clock: Clock, message_pk: int, exc: MailError, max_attempts: int
) -> str:
    now = clock.now()
    with unit_of_work(factory) as session:
        row = session.get(OutboxMessage, message_pk)
        if row is None or row.state != "pending":
            return "skipped"
        row.last_error = str(exc)[:2000]
        if exc.permanent or row.attempts >= max_attempts:
            row.state = "dead"
            log.error("outbox message %s to %s is dead after %s attempts: %s",
                      row.message_id, row.recipient_email, row.attempts, row.last_error)
            return "dead"
        row.next_attempt_at = now + backoff(row.attempts)
        log.warning("outbox message %s to %s failed (attempt %s), next at %s: %s",
                    row.message_id, row.recipient_email, row.attempts, row.next_attempt_at, row.last_error)
        return "failed"


def deliver_pending(
    factory: sessionmaker[Session], clock: Clock, mailer: Mailer, *,
    batch: int = 100, max_attempts: int = DEFAULT_MAX_ATTEMPTS, lease: timedelta = DEFAULT_LEASE,
) -> DeliveryReport:
    """The scheduler job: send up to ``batch`` due emails, each in its own transactions."""
    report = DeliveryReport()
    if not getattr(mailer, "enabled", True):
        log.info("email delivery is disabled: pending emails stay queued")
        report.disabled = True
        return report
    with factory() as session:
        ids = due_message_ids(session, clock.now(), batch)
    for message_pk in ids:
        outcome = deliver_one(factory, clock, mailer, message_pk, max_attempts=max_attempts, lease=lease)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def dead_letters(session: Session, page: int = 1, per_page: int = PAGE_SIZE) -> Page[OutboxMessage]:
    """One page of dead-lettered emails for the admin screen, newest first."""
    query = (select(OutboxMessage).where(OutboxMessage.state == "dead")
             .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    return fetch_page(session, query, page, per_page)


def dead_count(session: Session) -> int:
    """How many emails are dead-lettered (``ix_outbox_state_created``)."""
    return int(session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.state == "dead")) or 0)


def retry_dead(session: Session, message_pk: int, clock: Clock, actor: str = "system") -> OutboxMessage:
    """Put a dead letter back in the queue, due now, with a fresh count of attempts; audited as
    ``dead_letter_retried`` by ``actor`` (with the attempts and the last error it had). Flushes only."""
    row = dead_letter(session, message_pk, "re-queued")
    attempts, error = row.attempts, row.last_error
    row.state, row.attempts, row.next_attempt_at = "pending", 0, clock.now()
    session.flush()
    _audit(session, clock, actor, "dead_letter_retried", row, {"attempts": attempts, "last_error": error})
    return row


REASON_LIMIT = 500
"""The longest reason for giving up on an email."""


def cancel_dead(session: Session, message_pk: int, clock: Clock, actor: str, reason: str) -> OutboxMessage:
    """Give up on a dead letter: it is ``cancelled`` (never sent, no longer listed); audited as
    ``dead_letter_cancelled`` with who, when and ``reason``. Flushes only.

    Raises InvalidData naming ``reason`` if it is empty or too long, NotFound, or Conflict if the message is
    not dead (someone sent or cancelled it first)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData({"reason": ["Enter why you are cancelling this email"]},
                          "Enter why you are cancelling this email")
    if len(reason) > REASON_LIMIT:
        raise InvalidData({"reason": [f"must be {REASON_LIMIT} characters or fewer"]},
                          f"The reason must be {REASON_LIMIT} characters or fewer")
    row = dead_letter(session, message_pk, "cancelled")
    row.state, row.next_attempt_at = "cancelled", clock.now()
    session.flush()
    _audit(session, clock, actor, "dead_letter_cancelled", row,
           {"reason": reason, "attempts": row.attempts, "last_error": row.last_error})
    return row


def dead_letter(session: Session, message_pk: int, verb: str = "cancelled") -> OutboxMessage:
    """One dead letter; NotFound if there is no such message, Conflict if it is not dead (any more)."""
    row = session.get(OutboxMessage, message_pk, populate_existing=True)
    if row is None:
        raise NotFound(f"There is no outbox message {message_pk}")
    if row.state != "dead":
        raise Conflict(f"Outbox message {message_pk} is {row.state}, not dead: only dead letters are {verb}")
    return row


def _audit(session: Session, clock: Clock, actor: str, action: str, row: OutboxMessage,
           details: dict[str, Any]) -> None:
    """The audit trail's entry for an administrator's decision about a dead letter (no instance)."""
    AuditLog(session).record(clock.now(), actor, action, data={
        "message": row.id, "message_id": row.message_id, "name": row.name, "recipient": row.recipient_username,
        "email": row.recipient_email, "subject": row.subject, **details})
