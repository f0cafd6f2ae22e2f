"""The scheduler's jobs: each one pass over our own tables, safe to run again at any time.

The timer job is built in. Other layers add their own (notification delivery, the
termly PEP review opener, reminders) as :class:`JobSpec`\\ s: plain functions
``(factory, runtime, clock) -> report`` with their own interval. A job that raises
is logged and counted; it never stops the scheduler or the other jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.runtime import Runtime
from engine.timer_pump import FireReport, fire_due_timers

log = logging.getLogger("vsw.scheduler")

JobFunction = Callable[[sessionmaker[Session], Runtime, Clock], Any]
FIRE_TIMERS = "fire_timers"


@dataclass(frozen=True)
class JobSpec:
    """A named job and how often it runs, e.g. ``JobSpec("deliver_notifications", fn, seconds=30)``."""

    name: str
    fn: JobFunction
    seconds: int = 60

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"job name {self.name!r}: use letters, digits and underscores")
        if self.seconds < 1:
            raise ValueError(f"job {self.name}: the interval must be at least 1 second")


@dataclass(frozen=True)
class JobFailed:
    """What :meth:`Jobs.run` returns when the job raised (the exception is already logged)."""

    name: str
    error: str


class Jobs:
    """The jobs one scheduler process runs, against one database, on one clock."""

    def __init__(self, factory: sessionmaker[Session], runtime: Runtime, clock: Clock,
                 extra: Iterable[JobSpec] = (), *, timer_seconds: int = 30, batch: int = 50) -> None:
        self.factory, self.runtime, self.clock = factory, runtime, clock
        self.batch = batch
        self._specs: dict[str, JobSpec] = {FIRE_TIMERS: JobSpec(FIRE_TIMERS, self._fire, timer_seconds)}
        for spec in extra:
            if spec.name in self._specs:
                raise ValueError(f"two scheduler jobs are called {spec.name}")
            self._specs[spec.name] = spec
        self._locks = {name: threading.Lock() for name in self._specs}
        self.errors: dict[str, int] = dict.fromkeys(self._specs, 0)
        """How many times each job raised since this process started."""

    def specs(self) -> list[JobSpec]:
        """Every job, the timer job first."""
        return list(self._specs.values())

    def fire_timers(self) -> FireReport:
        """One pass of the timer pump (raises what the pump raises: for callers that want to know)."""
        report: FireReport = self._fire(self.factory, self.runtime, self.clock)
        return report

    def run(self, name: str) -> Any:
        """Run one job now; returns its report, or :class:`JobFailed` (logged and counted, never raised)."""
        spec = self._specs[name]
        with self._locks[name]:  # one run of a job at a time in this process, whoever calls
            try:
                return spec.fn(self.factory, self.runtime, self.clock)
            except Exception as error:  # noqa: BLE001 - a job's failure must not stop the scheduler
                self.errors[name] += 1
                log.exception("job %s failed; it will run again in %s seconds", name, spec.seconds)
                return JobFailed(name, f"{type(error).__name__}: {error}".splitlines()[0])

    def run_all_once(self) -> dict[str, Any]:
        """Every job once, in order (``vsw scheduler --once``)."""
        return {spec.name: self.run(spec.name) for spec in self.specs()}

    def _fire(self, factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> FireReport:
        report = fire_due_timers(factory, runtime, clock, batch=self.batch)
        if report.fired or report.failed:
            log.info("timers: fired %s in %s instances, %s skipped, %s failed",
                     report.fired, report.instances, report.skipped, report.failed)
        for instance_id, reason in report.failures:
            log.warning("timers: instance %s not fired: %s", instance_id, reason)
        return report
