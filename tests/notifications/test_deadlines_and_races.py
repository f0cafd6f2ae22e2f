"""Due-soon and overdue notifications from the engine's task table; delivery workers racing."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from notifications.deadlines import notify_task, notify_task_deadlines
from notifications.delivery import deliver_pending
from notifications.models import OutboxMessage
from notifications.notifier import Notifier
from tests.notifications.conftest import SmtpServer, UserDirectory, task_context

pytestmark = pytest.mark.usefixtures("people")
CALENDAR = BusinessCalendar()


def open_task(factory: sessionmaker[Session], clock: FrozenClock, task_id: str, due_at: datetime | None,
              role: str = "social_worker", assignee: str | None = None, key: str = "C-1001") -> None:
    with unit_of_work(factory) as session:
        definition = session.scalar(select(ProcessDefinition))
        if definition is None:
            definition = ProcessDefinition(process_id="pep_review", name="PEP review", version=1,
                                           content_sha256="0" * 64, filename="pep_review.bpmn", bpmn_xml="<x/>",
                                           deployed_at=clock.now(), deployed_by="admin")
            session.add(definition)
            session.flush()
        instance = ProcessInstance(definition_id=definition.id, process_id="pep_review", business_key=key,
                                   status="running", version=1, state_format=1, state="{}",
                                   started_at=clock.now(), started_by="sam", updated_at=clock.now())
        session.add(instance)
        session.flush()
        session.add(HumanTask(id=task_id, instance_id=instance.id, process_id="pep_review", business_key=key,
                              element_id="review", title="Review the PEP", role=role, state="open",
                              assignee=assignee, due_at=due_at, created_at=clock.now()))


def sent(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        return [(r.name, r.recipient_username)
                for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_task_due_within_the_lead_working_days_is_due_soon_once_and_overdue_once_it_passes(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    # Tuesday 09:00: due Monday 7 December is 4 working days away; due Thursday is 2.
    open_task(factory, clock, "t-thu", datetime(2026, 12, 3, 17, tzinfo=UTC))
    open_task(factory, clock, "t-mon", datetime(2026, 12, 7, 17, tzinfo=UTC), assignee="dora")
    open_task(factory, clock, "t-none", None)
    report = notify_task_deadlines(factory, clock, directory, CALENDAR)
    assert (report.due_soon, report.overdue) == (1, 0)
    assert sent(factory) == [("task_due_soon", "sam")]  # the role's holder allocated to C-1001
    assert notify_task_deadlines(factory, clock, directory, CALENDAR).due_soon == 0  # not twice
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))  # Thursday: Monday is 2 working days away
    assert notify_task_deadlines(factory, clock, directory, CALENDAR).due_soon == 1
    clock.set(datetime(2026, 12, 3, 17, 1, tzinfo=UTC))
    assert notify_task_deadlines(factory, clock, directory, CALENDAR).overdue == 1
    assert notify_task_deadlines(factory, clock, directory, CALENDAR).overdue == 0
    assert sent(factory) == [("task_due_soon", "sam"), ("task_due_soon", "dora"), ("task_overdue", "sam")]


def test_the_lead_time_is_the_authoritys_setting_per_child(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    open_task(factory, clock, "t-1", datetime(2026, 12, 7, 17, tzinfo=UTC), key="C-1001")
    open_task(factory, clock, "t-2", datetime(2026, 12, 7, 17, tzinfo=UTC), key="C-1002")
    leads = {"C-1001": 5, "C-1002": 1}
    report = notify_task_deadlines(factory, clock, directory, CALENDAR,
                                   lead_working_days=lambda session, key: leads[key])
    assert report.due_soon == 1 and sent(factory) == [("task_due_soon", "sam")]


def test_a_bank_holiday_does_not_count_as_a_working_day_of_lead_time(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    # Wednesday 23 December to Tuesday 29th: Thursday 24th and Tuesday 29th are the only working days
    # (Christmas on Friday, Boxing Day's substitute on Monday 28th), so a 2-working-day lead reaches it.
    clock.set(datetime(2026, 12, 23, 9, tzinfo=UTC))
    open_task(factory, clock, "t-1", datetime(2026, 12, 29, 17, tzinfo=UTC))
    assert notify_task_deadlines(factory, clock, directory, CALENDAR, lead_working_days=1).due_soon == 0
    assert notify_task_deadlines(factory, clock, directory, CALENDAR, lead_working_days=2).due_soon == 1


def test_the_lead_time_counts_to_the_last_day_of_a_deadline_that_is_overdue_from_midnight(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    # Overdue from midnight starting Tuesday 8 December: the last day is Monday 7th, which from
    # Thursday 3rd is 2 working days away (Friday, Monday), so a 2-day lead reminds today.
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))
    open_task(factory, clock, "t-1", datetime(2026, 12, 8, tzinfo=UTC))
    assert notify_task_deadlines(factory, clock, directory, CALENDAR, lead_working_days=1).due_soon == 0
    assert notify_task_deadlines(factory, clock, directory, CALENDAR, lead_working_days=2).due_soon == 1


def test_notify_task_tells_the_assignee_rather_than_the_whole_role(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory
) -> None:
    open_task(factory, clock, "t-1", None, role="social_worker", assignee="sid", key="C-1001")
    with unit_of_work(factory) as session:
        task = session.get(HumanTask, "t-1")
        assert task is not None
        assert notify_task(Notifier(session, clock, directory), "task_assigned", task, "Amy Example") == 1
    assert sent(factory) == [("task_assigned", "sid")]


def race_workers(factory: sessionmaker[Session], clock: FrozenClock, smtp: SmtpServer, workers: int) -> None:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            deliver_pending(factory, clock, smtp.mailer())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def queue_many(factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, n: int) -> None:
    with unit_of_work(factory) as session:
        notifier = Notifier(session, clock, directory)
        for i in range(n):
            notifier.notify("task_assigned", task_context(task_title=f"Task {i}"), to_usernames=["sam", "dora"])


@pytest.mark.postgres_only
def test_delivery_workers_racing_on_postgresql_send_each_message_exactly_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    from tests.conftest import on_postgres

    assert on_postgres(), "run with VSW_TEST_DATABASE_URL pointing at PostgreSQL"
    queue_many(factory, clock, directory, 30)
    race_workers(factory, clock, smtp, workers=4)
    with factory() as session:
        ids = [r.message_id for r in session.scalars(select(OutboxMessage))]
        assert {r.state for r in session.scalars(select(OutboxMessage))} == {"sent"}
    assert Counter(smtp.handler.message_ids()) == Counter({mid: 1 for mid in ids}) and len(ids) == 60


def test_two_delivery_workers_racing_on_either_database_send_each_message_once(
    factory: sessionmaker[Session], clock: FrozenClock, directory: UserDirectory, smtp: SmtpServer
) -> None:
    queue_many(factory, clock, directory, 5)
    race_workers(factory, clock, smtp, workers=2)
    clock.advance(timedelta(hours=1))
    deliver_pending(factory, clock, smtp.mailer())
    with factory() as session:
        ids = [r.message_id for r in session.scalars(select(OutboxMessage))]
    assert Counter(smtp.handler.message_ids()) == Counter({mid: 1 for mid in ids}) and len(ids) == 10
