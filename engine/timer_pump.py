"""Firing due timers: the work a scheduler job does on each tick.

Each instance's due timers fire in their own transaction (one unit of work), so
one broken process cannot hold back the others. On PostgreSQL an instance is
claimed with ``FOR UPDATE SKIP LOCKED``: any number of pumps may run at once and
each timer fires exactly once. Timers fire in due order; after downtime every
timer that came due in the meantime fires once, at the pump's ``as_of`` time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from .clock import Clock, FrozenClock
from .db import unit_of_work
from .errors import EngineError
from .models import ProcessInstance, TimerRow
from .runtime import Runtime
from .service import WorkflowService


@dataclass
class FireReport:
    fired: int = 0
    instances: int = 0
    skipped: int = 0
    failed: int = 0


def due_instances(session: Session, as_of: datetime, limit: int) -> list[int]:
    """Instances with a waiting timer due by ``as_of``, the most overdue first."""
    query = (
        select(TimerRow.instance_id)
        .where(TimerRow.state == "waiting", TimerRow.due_at <= as_of)
        .group_by(TimerRow.instance_id)
        .order_by(func.min(TimerRow.due_at), TimerRow.instance_id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _claim(session: Session, instance_id: int) -> bool:
    """Lock the instance for this pump; False if another pump holds it (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    query = (
        select(ProcessInstance.id)
        .where(ProcessInstance.id == instance_id)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(query) is not None


def fire_due_timers(
    factory: sessionmaker[Session], runtime: Runtime, clock: Clock, *, batch: int = 200, max_rounds: int = 1000
) -> FireReport:
    """Fire every timer due by ``clock.now()``; returns what happened."""
    as_of = clock.now()
    report = FireReport()
    tried: set[int] = set()
    for _ in range(max_rounds):
        with factory() as session:
            candidates = [i for i in due_instances(session, as_of, batch + len(tried)) if i not in tried][:batch]
        if not candidates:
            break
        for instance_id in candidates:
            tried.add(instance_id)
            try:
                with unit_of_work(factory) as session:
                    if not _claim(session, instance_id):
                        report.skipped += 1
                        continue
                    fired = WorkflowService(session, FrozenClock(as_of), runtime).fire_instance_timers(instance_id, as_of)
            except EngineError:
                report.failed += 1
                continue
            report.fired += fired
            report.instances += 1 if fired else 0
    return report
