"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): arrival, outages, retries, dead letters."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict
from notifications.delivery import backoff, dead_letters, deliver_pending, retry_dead
from notifications.mailer import DisabledMailer, LogMailer, SmtpMailer, SmtpSettings, make_mailer
from notifications.models import OutboxMessage
from notifications.notifier import Notifier
from tests.notifications.conftest import SmtpServer, UserDirectory, task_context

pytestmark = pytest.mark.usefixtures("people")


def queue(factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, *usernames: str,
          title: str = "Review the PEP") -> None:
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_assigned", task_context(task_title=title),
                                                   to_usernames=usernames)


def rows(factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_mail_arrives_with_the_right_recipient_subject_text_html_and_message_id(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    queue(factory, clock, directory, "dora")
    report = deliver_pending(factory, clock, smtp.mailer())
    assert (report.sent, report.failed) == (1, 0)
    [row] = rows(factory)
    assert (row.state, row.sent_at, row.attempts) == ("sent", clock.now(), 1)
    [received] = smtp.handler.messages
    assert received["rcpt_tos"] == ["dora@school.example"]
    assert received["mail_from"] == "vsw@la.example"
    email = received["message"]
    assert email["To"] == "Dora Teacher <dora@school.example>"
    assert email["Subject"] == "New task for Amy Example (C-1001): Review the PEP"
    assert email["Message-ID"] == row.message_id
    assert email["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "A task is waiting for you: Review the PEP, for Amy Example (C-1001)." in text
    assert "due by Thursday 3 December 2026" in text
    assert '<a href="http://localhost:5000/tasks/t-1"' in html and "<strong>Review the PEP</strong>" in html


def test_a_sent_message_is_not_sent_again_by_the_next_run(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    queue(factory, clock, directory, "sam")
    deliver_pending(factory, clock, smtp.mailer())
    clock.advance(timedelta(hours=1))
    assert deliver_pending(factory, clock, smtp.mailer()).sent == 0
    assert len(smtp.handler.messages) == 1


def test_with_the_server_down_for_a_while_nothing_is_lost_and_each_message_arrives_exactly_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    smtp.stop()
    for i in range(5):
        queue(factory, clock, directory, "sam", "dora", title=f"Task {i}")
    mailer = smtp.mailer()
    waits = []
    for attempt in range(1, 5):  # four failed rounds, each after the previous backoff
        report = deliver_pending(factory, clock, mailer)
        assert (report.sent, report.failed, report.dead) == (0, 10, 0)
        current = rows(factory)
        assert {(r.state, r.attempts) for r in current} == {("pending", attempt)}
        assert "ConnectionRefusedError" in (current[0].last_error or "")
        waits.append(current[0].next_attempt_at - clock.now())
        assert deliver_pending(factory, clock, mailer).failed == 0  # not due again before the backoff ends
        clock.advance(waits[-1])
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    smtp.start()  # the same port, up again
    report = deliver_pending(factory, clock, mailer)
    assert (report.sent, report.failed) == (10, 0)
    clock.advance(timedelta(days=1))
    assert deliver_pending(factory, clock, mailer).sent == 0
    sent_ids = {r.message_id for r in rows(factory)}
    assert all(r.state == "sent" for r in rows(factory)) and len(sent_ids) == 10
    assert Counter(smtp.handler.message_ids()) == Counter({mid: 1 for mid in sent_ids})


def test_the_backoff_doubles_from_a_minute_and_stops_growing_at_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3, 9, 10, 50)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=256),
        timedelta(hours=6), timedelta(hours=6)]


def test_after_max_attempts_a_message_is_dead_lettered_listed_and_can_be_requeued(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    smtp.stop()
    queue(factory, clock, directory, "vera")
    mailer = smtp.mailer()
    outcomes = []
    for _ in range(3):
        report = deliver_pending(factory, clock, mailer, max_attempts=3)
        outcomes.append((report.failed, report.dead))
        clock.advance(timedelta(hours=6))
    assert outcomes == [(1, 0), (1, 0), (0, 1)]
    with factory() as session:
        [dead] = dead_letters(session)
        assert (dead.state, dead.attempts, dead.recipient_username) == ("dead", 3, "vera")
        assert "ConnectionRefusedError" in (dead.last_error or "")
    assert deliver_pending(factory, clock, mailer, max_attempts=3).failed == 0  # dead letters are left alone
    smtp.start()
    with unit_of_work(factory) as session:
        retry_dead(session, dead.id, clock)
    assert deliver_pending(factory, clock, mailer, max_attempts=3).sent == 1
    assert smtp.handler.message_ids() == [dead.message_id]
    with factory() as session:
        assert dead_letters(session).items == []
        with pytest.raises(Conflict, match="only dead letters"):
            retry_dead(session, dead.id, clock)


def test_a_recipient_the_server_refuses_permanently_is_dead_lettered_at_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    async def refuse(server: object, session: object, envelope: object, address: str, options: list[str]) -> str:
        return "550 No such mailbox"

    smtp.handler.handle_RCPT = refuse  # type: ignore[attr-defined]
    queue(factory, clock, directory, "sam")
    assert deliver_pending(factory, clock, smtp.mailer()).dead == 1
    [row] = rows(factory)
    assert row.state == "dead" and "550" in (row.last_error or "")


def test_with_no_mail_server_configured_email_stays_queued_and_nothing_fails(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    queue(factory, clock, directory, "sam")
    mailer = make_mailer("disabled")
    assert isinstance(mailer, DisabledMailer)
    report = deliver_pending(factory, clock, mailer)
    assert report.disabled and report.sent == report.failed == 0
    assert [(r.state, r.attempts) for r in rows(factory)] == [("pending", 0)]


def test_the_log_backend_counts_mail_as_sent_for_the_demo(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    queue(factory, clock, directory, "sam")
    mailer = make_mailer("log")
    assert isinstance(mailer, LogMailer)
    assert deliver_pending(factory, clock, mailer).sent == 1
    assert [m.to_email for m in mailer.sent] == ["sam@la.example"]


def test_the_smtp_backend_sends_with_the_settings_it_is_given() -> None:
    settings = SmtpSettings("smtp.la.example", 587, "starttls", "vsw", "pw", "VSW <vsw@la.example>", 12.5)
    mailer = make_mailer("smtp", settings)
    assert isinstance(mailer, SmtpMailer) and mailer.settings == settings


def test_an_unknown_mail_backend_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown mail backend 'pigeon': use smtp, log, disabled"):
        make_mailer("pigeon")
