"""The daily digest: one email a day gathering what was held for people who chose it.

Run by the scheduler (hourly is enough). For each person with held (``digest``) rows, once the UK
time reaches their ``digest_hour``, one ``daily_digest`` outbox row is written — its dedupe key
``digest:<username>:<UK date>`` makes it once per person per day, however many schedulers run — and
the gathered rows are marked sent in the same transaction. A digest gathers what was held up to that
day's digest hour; anything later waits for the next morning's. The digest is then delivered like any
other email (retries, dead letters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.db import unit_of_work

from .catalogue import UK, render
from .delivery import DEFAULT_MAX_ATTEMPTS, deliver_one
from .directory import Recipient
from .mailer import Mailer
from .models import OutboxMessage
from .notifier import new_message_id
from .preferences import get_preference
from .store import insert_once

INBOX_PATH = "/notifications"


@dataclass
class DigestReport:
    digests: int = 0
    messages: int = 0
    delivered: int = 0


def _gather(session: Session, clock: Clock, username: str, base_url: str | None) -> tuple[int, int] | None:
    """Write today's digest for ``username`` if due; (digest row id, messages gathered) or None."""
    now = clock.now()
    local = now.astimezone(UK)
    cutoff = datetime.combine(local.date(), time(get_preference(session, username).digest_hour), tzinfo=UK)
    if now < cutoff:
        return None
    held = list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient_username == username, OutboxMessage.state == "digest",
               OutboxMessage.created_at <= cutoff)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ))
    if not held:
        return None
    last = held[-1]
    recipient = Recipient(username, last.recipient_email, last.recipient_name)
    items = [{"subject": m.subject, "link": m.link, "name": m.name, "created_at": m.created_at} for m in held]
    rendered = render("daily_digest", {"recipient": recipient, "day": local.date(), "items": items,
                                       "path": INBOX_PATH}, base=base_url)
    key = f"digest:{username}:{local.date().isoformat()}"
    message_id = new_message_id()
    added = insert_once(session, OutboxMessage, {
        "message_id": message_id, "dedupe_key": key, "name": "daily_digest",
        "recipient_username": username, "recipient_email": recipient.email, "recipient_name": recipient.display_name,
        "subject": rendered.subject, "text": rendered.text, "html": rendered.html, "link": rendered.link,
        "channel": "email", "state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
        "created_at": now, "sent_at": None,
    })
    if not added:
        return None
    session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in held]), OutboxMessage.state == "digest")
        .values(state="sent", sent_at=now).execution_options(synchronize_session=False)
    )
    digest_pk = session.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id))
    assert digest_pk is not None
    return digest_pk, len(held)


def send_daily_digests(
    factory: sessionmaker[Session], clock: Clock, mailer: Mailer, *,
    base_url: str | None = None, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DigestReport:
    """The scheduler job: write (and try to send) each due person's digest; safe to run as often as you like."""
    report = DigestReport()
    with factory() as session:
        usernames = list(session.scalars(
            select(OutboxMessage.recipient_username).where(OutboxMessage.state == "digest").distinct()
        ))
    for username in sorted(usernames):
        with unit_of_work(factory) as session:
            gathered = _gather(session, clock, username, base_url)
        if gathered is None:
            continue
        digest_pk, count = gathered
        report.digests += 1
        report.messages += count
        if getattr(mailer, "enabled", True):
            outcome = deliver_one(factory, clock, mailer, digest_pk, max_attempts=max_attempts)
            report.delivered += outcome == "sent"
    return report
