"""The composition root puts the parts together from the settings: the runtime, the scheduler's jobs and the
production web app (what ``gunicorn 'app.wiring:create_web_app()'`` serves)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings, SettingsError
from app.wiring import build_runtime, create_web_app, deployment_la_code, domain_jobs, scheduler_jobs
from casework.access import CaseAccess
from casework.hooks import CaseworkHooks
from casework.rules import ensure_authority
from casework.terms import default_term_calendar, import_term_dates_csv
from engine.db import unit_of_work
from engine.limits import ScriptLimits
from scheduler import FIRE_TIMERS, JobFailed
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
