"""The composition root puts the parts together from the settings: the runtime, the scheduler's jobs and the
production web app (what ``gunicorn 'app.wiring:create_web_app()'`` serves)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, delete, event, insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings, SettingsError
from app.wiring import (
    CurrentTermDates,
    build_runtime,
    create_web_app,
    deployment_la_code,
    domain_jobs,
    scheduler_jobs,
)
from casework.access import CaseAccess
from casework.data_version import CohortVersion
from casework.hooks import CaseworkHooks
from casework.records import InsetDay
from casework.rules import ensure_authority
from casework.terms import default_term_calendar, import_term_dates_csv
from casework.users import UserService
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.limits import ScriptLimits
from scheduler import FIRE_TIMERS, JobFailed
from tests.hashing import FAST_HASHER
from tests.web.support import csrf_token, login
from web import ConfigError

INSET_DAY = date(2026, 11, 2)  # a Monday in the autumn term
TERMS_WITH_AN_INSET_DAY = ("kind,academic_year,term,starts_on,ends_on\n"
                           "term,2026/27,autumn,2026-09-02,2026-12-18\n"
                           "half_term,2026/27,autumn,2026-10-26,2026-10-30\n"
                           "inset,2026/27,autumn,2026-11-02,2026-11-02\n")


def authorities(factory: sessionmaker[Session], *codes: str) -> None:
    with unit_of_work(factory) as session:
        for code in codes:
            ensure_authority(session, code, f"Council {code}")
        import_term_dates_csv(session, codes[0], TERMS_WITH_AN_INSET_DAY)


def test_the_deployments_authority_is_the_configured_one_else_the_only_one_recorded(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        assert deployment_la_code(session, None) is None
        assert deployment_la_code(session, "935") == "935"
    authorities(factory, "935")
    with factory() as session:
        assert deployment_la_code(session, None) == "935"
    authorities(factory, "936")
    with factory() as session:
        assert deployment_la_code(session, None) is None
        assert deployment_la_code(session, "936") == "936"


def test_the_runtime_uses_the_configured_authoritys_term_dates_base_url_and_script_limits(factory: sessionmaker[Session]) -> None:
    assert default_term_calendar().is_school_day(INSET_DAY)
    authorities(factory, "935", "936")
    limits = ScriptLimits(cpu_seconds=0.5, max_size=5000)
    ours = build_runtime(Settings(la_code="935", base_url="https://vsw.council.gov.uk", script_limits=limits), factory)
    assert ours.calendar.is_school_day(INSET_DAY) is False
    assert ours.limits == limits
    assert isinstance(ours.access, CaseAccess)
    assert isinstance(ours.hooks, CaseworkHooks) and ours.hooks.base_url == "https://vsw.council.gov.uk"
    assert build_runtime(Settings(la_code="936"), factory).calendar.is_school_day(INSET_DAY)
    assert build_runtime(Settings(la_code="935")).calendar.is_school_day(INSET_DAY)  # no database: the defaults


def test_the_domain_jobs_are_named_with_their_intervals() -> None:
    assert [(name, seconds) for name, _, seconds in domain_jobs(Settings(mail_backend="log"))] == [
        ("deliver_notifications", 30), ("send_daily_digests", 600), ("remind_task_deadlines", 900),
        ("open_termly_reviews", 3600)]


def test_the_scheduler_jobs_run_against_the_settings_database(db_url: str) -> None:
    jobs = scheduler_jobs(Settings(database_url=db_url, mail_backend="log"), interval_seconds=45, batch=7)
    try:
        assert [(s.name, s.seconds) for s in jobs.specs()][0] == (FIRE_TIMERS, 45)
        assert jobs.batch == 7
        assert str(jobs.factory.kw["bind"].url) == make_url(db_url).render_as_string(hide_password=True)
        results = jobs.run_all_once()
        assert [name for name, report in results.items() if isinstance(report, JobFailed)] == []
        assert results[FIRE_TIMERS].fired == 0
    finally:
        jobs.factory.kw["bind"].dispose()


def test_the_production_app_reads_the_environment_and_serves_pages(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VSW_SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("VSW_INSECURE_COOKIES", raising=False)
    app = create_web_app()
    try:
        assert app.config["SECRET_KEY"] == "from-the-environment"
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert isinstance(app.extensions["vsw"].runtime.access, CaseAccess)
        response = app.test_client().get("/login")
        assert response.status_code == 200
        assert "; Secure" in response.headers["Set-Cookie"]
    finally:
        app.extensions["vsw"].engine.dispose()


def test_insecure_cookies_are_a_setting_for_plain_http_trials(db_url: str) -> None:
    app = create_web_app(Settings(database_url=db_url, secret_key="s" * 32, insecure_cookies=True))
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is False
    finally:
        app.extensions["vsw"].engine.dispose()


def test_the_production_app_refuses_to_start_without_a_secret_key(db_url: str) -> None:
    with pytest.raises(ConfigError, match="VSW_SECRET_KEY is not set"):
        create_web_app(Settings(database_url=db_url))


def test_the_production_app_refuses_a_bad_setting_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSW_BASE_URL", "vsw.council.gov.uk")
    with pytest.raises(SettingsError, match="VSW_BASE_URL"):
        create_web_app()


# -- term dates changed while the processes run --------------------------------------------------------

WITHOUT_THE_INSET_DAY = TERMS_WITH_AN_INSET_DAY.replace("inset,2026/27,autumn,2026-11-02,2026-11-02\n", "")
FRIDAY_BEFORE = date(2026, 10, 30)  # the last day of half term; the next school day is the INSET Monday's


def test_a_deadline_computed_after_the_administrator_changes_the_term_dates_uses_them_in_the_running_processes(
    db_url: str, factory: sessionmaker[Session]
) -> None:
    authorities(factory, "935")
    with unit_of_work(factory) as session:
        UserService(session, FrozenClock(datetime.now(UTC)), FAST_HASHER).add(
            "ada", "Ada Admin", "ada@council.example", "a long enough secret", ["admin"], "935")
    settings = Settings(database_url=db_url, secret_key="s" * 32, la_code="935", mail_backend="log")
    web_app = create_web_app(settings, {"TESTING": True, "VSW_PASSWORD_HASHER": FAST_HASHER})
    jobs = scheduler_jobs(settings)
    try:
        web_calendar, scheduler_calendar = web_app.extensions["vsw"].runtime.calendar, jobs.runtime.calendar
        assert web_calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 3)  # the INSET day is skipped
        assert scheduler_calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 3)
        client = web_app.test_client()
        assert login(client, "ada", "a long enough secret").status_code == 302
        token = csrf_token(client.get("/admin/settings/terms/upload").text)
        preview = client.post("/admin/settings/terms/upload", content_type="multipart/form-data", data={
            "csrf_token": token, "file": (io.BytesIO(WITHOUT_THE_INSET_DAY.encode()), "terms.csv")})
        kept = re.search(r'name="upload_token" value="([^"]+)"', preview.text)
        assert kept, preview.text
        assert client.post("/admin/settings/terms/upload",
                           data={"csrf_token": token, "upload_token": kept.group(1)}).status_code == 302
        # the same running web app and scheduler, no restart: 2 November is a school day now
        assert web_calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 2)
        assert web_calendar.school_days_between(FRIDAY_BEFORE, date(2026, 11, 2)) == 1
        assert scheduler_calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 2)
    finally:
        web_app.extensions["vsw"].engine.dispose()
        jobs.factory.kw["bind"].dispose()


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def another_process_replaces_the_term_dates(db_engine: Engine) -> None:
    """What a second process's commit looks like to this one: new rows and a raised data version, written
    without this process's sessions (so nothing in this process hears of it)."""
    with db_engine.begin() as connection:
        connection.execute(delete(InsetDay).where(InsetDay.la_code == "935"))
        raised = connection.execute(update(CohortVersion).values(number=CohortVersion.number + 1))
        if not raised.rowcount:
            connection.execute(insert(CohortVersion).values(id=1, token="another", number=1))


