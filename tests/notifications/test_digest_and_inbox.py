"""The daily digest (held messages, one email next morning, never twice) and the in-app list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Forbidden, NotFound
from notifications.delivery import deliver_pending
from notifications.digest import send_daily_digests
from notifications.inbox import InAppInbox
from notifications.models import OutboxMessage
from notifications.notifier import Notifier
from notifications.preferences import set_preference
from tests.notifications.conftest import SmtpServer, UserDirectory, task_context

pytestmark = pytest.mark.usefixtures("people")


def tell(factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, username: str,
         title: str) -> None:
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_assigned", task_context(task_title=title),
                                                   to_usernames=[username])


def states(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with factory() as session:
        return [(r.recipient_username, r.name, r.state)
                for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_held_messages_go_out_as_one_digest_next_morning_and_never_twice(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    with unit_of_work(factory) as session:
        set_preference(session, "dora", "daily_digest", 7)
    for title in ("Review the PEP", "Sign the PEP", "Book the PEP meeting"):
        tell(factory, clock, directory, "dora", title)
        clock.advance(timedelta(hours=2))
    mailer = smtp.mailer()
    assert deliver_pending(factory, clock, mailer).sent == 0  # held: not sent one by one
    assert send_daily_digests(factory, clock, mailer).digests == 0  # Tuesday's 7am has passed: wait for Wednesday
    clock.set(datetime(2026, 12, 2, 6, 59, tzinfo=UTC))
    assert send_daily_digests(factory, clock, mailer).digests == 0
    assert smtp.handler.messages == []
    clock.set(datetime(2026, 12, 2, 7, 5, tzinfo=UTC))
    report = send_daily_digests(factory, clock, mailer)
    assert (report.digests, report.messages, report.delivered) == (1, 3, 1)
    [received] = smtp.handler.messages
    assert received["rcpt_tos"] == ["dora@school.example"]
    email = received["message"]
    assert email["Subject"] == "Virtual School digest for Wednesday 2 December 2026: 3 messages"
    text = email.get_body(("plain",)).get_content()
    for title in ("Review the PEP", "Sign the PEP", "Book the PEP meeting"):
        assert f"New task for Amy Example (C-1001): {title}" in text
    assert states(factory) == [("dora", "task_assigned", "sent")] * 3 + [("dora", "daily_digest", "sent")]
    clock.advance(timedelta(hours=3))
    assert send_daily_digests(factory, clock, mailer).digests == 0
    assert deliver_pending(factory, clock, mailer).sent == 0
    assert len(smtp.handler.messages) == 1


def test_a_message_held_after_the_days_digest_waits_for_the_next_one(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    with unit_of_work(factory) as session:
        set_preference(session, "sam", "daily_digest", 8)
    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    tell(factory, clock, directory, "sam", "First")
    clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert send_daily_digests(factory, clock, smtp.mailer()).messages == 1
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    tell(factory, clock, directory, "sam", "Second")
    assert send_daily_digests(factory, clock, smtp.mailer()).digests == 0
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    assert send_daily_digests(factory, clock, smtp.mailer()).messages == 1
    subjects = [m["message"]["Subject"] for m in smtp.handler.messages]
    assert subjects == ["Virtual School digest for Tuesday 1 December 2026: 1 message",
                        "Virtual School digest for Wednesday 2 December 2026: 1 message"]


def test_a_digest_that_cannot_be_sent_is_retried_like_any_email(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    with unit_of_work(factory) as session:
        set_preference(session, "dora", "daily_digest", 7)
    tell(factory, clock, directory, "dora", "Review the PEP")
    smtp.stop()
    clock.set(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert send_daily_digests(factory, clock, smtp.mailer()).delivered == 0
    assert send_daily_digests(factory, clock, smtp.mailer()).digests == 0
    smtp.start()
    clock.advance(timedelta(minutes=1))
    assert deliver_pending(factory, clock, smtp.mailer()).sent == 1
    assert len(smtp.handler.messages) == 1


def test_the_in_app_list_counts_unread_and_marks_read(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    for title in ("One", "Two", "Three"):
        tell(factory, clock, directory, "sam", title)
        clock.advance(timedelta(minutes=1))
    tell(factory, clock, directory, "sid", "Not Sam's")
    with unit_of_work(factory) as session:
        inbox = InAppInbox(session, clock)
        assert inbox.unread_count("sam") == 3
        newest, middle, oldest = inbox.list("sam")
        assert "Three" in newest.subject and "One" in oldest.subject
        assert inbox.mark_read("sam", middle.id).read_at == clock.now()
    with unit_of_work(factory) as session:
        inbox = InAppInbox(session, clock)
        assert inbox.unread_count("sam") == 2
        assert [m.id for m in inbox.list("sam", unread_only=True)] == [newest.id, oldest.id]
        assert inbox.mark_all_read("sam") == 2
        assert inbox.unread_count("sam") == 0 and inbox.unread_count("sid") == 1


def test_someone_elses_message_cannot_be_marked_read_and_a_missing_one_is_not_found(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    tell(factory, clock, directory, "sid", "For Sid")
    with unit_of_work(factory) as session:
        inbox = InAppInbox(session, clock)
        [message] = inbox.list("sid")
        with pytest.raises(Forbidden):
            inbox.mark_read("sam", message.id)
        with pytest.raises(NotFound):
            inbox.mark_read("sam", message.id + 1000)
        assert inbox.unread_count("sid") == 1
