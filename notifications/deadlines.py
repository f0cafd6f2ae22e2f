"""Task deadlines as notifications: the context of a task, and the due-soon / overdue scan.

``notify_task_deadlines`` is a scheduler job over the engine's ``human_task`` table (plain SQL; no
workflow is loaded). A task is *due soon* when it is open, not yet due, and at most N working days
away (N per authority: pass a callable; default 2); *overdue* once its due time has passed. Each is
sent once per task and recipient (dedupe keys ``task_due_soon:<task id>`` / ``task_overdue:<task id>``):
to the assignee, or else to the holders of the task's role who may see the child.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar, due_by_day
from engine.clock import Clock
from engine.db import unit_of_work
from engine.errors import EngineError
from engine.models import HumanTask

from .catalogue import UK
from .directory import ChildNames, Directory
from .notifier import Notifier

log = logging.getLogger("vsw.notifications.deadlines")

DEFAULT_DUE_SOON_WORKING_DAYS = 2
MAX_DUE_SOON_WORKING_DAYS = 30
LeadDays = int | Callable[[Session, str], int]


def task_path(task_id: str) -> str:
    return f"/tasks/{task_id}"


def task_context(task: HumanTask, child_name: str | None = None, **extra: Any) -> dict[str, Any]:
    """The context every task notification needs (``task_assigned``, ``task_due_soon``, ``task_overdue``…)."""
    return {
        "child_ref": task.business_key,
        "child_name": child_name or task.business_key,
        "task_title": task.title,
        "due_at": task.due_at,
        "path": task_path(task.id),
        **extra,
    }


def notify_task(
    notifier: Notifier, name: str, task: HumanTask, child_name: str | None = None, *,
    dedupe: bool = True, **extra: Any,
) -> int:
    """Send ``name`` about ``task`` to its assignee, or else to its role's holders for the child."""
    to_usernames = (task.assignee,) if task.assignee else ()
    to_role = None if task.assignee else task.role
    queued = notifier.notify(
        name, task_context(task, child_name, **extra), to_usernames=to_usernames, to_role=to_role,
        business_key=task.business_key, dedupe_key=f"{name}:{task.id}" if dedupe else None,
    )
    return len(queued)


@dataclass
class DeadlineReport:
    due_soon: int = 0
    overdue: int = 0
    failed: int = 0


def notify_task_deadlines(
    factory: sessionmaker[Session], clock: Clock, directory: Directory, calendar: BusinessCalendar, *,
    lead_working_days: LeadDays = DEFAULT_DUE_SOON_WORKING_DAYS, child_names: ChildNames | None = None,
    base_url: str | None = None,
) -> DeadlineReport:
    """The scheduler job: queue due-soon and overdue notifications for open tasks (each once)."""
    now = clock.now()
    horizon = calendar.add_working_days(now, MAX_DUE_SOON_WORKING_DAYS + 1)
    report = DeadlineReport()
    with factory() as session:
        task_ids = list(session.scalars(
            select(HumanTask.id).where(HumanTask.state == "open", HumanTask.due_at.is_not(None),
                                       HumanTask.due_at <= horizon).order_by(HumanTask.due_at)
        ))
    for task_id in task_ids:
        try:
            with unit_of_work(factory) as session:
                task = session.get(HumanTask, task_id)
                if task is None or task.state != "open" or task.due_at is None:
                    continue
                name = _deadline_kind(session, task, now, calendar, lead_working_days)
                if name is None:
                    continue
                child = child_names.child_name(session, task.business_key) if child_names else None
                queued = notify_task(Notifier(session, clock, directory, base_url=base_url), name, task, child)
        except EngineError as exc:
            log.error("deadline notification for task %s failed: %s", task_id, exc.message)
            report.failed += 1
            continue
        if name == "task_overdue":
            report.overdue += queued
        else:
            report.due_soon += queued
    return report


def _deadline_kind(
    session: Session, task: HumanTask, now: Any, calendar: BusinessCalendar, lead: LeadDays
) -> str | None:
    assert task.due_at is not None
    if task.due_at <= now:
        return "task_overdue"
    days = lead(session, task.business_key) if callable(lead) else lead
    days = max(0, min(int(days), MAX_DUE_SOON_WORKING_DAYS))
    if calendar.working_days_between(now, due_by_day(task.due_at, UK)) <= days:  # up to the last day it is on time
        return "task_due_soon"
    return None
