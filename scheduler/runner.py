"""Running the jobs with APScheduler 3: blocking (``vsw scheduler``) or in the web process.

APScheduler is only the loop: a memory job store, jobs defined in code, each with
``max_instances=1`` (a slow pass is never overlapped by the next), ``coalesce=True``
(passes missed while busy or asleep collapse into one) and ``misfire_grace_time=None``
(a late pass still runs). Nothing is lost that way, because each pass does all the
work that is due in our tables, however late it is.

Each runner takes the database URL (for the SQLite one-scheduler lock) and a function that builds the
:class:`Jobs`, called once the lock is held; the composition root (``app.wiring.scheduler_jobs``)
builds the shipped ones.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .guard import SchedulerLock
from .jobs import FIRE_TIMERS, Jobs

log = logging.getLogger("vsw.scheduler")

POOL = {"pool_size": 2, "max_overflow": 2}
"""A scheduler runs one pass of each job at a time: two connections, four at most (PostgreSQL)."""

BuildJobs = Callable[[], Jobs]
"""Builds the scheduler's jobs; called once the scheduler holds its lock."""


def configure(scheduler: BaseScheduler, jobs: Jobs) -> None:
    """Add every job; each runs at once on start, then at its own interval."""
    start = datetime.now(UTC)
    for spec in jobs.specs():
        scheduler.add_job(jobs.run, "interval", args=[spec.name], seconds=spec.seconds, id=spec.name,
                          name=spec.name, max_instances=1, coalesce=True, misfire_grace_time=None,
                          next_run_time=start)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_blocking_scheduler(url: str, build_jobs: BuildJobs) -> None:
    """``vsw scheduler``: runs until stopped (Ctrl+C or SIGTERM). Raises AnotherSchedulerRunning on SQLite."""
    with SchedulerLock(url):
        jobs = build_jobs()
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


def run_once(url: str, build_jobs: BuildJobs) -> dict[str, Any]:
    """``vsw scheduler --once``: every job once, then return (for cron, or after downtime by hand)."""
    with SchedulerLock(url):
        return build_jobs().run_all_once()


def start_background_scheduler(url: str, build_jobs: BuildJobs) -> BackgroundScheduler:
    """The scheduler in this process (``vsw serve --with-scheduler``, ``vsw demo``): one machine only.

    Raises AnotherSchedulerRunning on SQLite if a scheduler already runs; the lock is
    held until the scheduler shuts down (or the process ends).
    """
    lock = SchedulerLock(url).acquire()
    try:
        jobs = build_jobs()
        scheduler = BackgroundScheduler(timezone="UTC")
        configure(scheduler, jobs)
        scheduler.add_listener(lambda _event: lock.release(), EVENT_SCHEDULER_SHUTDOWN)
        scheduler.start()
    except BaseException:
        lock.release()
        raise
    timers = next(spec for spec in jobs.specs() if spec.name == FIRE_TIMERS)
    log.info("in-process scheduler started: %s every %ss", FIRE_TIMERS, timers.seconds)
    return scheduler
