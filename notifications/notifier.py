"""Queueing a named notification: recipients resolved, rendered, written in the caller's transaction.

One in-app row and one outbox row per recipient; the outbox row is ``pending`` (the delivery job
sends it) or ``digest`` (held for the person's daily digest). Nothing is committed here: the
unit of work that caused the notification commits it, or rolls it back with everything else.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine.clock import Clock

from .catalogue import notification_type, render
from .directory import Directory, Recipient
from .models import InAppMessage, OutboxMessage
from .preferences import get_preference
from .store import insert_once

log = logging.getLogger("vsw.notifications")


def new_message_id() -> str:
    """An RFC 5322 Message-ID, stable for the life of the outbox row."""
    return f"<{uuid.uuid4()}@vsw>"


class Notifier:
    def __init__(self, session: Session, clock: Clock, directory: Directory, *, base_url: str | None = None) -> None:
        self.session, self.clock, self.directory, self.base_url = session, clock, directory, base_url

    def recipients(
        self, to_usernames: Iterable[str] = (), to_role: str | None = None, business_key: str | None = None
    ) -> list[Recipient]:
        """The named people and the role's holders for this child, each once, in a stable order."""
        found: dict[str, Recipient] = {}
        for username in to_usernames:
            person = self.directory.person(self.session, username)
            if person is None:
                log.warning("notification recipient %r is unknown or inactive; skipped", username)
                continue
            found.setdefault(person.username, person)
        if to_role:
            for person in self.directory.people(self.session, to_role, business_key):
                found.setdefault(person.username, person)
        return list(found.values())

    def notify(
        self,
        name: str,
        context: Mapping[str, Any],
        *,
        to_usernames: Iterable[str] = (),
        to_role: str | None = None,
        business_key: str | None = None,
        dedupe_key: str | None = None,
    ) -> list[Recipient]:
        """Queue ``name`` for every recipient; returns those newly queued (none again for a seen dedupe_key)."""
        notification_type(name)  # an unknown name fails before anything is resolved
        if isinstance(to_usernames, str):
            to_usernames = (to_usernames,)
        queued: list[Recipient] = []
        for person in self.recipients(to_usernames, to_role, business_key):
            if self._queue(name, context, person, dedupe_key):
                queued.append(person)
        return queued

    def _queue(self, name: str, context: Mapping[str, Any], person: Recipient, dedupe_key: str | None) -> bool:
        rendered = render(name, {**context, "recipient": person}, base=self.base_url)
        now = self.clock.now()
        key = None if dedupe_key is None else f"{dedupe_key}:{person.username}"
        added = insert_once(self.session, InAppMessage, {
            "dedupe_key": key, "username": person.username, "name": name, "subject": rendered.subject,
            "text": rendered.text, "link": rendered.link, "created_at": now, "read_at": None,
        })
        if not added:
            return False
        if not person.email:
            log.warning("%s has no email address: %s is in-app only", person.username, name)
            return True
        digest = get_preference(self.session, person.username).email_mode == "daily_digest"
        insert_once(self.session, OutboxMessage, {
            "message_id": new_message_id(), "dedupe_key": key, "name": name,
            "recipient_username": person.username, "recipient_email": person.email,
            "recipient_name": person.display_name, "subject": rendered.subject, "text": rendered.text,
            "html": rendered.html, "link": rendered.link, "channel": "email", "state": "digest" if digest else "pending",
            "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now, "sent_at": None,
        })
        return True
