"""Firing due timers: the work a scheduler job does on each tick.

Timers fire in due order (the instance whose earliest waiting timer is the most
overdue first); after downtime every timer that came due in the meantime fires
once, at the pump's ``as_of`` time. A failing instance is rolled back, reported,
and does not hold back the others: its incident is opened in a short transaction of
its own (``incidents.py``), and while it is open the due queries below leave the
instance out in SQL, until an administrator retries it.

PostgreSQL: a pump claims a batch of due instances with one
``SELECT … FOR UPDATE OF process_instance SKIP LOCKED LIMIT n`` and fires them in
one transaction. The claim reads only a window of the most overdue timers off the
``state, due_at`` index, so it stays cheap however many are due. A step that fails
while being written abandons the batch: it is rolled back, the failing instance is
left out, and the rest are claimed again in the next round. Any number of pumps may
run at once: an instance locked by one is skipped by the others, and once locked
its stored state is checked again, so each timer fires exactly once.

SQLite (and anything else): one scheduler only (``scheduler.guard`` enforces it);
each instance fires in its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .clock import Clock, FrozenClock
from .db import unit_of_work
from .errors import EngineError
from .incidents import describe, not_held, record_failures, resolve, retried_among
from .models import ProcessDefinition, ProcessInstance, TimerRow
from .runtime import SYSTEM, Runtime
from .service import WorkflowService
from .steps import StepRunner

log = logging.getLogger("vsw.timers")


@dataclass
class FireReport:
    fired: int = 0
    instances: int = 0
    skipped: int = 0
    failed: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    """``(instance id, one-line reason)`` for each instance that failed."""


def due_instances(session: Session, as_of: datetime, limit: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    """Instances with a waiting timer due by ``as_of`` and no open incident, the most overdue first."""
    query = (
        select(TimerRow.instance_id)
        .where(TimerRow.state == "waiting", TimerRow.due_at <= as_of, not_held(TimerRow.instance_id))
        .group_by(TimerRow.instance_id)
        .order_by(func.min(TimerRow.due_at), TimerRow.instance_id)
        .limit(limit)
    )
    if exclude:
        query = query.where(TimerRow.instance_id.not_in(sorted(exclude)))
    return list(session.scalars(query))


def claim_due_instances(session: Session, as_of: datetime, limit: int,
                        exclude: frozenset[int] = frozenset()) -> list[tuple[ProcessInstance, str]]:
    """Lock and load up to ``limit`` due instances no other pump holds, most overdue first (PostgreSQL).

    Instances with an open incident are left out, inside the window (so they never crowd it).

    One statement claims the batch and returns each instance row (as it stands once
    locked) with its definition's content hash, ready to restore. It looks first at a
    window of the most overdue timers (read off the ``state, due_at`` index, so a claim
    costs the same however many timers are due); only if every instance there is held
    by another pump (or left out) does it look at all of them.
    """
    return (_claim(session, as_of, limit, exclude, window=limit * CLAIM_WINDOW)
            or _claim(session, as_of, limit, exclude, window=None))


CLAIM_WINDOW = 8
"""A claim looks at the ``batch * CLAIM_WINDOW`` most overdue timers first: room for several pumps' batches."""


