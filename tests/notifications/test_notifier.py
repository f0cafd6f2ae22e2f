"""Queueing: recipients by name or by role and child, one in-app and one outbox row each, in the caller's
transaction, once per dedupe key, held for the digest by preference."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData
from notifications.errors import NotificationError
from notifications.models import InAppMessage, OutboxMessage
from notifications.notifier import Notifier
from notifications.preferences import get_preference, set_preference
from tests.notifications.conftest import UserDirectory, task_context

pytestmark = pytest.mark.usefixtures("people")


def outbox(factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_notification_to_a_named_person_writes_one_in_app_row_and_one_pending_email(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        queued = Notifier(session, clock, directory).notify("task_assigned", task_context(), to_usernames=["dora"])
    assert [p.username for p in queued] == ["dora"]
    [row] = outbox(factory)
    assert (row.recipient_email, row.state, row.attempts, row.next_attempt_at) == (
        "dora@school.example", "pending", 0, clock.now())
    assert row.message_id.startswith("<") and row.message_id.endswith("@vsw>")
    assert row.subject == "New task for Amy Example (C-1001): Review the PEP"
    with factory() as session:
        [note] = session.scalars(select(InAppMessage)).all()
    assert (note.username, note.subject, note.link, note.read_at) == (
        "dora", row.subject, "http://localhost:5000/tasks/t-1", None)


def test_a_role_reaches_only_the_holders_who_may_see_that_child(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_overdue", task_context(), to_role="social_worker",
                                                   business_key="C-1001")
    assert [r.recipient_username for r in outbox(factory)] == ["sam"]


def test_a_person_named_and_also_holding_the_role_is_told_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("escalation_raised", task_context(reason="No place"),
                                                   to_usernames=["max", "vera"], to_role="manager")
    assert sorted(r.recipient_username for r in outbox(factory)) == ["max", "vera"]


def test_an_unknown_username_is_skipped_and_the_others_are_still_told(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        queued = Notifier(session, clock, directory).notify("task_assigned", task_context(),
                                                            to_usernames=["nobody", "sam"])
    assert [p.username for p in queued] == ["sam"]
    assert [r.recipient_username for r in outbox(factory)] == ["sam"]


def test_the_same_event_twice_with_a_dedupe_key_queues_one_message(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    for _ in range(2):
        with unit_of_work(factory) as session:
            Notifier(session, clock, directory).notify("task_due_soon", task_context(), to_usernames=["sam"],
                                                       dedupe_key="task_due_soon:t-1")
    with unit_of_work(factory) as session:  # and twice in one transaction
        notifier = Notifier(session, clock, directory)
        second = notifier.notify("task_due_soon", task_context(), to_usernames=["sam"], dedupe_key="task_due_soon:t-1")
        third = notifier.notify("task_due_soon", task_context(), to_usernames=["sam"], dedupe_key="task_due_soon:t-1")
    assert (second, third) == ([], [])
    [row] = outbox(factory)
    assert row.dedupe_key == "task_due_soon:t-1:sam"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(InAppMessage)) == 1


def test_a_new_recipient_of_an_already_queued_event_is_still_told(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_overdue", task_context(), to_usernames=["sam"],
                                                   dedupe_key="task_overdue:t-1")
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_overdue", task_context(), to_usernames=["sam", "max"],
                                                   dedupe_key="task_overdue:t-1")
    assert [r.recipient_username for r in outbox(factory)] == ["sam", "max"]


def test_when_the_callers_unit_of_work_rolls_back_no_outbox_or_in_app_row_exists(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with pytest.raises(RuntimeError, match="the step failed"), unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_assigned", task_context(), to_usernames=["sam"])
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # written, not committed
        raise RuntimeError("the step failed")
    assert outbox(factory) == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(InAppMessage)) == 0


def test_a_person_who_chose_the_daily_digest_has_the_email_held_but_sees_it_in_app_at_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with unit_of_work(factory) as session:
        set_preference(session, "dora", "daily_digest", 8)
    with unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_assigned", task_context(), to_usernames=["dora", "sam"])
    assert {r.recipient_username: r.state for r in outbox(factory)} == {"dora": "digest", "sam": "pending"}
    with factory() as session:
        assert session.scalar(select(func.count()).where(InAppMessage.username == "dora")) == 1


def test_an_unknown_notification_is_refused_before_anything_is_written(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    with pytest.raises(NotificationError, match="Unknown notification"), unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_lost", task_context(), to_usernames=["sam"])
    assert outbox(factory) == []


def test_a_missing_context_key_is_refused_naming_the_key(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    context = task_context()
    del context["task_title"]
    with pytest.raises(NotificationError, match="needs task_title"), unit_of_work(factory) as session:
        Notifier(session, clock, directory).notify("task_assigned", context, to_usernames=["sam"])


def test_the_preference_defaults_to_immediate_at_seven_and_can_be_changed(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        assert (get_preference(session, "sam").email_mode, get_preference(session, "sam").digest_hour) == (
            "immediate", 7)
        set_preference(session, "sam", "daily_digest", 6)
    with unit_of_work(factory) as session:
        assert (get_preference(session, "sam").email_mode, get_preference(session, "sam").digest_hour) == (
            "daily_digest", 6)
        set_preference(session, "sam", "immediate", 6)
    with factory() as session:
        assert get_preference(session, "sam").email_mode == "immediate"


@pytest.mark.parametrize(
    ("mode", "hour", "field"),
    [("weekly", 7, "email_mode"), ("immediate", 24, "digest_hour"), ("immediate", -1, "digest_hour"),
     ("daily_digest", "seven", "digest_hour")],
)
def test_a_bad_preference_is_refused_naming_the_field(
    factory: sessionmaker[Session], mode: str, hour: int, field: str
) -> None:
    with factory() as session, pytest.raises(InvalidData) as refused:
        set_preference(session, "sam", mode, hour)
    assert list(refused.value.errors) == [field]
