"""The scheduler: APScheduler as the pump over our own timer rows (DESIGN decision 6).

Jobs are defined in code, with APScheduler's memory job store; every durable fact
(which timers are due, which fired) lives in our tables, so any number of
scheduler processes can run against one PostgreSQL.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from casework.runtime import build_runtime
from engine.clock import Clock, SystemClock
from engine.db import make_engine, session_factory
from engine.runtime import Runtime
from engine.timer_pump import FireReport, fire_due_timers

log = logging.getLogger("vsw.scheduler")


class Jobs:
    """The scheduler's jobs, each one pass over our tables."""

    def __init__(self, factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> None:
        self.factory, self.runtime, self.clock = factory, runtime, clock
        self._lock = threading.Lock()

    def fire_timers(self) -> FireReport:
        with self._lock:
            report = fire_due_timers(self.factory, self.runtime, self.clock)
        if report.fired or report.failed:
            log.info("timers: fired %s in %s instances, %s skipped, %s failed",
                     report.fired, report.instances, report.skipped, report.failed)
        return report


def _configure(scheduler: BaseScheduler, jobs: Jobs, interval_seconds: int) -> None:
    scheduler.add_job(jobs.fire_timers, "interval", seconds=interval_seconds, id="fire_timers",
                      max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=jobs.clock.now())


def default_jobs() -> Jobs:
    return Jobs(session_factory(make_engine()), build_runtime(), SystemClock())


def run_blocking_scheduler(interval_seconds: int = 30) -> None:
    scheduler = BlockingScheduler(timezone="UTC")
    _configure(scheduler, default_jobs(), interval_seconds)
    log.info("scheduler started: firing due timers every %s seconds", interval_seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


def start_background_scheduler(interval_seconds: int = 30) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    _configure(scheduler, default_jobs(), interval_seconds)
    scheduler.start()
    return scheduler
