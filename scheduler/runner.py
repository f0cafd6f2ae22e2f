"""Running the jobs with APScheduler 3: blocking (``vsw scheduler``) or in the web process.

APScheduler is only the loop: a memory job store, jobs defined in code, each with
``max_instances=1`` (a slow pass is never overlapped by the next), ``coalesce=True``
(passes missed while busy or asleep collapse into one) and ``misfire_grace_time=None``
(a late pass still runs). Nothing is lost that way, because each pass does all the
work that is due in our tables, however late it is.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.clock import SystemClock
from engine.db import database_url, make_engine, session_factory

from .guard import SchedulerLock
from .jobs import FIRE_TIMERS, Jobs, JobSpec

log = logging.getLogger("vsw.scheduler")

POOL = {"pool_size": 2, "max_overflow": 2}
"""A scheduler runs one pass of each job at a time: two connections, four at most."""


def default_jobs(extra: Iterable[JobSpec] | None = None, *, interval_seconds: int = 30, batch: int = 50,
                 url: str | None = None) -> Jobs:
    """The jobs against ``DATABASE_URL`` (or ``url``) with the shipped runtime and the system clock:
    firing timers, plus the domain's jobs (notifications, digests, reminders, termly reviews)
    unless ``extra`` says otherwise."""
    from casework.jobs import domain_jobs
    from casework.runtime import build_runtime

    target = url or database_url()
    engine = make_engine(target) if target.startswith("sqlite") else make_engine(target, **POOL)
    factory = session_factory(engine)
    if extra is None:
        extra = [JobSpec(name, fn, seconds) for name, fn, seconds in domain_jobs()]
    return Jobs(factory, build_runtime(factory), SystemClock(), extra,
                timer_seconds=interval_seconds, batch=batch)


def configure(scheduler: BaseScheduler, jobs: Jobs) -> None:
    """Add every job; each runs at once on start, then at its own interval."""
    start = datetime.now(UTC)
    for spec in jobs.specs():
        scheduler.add_job(jobs.run, "interval", args=[spec.name], seconds=spec.seconds, id=spec.name,
                          name=spec.name, max_instances=1, coalesce=True, misfire_grace_time=None,
                          next_run_time=start)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_blocking_scheduler(interval_seconds: int = 30, jobs: Jobs | None = None, *,
                           url: str | None = None, batch: int = 50) -> None:
    """``vsw scheduler``: runs until stopped (Ctrl+C or SIGTERM). Raises AnotherSchedulerRunning on SQLite."""
    target = url or database_url()
    with SchedulerLock(target):
        jobs = jobs or default_jobs(interval_seconds=interval_seconds, batch=batch, url=target)
        scheduler = BlockingScheduler(timezone="UTC")
        configure(scheduler, jobs)
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        names = ", ".join(f"{s.name} every {s.seconds}s" for s in jobs.specs())
        log.info("scheduler started: %s", names)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            log.info("scheduler stopped")
        finally:
            signal.signal(signal.SIGTERM, previous)


def run_once(jobs: Jobs | None = None, *, url: str | None = None, batch: int = 50) -> dict[str, Any]:
    """``vsw scheduler --once``: every job once, then return (for cron, or after downtime by hand)."""
    target = url or database_url()
    with SchedulerLock(target):
        jobs = jobs or default_jobs(batch=batch, url=target)
        return jobs.run_all_once()


def start_background_scheduler(interval_seconds: int = 30, jobs: Jobs | None = None, *,
                               url: str | None = None) -> BackgroundScheduler:
    """The scheduler in this process (``vsw serve --with-scheduler``, ``vsw demo``): one machine only.

    Raises AnotherSchedulerRunning on SQLite if a scheduler already runs; the lock is
    held until the scheduler shuts down (or the process ends).
    """
    target = url or database_url()
    lock = SchedulerLock(target).acquire()
    try:
        jobs = jobs or default_jobs(interval_seconds=interval_seconds, url=target)
        scheduler = BackgroundScheduler(timezone="UTC")
        configure(scheduler, jobs)
        scheduler.add_listener(lambda _event: lock.release(), EVENT_SCHEDULER_SHUTDOWN)
        scheduler.start()
    except BaseException:
        lock.release()
        raise
    log.info("in-process scheduler started: %s every %ss", FIRE_TIMERS, interval_seconds)
    return scheduler
