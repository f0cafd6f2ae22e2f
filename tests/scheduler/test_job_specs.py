"""Extra jobs: registered by name with their own interval; a failing job is logged, never fatal."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from engine.runtime import Runtime
from engine.timer_pump import FireReport
from scheduler import FIRE_TIMERS, JobFailed, Jobs, JobSpec, configure


def broken(factory: Any, runtime: Any, clock: Any) -> Any:
    raise RuntimeError("mail server unreachable")


def test_each_job_runs_in_apscheduler_once_at_a_time_coalesced_and_never_dropped_as_a_misfire(factory, clock) -> None:  # type: ignore[no-untyped-def]
    extra = [JobSpec("deliver_notifications", broken, seconds=30), JobSpec("open_termly_reviews", broken, 3600)]
    scheduler = BackgroundScheduler(timezone="UTC")
    configure(scheduler, Jobs(factory, Runtime(), clock, extra, timer_seconds=45))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {name: job.trigger.interval.total_seconds() for name, job in jobs.items()} == {
        FIRE_TIMERS: 45, "deliver_notifications": 30, "open_termly_reviews": 3600}
    for job in jobs.values():
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)


def test_a_failing_job_is_logged_and_counted_and_the_other_jobs_still_run(factory, clock, caplog) -> None:  # type: ignore[no-untyped-def]
    seen: list[Any] = []

    def count(f: Any, r: Any, c: Any) -> str:
        seen.append(c.now())
        return "ok"

    jobs = Jobs(factory, Runtime(), clock, [JobSpec("deliver_notifications", broken, 30), JobSpec("count", count, 60)])
    with caplog.at_level(logging.ERROR, logger="vsw.scheduler"):
        results = jobs.run_all_once()
        jobs.run("deliver_notifications")
    assert isinstance(results[FIRE_TIMERS], FireReport)
    assert results["deliver_notifications"] == JobFailed("deliver_notifications",
                                                         "RuntimeError: mail server unreachable")
    assert results["count"] == "ok" and seen == [clock.now()]
    assert jobs.errors == {FIRE_TIMERS: 0, "deliver_notifications": 2, "count": 0}
    assert "job deliver_notifications failed" in caplog.text


def test_a_running_scheduler_keeps_running_jobs_after_one_raises(factory, clock) -> None:  # type: ignore[no-untyped-def]
    calls = {"broken": 0}
    done, raised = threading.Event(), threading.Event()

    def flaky(f: Any, r: Any, c: Any) -> None:
        calls["broken"] += 1
        raised.set()
        raise RuntimeError("boom")

    def after(f: Any, r: Any, c: Any) -> None:
        done.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    configure(scheduler, Jobs(factory, Runtime(), clock, [JobSpec("flaky", flaky, 3600), JobSpec("after", after, 3600)]))
    scheduler.start()
    try:
        assert raised.wait(timeout=30) and done.wait(timeout=30)
        assert scheduler.running
        assert scheduler.get_job("flaky") is not None  # still scheduled for its next run
    finally:
        scheduler.shutdown(wait=True)
    assert calls["broken"] == 1


def test_two_jobs_may_not_share_a_name_and_intervals_are_whole_seconds(factory, clock) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="two scheduler jobs are called fire_timers"):
        Jobs(factory, Runtime(), clock, [JobSpec(FIRE_TIMERS, broken, 30)])
    with pytest.raises(ValueError, match="at least 1 second"):
        JobSpec("deliver_notifications", broken, seconds=0)
