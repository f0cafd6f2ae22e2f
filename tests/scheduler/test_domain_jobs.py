"""The scheduler with the domain's jobs: after three days stopped, every missed deadline fires
once, the escalations appear and the managers are emailed through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings
from app.wiring import domain_jobs
from casework.escalations import Escalation
from engine.clock import FrozenClock
from engine.models import AuditEvent
from scheduler import Jobs, JobSpec
from tests.casework.records_support import LA
from tests.casework.world import World
from tests.notifications.conftest import SmtpServer

TERM_START = datetime(2026, 9, 4, 8, 0, tzinfo=UTC)


def test_after_three_days_stopped_every_missed_deadline_fires_once_and_the_manager_is_emailed(
    factory: sessionmaker[Session],
) -> None:
    smtp_server = SmtpServer()
    smtp_server.start()
    try:
        _walk(factory, smtp_server)
    finally:
        smtp_server.stop()


def _walk(factory: sessionmaker[Session], smtp_server: SmtpServer) -> None:
    clock = FrozenClock(TERM_START)
    world = World(factory, clock)
    for n, born in enumerate(("2016-03-14", "2015-05-02", "2014-07-20")):
        world.child(f"C-{n}", born=born)
    mailer = smtp_server.mailer()
    extra = [JobSpec(n, fn, s) for n, fn, s in domain_jobs(Settings(), mailer)]
    jobs = Jobs(factory, world.runtime, clock, extra)
    jobs.run_all_once()  # the term starts: three reviews open, due by Friday 23 October
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    clock.set(datetime(2026, 10, 26, 9, 0, tzinfo=UTC))  # stopped from Friday to the Monday after
    first = jobs.run_all_once()
    second = jobs.run_all_once()
    assert first["fire_timers"].fired == 3 and second["fire_timers"].fired == 0
    with factory() as session:
        kinds = session.scalars(select(Escalation.kind).where(Escalation.la_code == LA)).all()
        fired = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer_fired"))
    assert sorted(kinds) == ["overdue_pep"] * 3 and fired == 3
    to_manager = [m for m in smtp_server.handler.emails() if "manager@la.example" in str(m["To"])]
    assert len(to_manager) == 3 and all("escalated" in m["Subject"].lower() for m in to_manager)