def test_another_processs_change_is_used_within_the_recheck_interval_and_no_day_counted_queries_the_database(
    db_engine: Engine, factory: sessionmaker[Session]
) -> None:
    authorities(factory, "935")
    ticking = Ticking()
    source = CurrentTermDates(factory, "935", recheck_seconds=5.0, monotonic=ticking)
    calendar = BusinessCalendar(school_days_source=source)
    statements: list[str] = []
    event.listen(db_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 3)
    assert source.loads == 1 and statements
    statements.clear()
    for n in range(1, 25):  # within the interval: no query at all, whatever is counted
        calendar.add_school_days(FRIDAY_BEFORE, n)
        calendar.school_days_between(FRIDAY_BEFORE, date(2026, 12, 18))
        calendar.is_school_day(date(2026, 11, 2))
    assert statements == []
    another_process_replaces_the_term_dates(db_engine)
    ticking.now += 4.0
    assert calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 3)  # not looked at yet
    ticking.now += 1.0
    assert calendar.add_school_days(FRIDAY_BEFORE, 1) == date(2026, 11, 2)  # the recheck sees the new version
    assert source.loads == 2
    ticking.now += 5.0
    statements.clear()
    assert calendar.is_school_day(date(2026, 11, 2))
    assert source.loads == 2 and len(statements) == 1  # nothing changed: one look at the version, no reload
