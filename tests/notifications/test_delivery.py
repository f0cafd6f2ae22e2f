"""The dead letters' two decisions, each audited: send again, or give up with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import AuditEvent
from notifications.delivery import cancel_dead, dead_letters, deliver_pending, retry_dead
from notifications.mailer import LogMailer
from notifications.models import OutboxMessage


def dead(factory: sessionmaker[Session], clock: FrozenClock, subject: str, state: str = "dead") -> int:
    with unit_of_work(factory) as session:
        row = OutboxMessage(
            message_id=f"<{subject.replace(' ', '-')}@vsw>", name="task_assigned", recipient_username="sam",
            recipient_email="sam@la.example", recipient_name="Sam Social", subject=subject, text="Hello",
            html="<p>Hello</p>", link="", channel="email", state=state, attempts=8,
            next_attempt_at=clock.now(), last_error="550 mailbox unavailable", created_at=clock.now())
        session.add(row)
        session.flush()
        return row.id


def audit(factory: sessionmaker[Session]) -> list[tuple[str, str, dict[str, object]]]:
    with factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action.like("dead_letter_%"))
                               .order_by(AuditEvent.id))
        return [(r.action, r.actor, dict(r.data or {})) for r in rows]


def test_sending_a_dead_letter_again_requeues_it_and_audits_who_did_it_with_the_error_it_had(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    pk = dead(factory, clock, "Your task is overdue")
    with unit_of_work(factory) as session:
        row = retry_dead(session, pk, clock, "ada")
        assert (row.state, row.attempts) == ("pending", 0)
    [(action, actor, data)] = audit(factory)
    assert (action, actor) == ("dead_letter_retried", "ada")
    assert data["message"] == pk and data["attempts"] == 8 and data["last_error"] == "550 mailbox unavailable"
    assert data["subject"] == "Your task is overdue" and data["email"] == "sam@la.example"


def test_cancelling_a_dead_letter_needs_a_reason_and_is_audited_with_who_when_and_why(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    pk = dead(factory, clock, "Your task is overdue")
    for empty in ("", "   "):
        with unit_of_work(factory) as session, pytest.raises(InvalidData) as refused:
            cancel_dead(session, pk, clock, "ada", empty)
        assert "reason" in refused.value.errors
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as too_long:
        cancel_dead(session, pk, clock, "ada", "x" * 501)
    assert "500 characters" in too_long.value.errors["reason"][0]
    assert audit(factory) == []
    clock.advance(timedelta(hours=1))
    with unit_of_work(factory) as session:
        assert cancel_dead(session, pk, clock, "ada", "  Sam has left the authority ").state == "cancelled"
    [(action, actor, data)] = audit(factory)
    assert (action, actor, data["reason"]) == ("dead_letter_cancelled", "ada", "Sam has left the authority")
    with factory() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "dead_letter_cancelled")).one()
        assert event.at == clock.now() and event.instance_id is None
        assert dead_letters(session).items == []
    assert deliver_pending(factory, clock, LogMailer()).sent == 0  # a cancelled email is never sent


def test_only_a_dead_letter_can_be_cancelled_or_sent_again(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    sent = dead(factory, clock, "Already delivered", state="sent")
    pk = dead(factory, clock, "Your task is overdue")
    with unit_of_work(factory) as session:
        cancel_dead(session, pk, clock, "ada", "Not needed")
    for target in (sent, pk):
        with unit_of_work(factory) as session, pytest.raises(Conflict):
            cancel_dead(session, target, clock, "ada", "Again")
        with unit_of_work(factory) as session, pytest.raises(Conflict):
            retry_dead(session, target, clock, "ada")
    with unit_of_work(factory) as session, pytest.raises(NotFound):
        cancel_dead(session, 999_999, clock, "ada", "Gone")
    assert [a for a, _, _ in audit(factory)] == ["dead_letter_cancelled"]
