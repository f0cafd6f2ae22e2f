"""Wiring: the service's parts put together from its :class:`~app.settings.Settings`.

- :func:`build_runtime`: the engine runtime with this service's forms, calendar, per-child access
  rules, domain hooks (records, escalations, notifications), the school-year functions BPMN
  expressions call and the bounds on each script (``VSW_SCRIPT_*``). The calendar's school days come from
  the authority's own term dates when a session factory is given (one authority per deployment:
  ``VSW_LA_CODE``, or the only authority in the database), read again when they change
  (:class:`CurrentTermDates`); otherwise from the default term dates.
- :func:`domain_jobs` and :func:`scheduler_jobs`: what ``vsw scheduler`` runs.
- :func:`create_web_app`: the production web app (``gunicorn 'app.wiring:create_web_app()'``), behind
  ``VSW_TRUSTED_PROXIES`` reverse proxies (werkzeug's ``ProxyFix``) when that is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from casework.access import CaseAccess
from casework.data_version import version
from casework.directory import CaseDirectory
from casework.hooks import CaseworkHooks
from casework.lifecycle import open_termly_reviews_job
from casework.records import Child
from casework.rules import Authority, rules_for
from casework.schoolyear import SCRIPT_FUNCTIONS
from casework.terms import default_term_calendar, term_calendar_for, term_dates_committed
from engine.calendar import BusinessCalendar, TermCalendar
from engine.clock import Clock, SystemClock
from engine.db import make_engine, session_factory
from engine.runtime import Runtime
from notifications.deadlines import notify_task_deadlines
from notifications.delivery import deliver_pending
from notifications.digest import send_daily_digests
from notifications.mailer import Mailer, make_mailer
from processes.forms import FORMS
from scheduler import POOL, Jobs, JobSpec
from web import WebApp, create_app

from .settings import Settings

Job = Callable[[sessionmaker[Session], Runtime, Clock], Any]
LOG = logging.getLogger("vsw.wiring")
TERM_DATES_RECHECK_SECONDS = 5.0
"""How often a running process looks whether another process changed the term dates (its own: at once)."""


def deployment_la_code(session: Session, configured: str | None) -> str | None:
    """The authority this deployment serves: ``configured`` (``VSW_LA_CODE``), or the only one recorded."""
    if configured:
        return configured
    codes = list(session.scalars(select(Authority.la_code).limit(2)))
    return codes[0] if len(codes) == 1 else None


class CurrentTermDates:
    """The deployment's authority's term dates as they are now, for a process that runs for weeks.

    Called for each school-day computation (``BusinessCalendar(school_days_source=...)``), it reloads the
    dates only when they may have changed: at once when this process committed a change
    (:func:`~casework.terms.term_dates_committed`), and otherwise when the database's data version
    (casework/data_version.py, raised by every write to ``term_date`` and ``inset_day``) has moved, looked
    at no more than once every ``recheck_seconds``. Another process's change is used within that time, with
    no restart. Equal dates give an equal TermCalendar, whose index of school days is shared, so a reload
    that finds nothing new costs two small queries. If the database cannot be read, the last dates are kept.
    """

    def __init__(self, factory: sessionmaker[Session], configured_la_code: str | None,
                 recheck_seconds: float = TERM_DATES_RECHECK_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._factory = factory
        self._configured = configured_la_code
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._terms: TermCalendar | None = None
        self._seen: tuple[int, tuple[str, int] | None] | None = None  # (local commits, data version)
        self._checked_at = 0.0
        self.loads = 0  # how many times the dates were read (tests and logs)

    def __call__(self) -> TermCalendar:
        with self._lock:
            now, local = self._monotonic(), term_dates_committed()
            seen_local = self._seen[0] if self._seen is not None else None
            if self._terms is None or local != seen_local or now - self._checked_at >= self._recheck:
                self._checked_at = now
                try:
                    self._refresh(local)
                except SQLAlchemyError:
                    if self._terms is None:
                        raise
                    LOG.warning("Could not read the term dates; keeping the last ones", exc_info=True)
            assert self._terms is not None
            return self._terms

    def _refresh(self, local: int) -> None:
        with self._factory() as session:
            seen = (local, version(session))
            if seen == self._seen and self._terms is not None:
                return
            la_code = deployment_la_code(session, self._configured)
            self._terms = default_term_calendar() if la_code is None else term_calendar_for(session, la_code)
            self._seen = seen
            self.loads += 1


def build_runtime(settings: Settings, factory: sessionmaker[Session] | None = None) -> Runtime:
    """The service's runtime; with ``factory``, its calendar uses the deployment's authority's term dates
    as they are when each deadline is computed (:class:`CurrentTermDates`: no restart after a change)."""
    calendar = (BusinessCalendar(default_term_calendar()) if factory is None
                else BusinessCalendar(school_days_source=CurrentTermDates(factory, settings.la_code)))
    return Runtime(forms=FORMS, calendar=calendar, access=CaseAccess(),
                   hooks=CaseworkHooks(base_url=settings.base_url), functions=SCRIPT_FUNCTIONS,
                   limits=settings.script_limits)


def reminder_lead_days(session: Session, business_key: str) -> int:
    """How many working days before a task is due its people are reminded: the child's authority's rule."""
    la_code = session.scalars(select(Child.la_code).where(Child.ref == business_key)).first()
    return rules_for(session, la_code).reminder_working_days_before_due if la_code else 3


def domain_jobs(settings: Settings, mailer: Mailer | None = None) -> list[tuple[str, Job, int]]:
    """(name, function, seconds between runs) for every domain job, each ``(factory, runtime, clock) -> report``.

    - ``deliver_notifications``: send queued emails (retries with backoff, dead letters).
    - ``send_daily_digests``: one email a day for people who chose a digest.
    - ``remind_task_deadlines``: "due soon" N working days before a task is due (N is the
      authority's ``reminder_working_days_before_due``) and "overdue" once it has passed.
    - ``open_termly_reviews``: each term, every looked-after child's PEP review.

    ``mailer`` defaults to the one the settings name. Due timers are fired by the scheduler's own
    ``fire_timers`` job.
    """
    mail = mailer or make_mailer(settings.mail_backend, settings.smtp)
    base_url = settings.base_url
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


def scheduler_jobs(settings: Settings, *, interval_seconds: int = 30, batch: int = 50) -> Jobs:
    """The scheduler's jobs against the settings' database, with the shipped runtime and the system clock:
    firing timers every ``interval_seconds`` (``batch`` cases a transaction), plus the domain's jobs."""
    url = settings.database_url
    engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, **POOL)
    factory = session_factory(engine)
    extra = [JobSpec(name, fn, seconds) for name, fn, seconds in domain_jobs(settings)]
    return Jobs(factory, build_runtime(settings, factory), SystemClock(), extra,
                timer_seconds=interval_seconds, batch=batch)


def create_web_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None) -> WebApp:
    """The web app for ``settings`` (default: read from the environment now), with the service's runtime.

    ``config`` adds Flask settings (``vsw demo`` turns secure cookies off with it). Raises
    :class:`~app.settings.SettingsError` for a bad setting and ``web.ConfigError`` for a missing one.
    """
    chosen = settings if settings is not None else Settings.from_env()
    web_app = create_app(config, chosen, build_runtime=lambda sessions: build_runtime(chosen, sessions))
    if chosen.trusted_proxies:
        # The client's address and scheme from the last VSW_TRUSTED_PROXIES proxies' X-Forwarded-For and
        # X-Forwarded-Proto (sign-in throttling counts per address); without it those headers are ignored.
        web_app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            web_app.wsgi_app, x_for=chosen.trusted_proxies, x_proto=chosen.trusted_proxies)
    return web_app
