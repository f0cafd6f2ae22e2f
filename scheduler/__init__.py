"""The scheduler: APScheduler as the pump over our own tables (docs/deployment.md, "Scheduler").

Jobs are defined in code, with APScheduler's memory job store; every durable fact
(which timers are due, which fired, which notices are sent) lives in our tables, so
any number of scheduler processes can run against one PostgreSQL. On SQLite exactly
one runs (:mod:`scheduler.guard`).

- :mod:`scheduler.jobs`: :class:`Jobs` (the timer job, plus named extra jobs as :class:`JobSpec`)
- :mod:`scheduler.guard`: the one-scheduler lock for SQLite
- :mod:`scheduler.runner`: blocking, background and one-pass runners

It imports only the engine: the jobs it runs (and the database they run against) are handed to it
by the composition root, ``app.wiring``.
"""

from __future__ import annotations

from .guard import AnotherSchedulerRunning, SchedulerLock
from .jobs import FIRE_TIMERS, JobFailed, Jobs, JobSpec
from .runner import POOL, BuildJobs, configure, run_blocking_scheduler, run_once, start_background_scheduler

__all__ = [
    "FIRE_TIMERS",
    "POOL",
    "AnotherSchedulerRunning",
    "BuildJobs",
    "JobFailed",
    "JobSpec",
    "Jobs",
    "SchedulerLock",
    "configure",
    "run_blocking_scheduler",
    "run_once",
    "start_background_scheduler",
]
