"""Three scheduler PROCESSES racing on PostgreSQL fire each of 1,000 due timers exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bench.common import clone_instances, race_schedulers, timer_fired_counts
from engine.db import unit_of_work
from engine.models import AuditEvent, TimerRow
from engine.runtime import Runtime
from engine.service import WorkflowService
from tests.engine.conftest import BPMN, SOCIAL_WORKER

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.postgres_only
def test_three_scheduler_processes_fire_each_of_a_thousand_due_timers_exactly_once(db_url, factory, clock) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        service = WorkflowService(session, clock, Runtime())
        service.deploy_file(BPMN / "timers.bpmn")
        started = [service.start("timers", f"child-{n}", {"begin_at": (START - timedelta(minutes=n)).isoformat()},
                                 SOCIAL_WORKER).id for n in range(10)]
    clone_instances(db_url, started, 1000)
    with factory() as session:
        due = set(session.scalars(select(TimerRow.task_id).where(TimerRow.state == "waiting")))
    assert len(due) == 1000

    seconds, reports = race_schedulers(db_url, (START + timedelta(days=1)).isoformat(), processes=3, batch=20)

    assert len({pid for pid, *_ in reports}) == 3
    assert sum(r[1] for r in reports) == 1000 and sum(r[4] for r in reports) == 0
    assert timer_fired_counts(db_url) == (1000, 0)
    with factory() as session:
        fired_tasks = set(session.scalars(select(AuditEvent.task_id).where(AuditEvent.action == "timer_fired")))
        states = {state: count for state, count in session.execute(
            select(TimerRow.state, func.count()).where(TimerRow.task_id.in_(due)).group_by(TimerRow.state))}
        next_waits = session.scalar(select(func.count()).select_from(TimerRow)
                                    .where(TimerRow.element_id == "wait_two_days", TimerRow.state == "waiting"))
    assert fired_tasks == due
    assert states == {"fired": 1000}
    assert next_waits == 1000  # each fired once: one two-day wait each, none doubled
