"""The scheduler's job fires due timers through the engine, on the injected clock."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Runtime
from engine.service import WorkflowService
from scheduler import Jobs
from tests.engine.conftest import BPMN, SOCIAL_WORKER


def test_the_timer_job_fires_each_due_timer_once_and_nothing_early(factory, clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    runtime = Runtime()
    with unit_of_work(factory) as session:
        svc = WorkflowService(session, clock, runtime)
        svc.deploy_file(BPMN / "timers.bpmn")
        instance = svc.start("timers", "child-1", {"begin_at": clock.now().isoformat()}, SOCIAL_WORKER)
    jobs = Jobs(factory, runtime, clock)
    assert jobs.fire_timers().fired == 0
    clock.advance(timedelta(days=1))
    assert jobs.fire_timers().fired == 1
    assert jobs.fire_timers().fired == 0
    with unit_of_work(factory) as session:
        history = [e.action for e in WorkflowService(session, clock, runtime).history(instance.id)]
    assert history.count("timer_fired") == 1