def _claim(session: Session, as_of: datetime, limit: int, exclude: frozenset[int],
           window: int | None) -> list[tuple[ProcessInstance, str]]:
    timers = (
        select(TimerRow.instance_id, TimerRow.due_at)
        .where(TimerRow.state == "waiting", TimerRow.due_at <= as_of, not_held(TimerRow.instance_id))
        .order_by(TimerRow.due_at, TimerRow.instance_id)
    )
    if exclude:
        timers = timers.where(TimerRow.instance_id.not_in(sorted(exclude)))
    if window is not None:
        timers = timers.limit(window)
    overdue = timers.subquery("overdue")
    due_cte = (
        select(overdue.c.instance_id, func.min(overdue.c.due_at).label("first_due"))
        .group_by(overdue.c.instance_id)
        .cte("due")
    )
    query = (
        select(ProcessInstance, ProcessDefinition.content_sha256)
        .join(due_cte, due_cte.c.instance_id == ProcessInstance.id)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.status == "running")
        .order_by(due_cte.c.first_due, ProcessInstance.id)
        .limit(limit)
        .with_for_update(of=ProcessInstance, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return [(found[0], found[1]) for found in session.execute(query)]


def fire_due_timers(
    factory: sessionmaker[Session], runtime: Runtime, clock: Clock, *, batch: int = 50, max_rounds: int = 1000
) -> FireReport:
    """Fire every timer due by ``clock.now()``; returns what happened."""
    as_of = clock.now()
    with factory() as probe:
        dialect = probe.get_bind().dialect.name
    if dialect == "postgresql":
        return _fire_claimed_batches(factory, runtime, as_of, batch, max_rounds)
    return _fire_one_by_one(factory, runtime, as_of, batch, max_rounds)


class _BatchLost(Exception):
    """The batch's transaction could not be saved from one instance's failure (a failed ORM flush)."""

    def __init__(self, instance_id: int, error: Exception) -> None:
        super().__init__(instance_id)
        self.instance_id, self.error = instance_id, error


def _fire_claimed_batches(factory: sessionmaker[Session], runtime: Runtime, as_of: datetime,
                          batch: int, max_rounds: int) -> FireReport:
    report = FireReport()
    passed: set[int] = set()  # failed, or found nothing due once locked: not claimed again this pass
    for _ in range(max_rounds):
        done = FireReport()
        failed: list[tuple[int, Exception]] = []
        try:
            with unit_of_work(factory) as session:
                claimed = claim_due_instances(session, as_of, batch, frozenset(passed))
                retried = retried_among(session, (row.id for row, _ in claimed))
                _fire_batch(session, runtime, claimed, as_of, done, passed, retried, failed)
        except _BatchLost as lost:  # rolled back: the others are claimed again in the next round
            passed.add(lost.instance_id)
            report.failed += done.failed  # instances that failed earlier in the lost batch failed all the same
            report.failures.extend(done.failures)
            _record_failure(report, lost.instance_id, lost.error)
            record_failures(factory, [*failed, (lost.instance_id, lost.error)], as_of)
            continue
        record_failures(factory, failed, as_of)
        if not claimed:
            break
        report.fired += done.fired
        report.instances += done.instances
        report.skipped += done.skipped
        report.failed += done.failed
        report.failures.extend(done.failures)
    return report


def _fire_batch(session: Session, runtime: Runtime, claimed: list[tuple[ProcessInstance, str]], as_of: datetime,
                report: FireReport, passed: set[int], retried: frozenset[int],
                failed: list[tuple[int, Exception]]) -> None:
    """Fire each locked instance in the batch's one transaction.

    A failure while loading or advancing (nothing written yet) skips that instance. A
    failure while writing or in the hooks abandons the whole batch (``_BatchLost``): it
    is rolled back, the failing instance is left out, and the others are claimed and
    fired again in the next round. Failures are rare, so this costs less than a
    savepoint round trip for every timer, and each timer still fires exactly once.
    Failures are added to ``failed``; their incidents are written once this transaction has ended.
    An instance an administrator ``retried`` that now fires has its incident resolved in the batch.
    """
    steps = StepRunner(session, runtime)
    for row, content_sha256 in claimed:
        try:
            loaded = steps.restore(row, content_sha256, as_of)
            due = any(at <= as_of for _, at in loaded.before.timers)
            if due:
                steps.advance(loaded, SYSTEM.user_id)
        except Exception as error:  # noqa: BLE001 - nothing was written yet; the others go on
            passed.add(row.id)
            _record_failure(report, row.id, error)
            failed.append((row.id, error))
            continue
        if not due:  # another pump fired them just before this one locked the row
            passed.add(row.id)
            _count(report, 0)
            continue
        try:
            fired = steps.finish(loaded, as_of, SYSTEM.user_id)
            if row.id in retried:
                resolve(session, row.id, as_of)
            session.flush()
        except Exception as error:  # noqa: BLE001 - one broken instance must not stop the others
            raise _BatchLost(row.id, error) from error
        _count(report, fired)


def _fire_one_by_one(factory: sessionmaker[Session], runtime: Runtime, as_of: datetime,
                     batch: int, max_rounds: int) -> FireReport:
    report = FireReport()
    tried: set[int] = set()
    for _ in range(max_rounds):
        with factory() as session:
            candidates = due_instances(session, as_of, batch, frozenset(tried))
            retried = retried_among(session, candidates)
        if not candidates:
            break
        for instance_id in candidates:
            tried.add(instance_id)
            try:
                with unit_of_work(factory) as session:
                    fired = WorkflowService(session, FrozenClock(as_of), runtime).fire_instance_timers(instance_id, as_of)
                    if fired and instance_id in retried:
                        resolve(session, instance_id, as_of)
            except Exception as error:  # noqa: BLE001 - one broken instance must not stop the others
                _record_failure(report, instance_id, error)
                record_failures(factory, [(instance_id, error)], as_of)  # after the step's rollback
                continue
            _count(report, fired)
    return report


def _count(report: FireReport, fired: int) -> None:
    """An instance that had nothing due once loaded was handled by another pump just before."""
    report.fired += fired
    report.instances += 1 if fired else 0
    report.skipped += 0 if fired else 1


def _record_failure(report: FireReport, instance_id: int, error: Exception) -> None:
    report.failed += 1
    reason = describe(error)
    if isinstance(error, EngineError):
        log.warning("timers: instance %s failed: %s", instance_id, reason)
    else:
        log.exception("timers: instance %s failed unexpectedly", instance_id)
    report.failures.append((instance_id, reason))
