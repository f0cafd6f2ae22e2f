"""Timers: every kind fires on the engine's clock, exactly once, in due order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.timer_pump import FireReport, fire_due_timers
from tests.engine.conftest import SOCIAL_WORKER, Harness

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def timers(wf: Harness) -> Harness:
    wf.deploy("timers.bpmn")
    return wf


def start_timers(wf: Harness) -> int:
    with wf() as svc:
        return svc.start("timers", "child-1", {"begin_at": START.isoformat()}, SOCIAL_WORKER).id


def tick(wf: Harness, at: datetime) -> FireReport:
    wf.clock.set(at)
    return fire_due_timers(wf.factory, wf.runtime, wf.clock)


def state(wf: Harness, instance_id: int) -> tuple[list[str], list[str]]:
    with wf() as svc:
        tasks = sorted(t.element_id for t in svc.instance_tasks(instance_id) if t.state == "open")
        return tasks, [t.element_id for t in svc.waiting_timers(instance_id)]


def history(wf: Harness, instance_id: int) -> list[tuple[str, str | None]]:
    with wf() as svc:
        return [(e.action, e.element_id) for e in svc.history(instance_id)]


def test_a_timer_start_event_waits_for_its_date_on_the_engine_clock(timers: Harness) -> None:
    instance_id = start_timers(timers)
    assert state(timers, instance_id) == ([], ["start"])
    assert tick(timers, START + timedelta(hours=23)).fired == 0
    assert tick(timers, START + timedelta(days=1)).fired == 1
    assert state(timers, instance_id) == ([], ["wait_two_days"])


def test_an_intermediate_duration_timer_counts_from_when_it_is_reached(timers: Harness) -> None:
    instance_id = start_timers(timers)
    tick(timers, START + timedelta(days=1, hours=1))
    with timers() as svc:
        [timer] = svc.waiting_timers(instance_id)
    assert timer.due_at == START + timedelta(days=3, hours=1)
    assert tick(timers, START + timedelta(days=3)).fired == 0
    assert tick(timers, START + timedelta(days=3, hours=1)).fired == 1
    assert state(timers, instance_id)[0] == ["respond"]


def test_a_non_interrupting_cycle_timer_adds_a_task_each_cycle_and_stops_after_its_count(timers: Harness) -> None:
    instance_id = start_timers(timers)
    tick(timers, START + timedelta(days=1))
    tick(timers, START + timedelta(days=3))  # respond opens; reminders daily, deadline in 5 days
    tick(timers, START + timedelta(days=4))
    tick(timers, START + timedelta(days=5))
    tick(timers, START + timedelta(days=6))
    tasks, waiting = state(timers, instance_id)
    assert tasks == ["nudge", "nudge", "respond"]
    assert waiting == ["deadline"]


def test_an_interrupting_boundary_timer_cancels_its_task_and_escalates(timers: Harness) -> None:
    instance_id = start_timers(timers)
    tick(timers, START + timedelta(days=1))
    tick(timers, START + timedelta(days=3))
    tick(timers, START + timedelta(days=8))
    assert state(timers, instance_id) == (["escalate"], [])
    with timers() as svc:
        cancelled = {t.element_id for t in svc.instance_tasks(instance_id) if t.state == "cancelled"}
    assert "respond" in cancelled


def test_each_due_timer_fires_exactly_once_however_often_the_pump_runs(timers: Harness) -> None:
    instance_id = start_timers(timers)
    at = START + timedelta(days=1)
    assert [tick(timers, at).fired for _ in range(3)] == [1, 0, 0]
    assert history(timers, instance_id).count(("timer_fired", "start")) == 1


def test_after_downtime_every_missed_timer_fires_once_in_due_order(timers: Harness) -> None:
    first, second = start_timers(timers), start_timers(timers)
    # nothing ran for two weeks: the start timers were due on day 1
    report = tick(timers, START + timedelta(days=14))
    assert report.fired == 2 and report.instances == 2
    for instance_id in (first, second):
        fired = [element for action, element in history(timers, instance_id) if action == "timer_fired"]
        assert fired == ["start"]
        # the chained two-day wait is counted from when the pump fired the start timer
        with timers() as svc:
            [wait] = svc.waiting_timers(instance_id)
        assert wait.due_at == START + timedelta(days=16)


def test_timers_of_a_cancelled_instance_never_fire(timers: Harness) -> None:
    instance_id = start_timers(timers)
    with timers() as svc:
        svc.cancel(instance_id, SOCIAL_WORKER, "Child returned home")
    assert tick(timers, START + timedelta(days=30)).fired == 0
    assert "timer_fired" not in [a for a, _ in history(timers, instance_id)]


def test_a_fired_timer_records_the_engine_time_and_the_system_as_actor(timers: Harness) -> None:
    instance_id = start_timers(timers)
    at = START + timedelta(days=2)
    tick(timers, at)
    with timers() as svc:
        [event] = [e for e in svc.history(instance_id) if e.action == "timer_fired"]
    assert (event.at, event.actor, event.data) == (at, "system", {"name": "Opens a day after begin_at"})


def test_two_pumps_racing_over_the_same_due_timers_fire_each_exactly_once(timers: Harness) -> None:
    import threading

    from tests.conftest import on_postgres

    instances = [start_timers(timers) for _ in range(30 if on_postgres() else 10)]
    timers.clock.set(START + timedelta(days=1))
    reports: list[FireReport] = []
    barrier = threading.Barrier(2)

    def pump() -> None:
        barrier.wait()
        reports.append(fire_due_timers(timers.factory, timers.runtime, timers.clock))

    threads = [threading.Thread(target=pump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fired for r in reports) == len(instances)
    for instance_id in instances:
        assert history(timers, instance_id).count(("timer_fired", "start")) == 1


class BrokenForOneChild:
    """Records hooks that fail, after the step's write, for one child's case."""

    def facts(self, session, task, data):  # type: ignore[no-untyped-def]
        return {}

    def after_step(self, session, event) -> None:  # type: ignore[no-untyped-def]
        from engine.models import AuditEvent

        session.add(AuditEvent(at=event.at, actor="hook", action="hook_ran", instance_id=event.instance.id))
        if event.instance.business_key == "broken" and event.actor == "system":  # when its timer fires
            raise RuntimeError("the records for this child are locked")


def test_a_failing_instance_is_rolled_back_alone_and_reported_while_the_others_fire(factory, clock) -> None:  # type: ignore[no-untyped-def]
    from engine.db import unit_of_work
    from engine.runtime import Runtime
    from engine.service import WorkflowService

    runtime = Runtime(hooks=BrokenForOneChild())
    with unit_of_work(factory) as session:
        svc = WorkflowService(session, clock, runtime)
        svc.deploy_file("tests/engine/bpmn/timers.bpmn")
        keys = ["a", "b", "broken", "c", "d"]
        ids = {key: svc.start("timers", key, {"begin_at": (START + timedelta(minutes=n)).isoformat()},
                              SOCIAL_WORKER).id for n, key in enumerate(keys)}
    clock.set(START + timedelta(days=2))
    report = fire_due_timers(factory, runtime, clock, batch=10)
    assert (report.fired, report.failed) == (4, 1)
    assert report.failures == [(ids["broken"], "RuntimeError: the records for this child are locked")]
    with unit_of_work(factory) as session:
        svc = WorkflowService(session, clock, runtime)
        for key, instance_id in ids.items():
            actions = [e.action for e in svc.history(instance_id)]
            waiting = [t.element_id for t in svc.waiting_timers(instance_id)]
            if key == "broken":  # its write and its hook's record were both rolled back
                assert (actions.count("timer_fired"), actions.count("hook_ran"), waiting) == (0, 1, ["start"])
            else:
                assert (actions.count("timer_fired"), actions.count("hook_ran"), waiting) == (1, 2, ["wait_two_days"])
    again = fire_due_timers(factory, runtime, clock)
    assert (again.fired, again.failed) == (0, 0)  # held back by its open incident (tests/engine/test_incidents.py)


@pytest.mark.postgres_only
def test_a_claim_takes_the_most_overdue_instance_that_no_other_pump_holds_even_beyond_its_first_window(
    timers: Harness,
) -> None:
    from sqlalchemy import select

    from engine.models import ProcessInstance
    from engine.timer_pump import CLAIM_WINDOW, claim_due_instances
    from tests.conftest import on_postgres

    assert on_postgres(), "run with VSW_TEST_DATABASE_URL pointing at PostgreSQL"
    ids = []
    for n in range(CLAIM_WINDOW + 3):  # the first started is the most overdue
        with timers() as svc:
            ids.append(svc.start("timers", f"child-{n}", {"begin_at": (START + timedelta(minutes=n)).isoformat()},
                                 SOCIAL_WORKER).id)
    as_of = START + timedelta(days=2)  # every start timer is due
    with timers.factory() as session:
        assert [row.id for row, _ in claim_due_instances(session, as_of, 3)] == ids[:3]
        session.rollback()
    with timers.factory() as other_pump, timers.factory() as session:
        held = ids[:CLAIM_WINDOW]  # another pump holds every instance in the first window
        other_pump.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(held)).with_for_update()).all()
        claimed = claim_due_instances(session, as_of, 1)
        assert [row.id for row, _ in claimed] == [ids[CLAIM_WINDOW]]
        session.rollback()
        other_pump.rollback()
