"""The scheduler's domain jobs, each a plain function ``(factory, runtime, clock) -> report``.

- ``deliver_notifications``: send queued emails (retries with backoff, dead letters).
- ``send_daily_digests``: one email a day for people who chose a digest.
- ``remind_task_deadlines``: "due soon" N working days before a task is due (N is the
  authority's ``reminder_working_days_before_due``) and "overdue" once it has passed.
- ``open_termly_reviews``: each term, every looked-after child's PEP review.

Due timers are fired by the scheduler's own ``fire_timers`` job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.runtime import Runtime
from notifications.deadlines import notify_task_deadlines
from notifications.delivery import deliver_pending
from notifications.digest import send_daily_digests
from notifications.mailer import Mailer, mailer_from_env

from .directory import CaseDirectory
from .lifecycle import open_termly_reviews_job
from .records import Child
from .rules import rules_for

Job = Callable[[sessionmaker[Session], Runtime, Clock], Any]


def reminder_lead_days(session: Session, business_key: str) -> int:
    """How many working days before a task is due its people are reminded: the child's authority's rule."""
    la_code = session.scalars(select(Child.la_code).where(Child.ref == business_key)).first()
    return rules_for(session, la_code).reminder_working_days_before_due if la_code else 3


def domain_jobs(mailer: Mailer | None = None) -> list[tuple[str, Job, int]]:
    """(name, function, seconds between runs) for every domain job."""
    mail = mailer or mailer_from_env()
    base_url = os.environ.get("VSW_BASE_URL")
    directory = CaseDirectory()

    def deliver(factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> Any:
        return deliver_pending(factory, clock, mail)

    def digests(factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> Any:
        return send_daily_digests(factory, clock, mail, base_url=base_url)

    def deadlines(factory: sessionmaker[Session], runtime: Runtime, clock: Clock) -> Any:
        return notify_task_deadlines(factory, clock, directory, runtime.calendar,
                                     lead_working_days=reminder_lead_days, child_names=directory, base_url=base_url)

    return [
        ("deliver_notifications", deliver, 30),
        ("send_daily_digests", digests, 600),
        ("remind_task_deadlines", deadlines, 900),
        ("open_termly_reviews", open_termly_reviews_job, 3600),
    ]
