"""After the scheduler was stopped for three days, every missed timer fires once, in due order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import AuditEvent, TimerRow
from engine.runtime import Runtime
from engine.service import WorkflowService
from scheduler import FIRE_TIMERS, Jobs
from tests.engine.conftest import BPMN, SOCIAL_WORKER

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# begin_at offsets in hours, deliberately not in start order: each start timer is due a day later
OFFSETS = [50, 3, 27, 70, 0, 44, 12, 61, 20, 35]


def start_all(factory, clock, runtime) -> dict[int, datetime]:  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        service = WorkflowService(session, clock, runtime)
        service.deploy_file(BPMN / "timers.bpmn")
        ids = [service.start("timers", f"child-{n}", {"begin_at": (START + timedelta(hours=h)).isoformat()},
                             SOCIAL_WORKER).id for n, h in enumerate(OFFSETS)]
    with factory() as session:
        rows = session.scalars(select(TimerRow).where(TimerRow.instance_id.in_(ids)))
        return {row.instance_id: row.due_at for row in rows}


def fired_instances(factory) -> list[int]:  # type: ignore[no-untyped-def]
    """Instances in the order the audit recorded their timers firing."""
    with factory() as session:
        query = select(AuditEvent.instance_id).where(AuditEvent.action == "timer_fired").order_by(AuditEvent.id)
        return [i for i in session.scalars(query) if i is not None]


def test_timers_missed_over_three_days_of_downtime_each_fire_once_in_due_order_on_restart(factory, clock) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime()
    due = start_all(factory, clock, runtime)
    jobs = Jobs(factory, runtime, clock, batch=3)  # several batches, so the order holds across them
    assert jobs.fire_timers().fired == 0  # the scheduler ran once, then stopped

    clock.advance(timedelta(days=3, hours=23))  # restarted after every start timer came due
    report = jobs.run(FIRE_TIMERS)

    assert (report.fired, report.instances, report.failed) == (len(OFFSETS), len(OFFSETS), 0)
    order = fired_instances(factory)
    assert order == sorted(due, key=lambda i: due[i])
    assert len(set(order)) == len(OFFSETS)
    with factory() as session:
        fired_at = set(session.scalars(select(TimerRow.fired_at).where(TimerRow.element_id == "start")))
    assert fired_at == {clock.now()}  # fired on restart, not back-dated to when each was due
    assert jobs.run(FIRE_TIMERS).fired == 0
    assert fired_instances(factory) == order


def test_timers_due_during_downtime_fire_but_later_ones_wait_for_their_time(factory, clock) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime()
    due = start_all(factory, clock, runtime)
    restart = START + timedelta(days=2, hours=12)
    clock.set(restart)
    report = Jobs(factory, runtime, clock).fire_timers()
    missed = sorted((i for i in due if due[i] <= restart), key=lambda i: due[i])
    assert report.fired == len(missed) == 6
    assert fired_instances(factory) == missed
    clock.set(START + timedelta(days=4))
    Jobs(factory, runtime, clock).fire_timers()
    assert fired_instances(factory) == missed + sorted((i for i in due if i not in missed), key=lambda i: due[i])
