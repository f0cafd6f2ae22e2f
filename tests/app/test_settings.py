"""Every setting is read in app/settings.py: its default, its variable, and a one-line refusal of a bad value."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError
from engine.limits import ScriptLimits
from notifications.mailer import SmtpSettings
from tests.test_architecture import SETTINGS_MODULE, environment_readers

EVERYTHING = {
    "DATABASE_URL": "postgresql://vsw:secret@db.internal:5432/vsw?sslmode=require",
    "VSW_SECRET_KEY": "a-long-random-secret",
    "VSW_INSECURE_COOKIES": "1",
    "VSW_BASE_URL": "https://vsw.council.gov.uk/",
    "VSW_LA_CODE": " 935 ",
    "VSW_SMTP_HOST": "smtp.la.example",
    "VSW_SMTP_PORT": "587",
    "VSW_SMTP_SECURITY": "STARTTLS",
    "VSW_SMTP_USER": "vsw",
    "VSW_SMTP_PASSWORD": "pw",
    "VSW_MAIL_FROM": "VSW <vsw@la.example>",
    "VSW_SMTP_TIMEOUT_SECONDS": "12.5",
    "VSW_SCRIPT_CPU_SECONDS": "0.5",
    "VSW_SCRIPT_MAX_SIZE": "20000",
    "VSW_SCRIPT_MAX_MEMORY_MB": "64",
    "VSW_SESSION_IDLE_MINUTES": "15",
    "VSW_SESSION_MAX_HOURS": "8",
}


def test_an_empty_environment_gives_every_default() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///vsw.db"
    assert settings.secret_key is None and settings.insecure_cookies is False
    assert settings.base_url == "http://localhost:5000"
    assert settings.la_code is None
    assert (settings.mail_backend, settings.smtp) == ("disabled", None)
    assert settings.script_limits == ScriptLimits() == ScriptLimits(cpu_seconds=2.0, max_size=1_000_000)
    assert (settings.session_idle_minutes, settings.session_max_hours) == (30, 12)


def test_every_setting_is_read_from_its_variable() -> None:
    assert Settings.from_env(EVERYTHING) == Settings(
        database_url="postgresql+psycopg://vsw:secret@db.internal:5432/vsw?sslmode=require",
        secret_key="a-long-random-secret",
        insecure_cookies=True,
        base_url="https://vsw.council.gov.uk",
        la_code="935",
        mail_backend="smtp",
        smtp=SmtpSettings("smtp.la.example", 587, "starttls", "vsw", "pw", "VSW <vsw@la.example>", 12.5),
        script_limits=ScriptLimits(cpu_seconds=0.5, max_size=20_000, max_memory_mb=64),
        session_idle_minutes=15,
        session_max_hours=8,
    )


def test_blank_values_count_as_unset() -> None:
    blank = dict.fromkeys(["DATABASE_URL", "VSW_SECRET_KEY", "VSW_INSECURE_COOKIES", "VSW_BASE_URL", "VSW_LA_CODE",
                           "VSW_MAIL_BACKEND", "VSW_SMTP_HOST"], "  ")
    assert Settings.from_env(blank) == Settings()


def test_smtp_settings_have_their_defaults_and_are_not_read_for_another_backend() -> None:
    assert Settings.from_env({"VSW_SMTP_HOST": "smtp.la.example"}).smtp == SmtpSettings("smtp.la.example")
    logged = Settings.from_env({"VSW_MAIL_BACKEND": "LOG", "VSW_SMTP_HOST": "smtp.la.example",
                                "VSW_SMTP_PORT": "not checked"})
    assert (logged.mail_backend, logged.smtp) == ("log", None)


def test_insecure_cookies_are_off_with_zero() -> None:
    assert Settings.from_env({"VSW_INSECURE_COOKIES": "0"}).insecure_cookies is False


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSW_LA_CODE", "935")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////var/lib/vsw/vsw.db")
    settings = Settings.from_env()
    assert (settings.la_code, settings.database_url) == ("935", "sqlite:////var/lib/vsw/vsw.db")


@pytest.mark.parametrize(("env", "message"), [
    ({"DATABASE_URL": "postgres://vsw@db/vsw"}, "DATABASE_URL: write postgresql://, not postgres://"),
    ({"DATABASE_URL": "vsw.db"}, "DATABASE_URL: 'vsw.db' is not a database URL"),
    ({"VSW_INSECURE_COOKIES": "true"}, "VSW_INSECURE_COOKIES: use 1 (or leave it unset), not 'true'"),
    ({"VSW_BASE_URL": "vsw.council.gov.uk"},
     "VSW_BASE_URL: give an address starting http:// or https://, not 'vsw.council.gov.uk'"),
    ({"VSW_MAIL_BACKEND": "pigeon"}, "VSW_MAIL_BACKEND: use smtp, log, disabled, not 'pigeon'"),
    ({"VSW_MAIL_BACKEND": "smtp"}, "VSW_SMTP_HOST: set the mail server's host name"),
    ({"VSW_SMTP_HOST": "h", "VSW_SMTP_PORT": "abc"}, "VSW_SMTP_PORT: give a whole number, not 'abc'"),
    ({"VSW_SMTP_HOST": "h", "VSW_SMTP_PORT": "70000"}, "VSW_SMTP_PORT: 70000 is out of range (at least 1, at most 65535)"),
    ({"VSW_SMTP_HOST": "h", "VSW_SMTP_SECURITY": "ssl3"}, "VSW_SMTP_SECURITY: use none, starttls, tls, not 'ssl3'"),
    ({"VSW_SMTP_HOST": "h", "VSW_SMTP_TIMEOUT_SECONDS": "-1"}, "VSW_SMTP_TIMEOUT_SECONDS: -1 is out of range (above 0)"),
    ({"VSW_SMTP_HOST": "h", "VSW_SMTP_TIMEOUT_SECONDS": "nan"}, "VSW_SMTP_TIMEOUT_SECONDS: nan is out of range"),
    ({"VSW_SCRIPT_CPU_SECONDS": "0"}, "VSW_SCRIPT_CPU_SECONDS: 0 is out of range (above 0, at most 3600)"),
    ({"VSW_SCRIPT_CPU_SECONDS": "two"}, "VSW_SCRIPT_CPU_SECONDS: give a number, not 'two'"),
    ({"VSW_SCRIPT_MAX_SIZE": "999"}, "VSW_SCRIPT_MAX_SIZE: 999 is out of range (at least 1000)"),
    ({"VSW_SCRIPT_MAX_SIZE": "1e6"}, "VSW_SCRIPT_MAX_SIZE: give a whole number, not '1e6'"),
    ({"VSW_SCRIPT_MAX_MEMORY_MB": "8"}, "VSW_SCRIPT_MAX_MEMORY_MB: 8 is out of range (at least 16)"),
    ({"VSW_SESSION_IDLE_MINUTES": "0"}, "VSW_SESSION_IDLE_MINUTES: 0 is out of range (at least 1, at most 1440)"),
    ({"VSW_SESSION_IDLE_MINUTES": "half an hour"}, "VSW_SESSION_IDLE_MINUTES: give a whole number, not 'half an hour'"),
    ({"VSW_SESSION_MAX_HOURS": "200"}, "VSW_SESSION_MAX_HOURS: 200 is out of range (at least 1, at most 168)"),
    ({"VSW_SESSION_MAX_HOURS": "1.5"}, "VSW_SESSION_MAX_HOURS: give a whole number, not '1.5'"),
    ({"VSW_SESSION_IDLE_MINUTES": "90", "VSW_SESSION_MAX_HOURS": "1"},
     "VSW_SESSION_IDLE_MINUTES: 90 minutes is longer than VSW_SESSION_MAX_HOURS (1)"),
])
def test_a_bad_value_is_refused_in_one_line_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert str(refused.value).startswith(f"The settings are not valid: {message}")
    assert "\n" not in str(refused.value)


def test_every_bad_value_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"VSW_SMTP_HOST": "smtp.la.example", "VSW_SMTP_PORT": "abc", "VSW_SMTP_SECURITY": "ssl3",
                           "VSW_SMTP_TIMEOUT_SECONDS": "-1", "VSW_BASE_URL": "nowhere"})
    assert sorted(refused.value.errors) == ["VSW_BASE_URL", "VSW_SMTP_PORT", "VSW_SMTP_SECURITY",
                                            "VSW_SMTP_TIMEOUT_SECONDS"]


def test_no_product_module_but_app_settings_reads_the_environment() -> None:
    assert list(environment_readers()) == [SETTINGS_MODULE]


# -- single sign-on (docs/sso.md) ------------------------------------------------------------------------------

SSO = {"VSW_OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0", "VSW_OIDC_CLIENT_ID": "client-id",
       "VSW_OIDC_CLIENT_SECRET": "the-secret"}


def test_single_sign_on_is_off_and_passwords_on_in_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.oidc is None and settings.local_passwords is True


def test_every_single_sign_on_setting_is_read_from_its_variable() -> None:
    from casework.sso import OidcSettings

    settings = Settings.from_env({**SSO, "VSW_BASE_URL": "https://vsw.council.gov.uk/", "VSW_LOCAL_PASSWORDS": "0",
                                  "VSW_OIDC_NAME": "Council account", "VSW_OIDC_CLAIM": "preferred_username",
                                  "VSW_OIDC_MATCH": "Username", "VSW_OIDC_SCOPES": " openid  email ",
                                  "VSW_OIDC_GROUPS_CLAIM": "roles",
                                  "VSW_OIDC_ROLE_MAP": "VSW Heads=vsh; a=b group = social_worker , manager ;"})
    assert settings.local_passwords is False
    assert settings.oidc == OidcSettings(
        issuer="https://login.microsoftonline.com/tenant-id/v2.0", client_id="client-id", client_secret="the-secret",
        name="Council account", claim="preferred_username", match="username", scopes="openid email",
        groups_claim="roles",
        role_map=(("VSW Heads", frozenset({"vsh"})), ("a=b group", frozenset({"social_worker", "manager"}))),
        redirect_uri="https://vsw.council.gov.uk/login/sso/callback")
    assert "the-secret" not in repr(settings)


def test_single_sign_on_defaults_match_the_email_claim_to_the_users_email() -> None:
    oidc = Settings.from_env(SSO).oidc
    assert oidc is not None
    assert (oidc.claim, oidc.match, oidc.scopes, oidc.groups_claim, oidc.role_map, oidc.redirect_uri) == (
        "email", "email", "openid email profile", "groups", (), None)
    assert oidc.name == "your organisation's account"
    assert oidc.metadata_url == "https://login.microsoftonline.com/tenant-id/v2.0/.well-known/openid-configuration"


@pytest.mark.parametrize(("env", "message"), [
    ({"VSW_LOCAL_PASSWORDS": "0"},
     "VSW_LOCAL_PASSWORDS: passwords can be turned off only when VSW_OIDC_ISSUER sets up single sign-on"),
    ({**SSO, "VSW_LOCAL_PASSWORDS": "no"}, "VSW_LOCAL_PASSWORDS: use 0 (off) or 1 (on, the default), not 'no'"),
    ({"VSW_OIDC_CLIENT_ID": "x"}, "VSW_OIDC_ISSUER: set the identity provider's issuer URL (VSW_OIDC_CLIENT_ID is set)"),
    ({**SSO, "VSW_OIDC_ISSUER": "http://idp.council.gov.uk"},
     "VSW_OIDC_ISSUER: give the issuer's https:// address, not 'http://idp.council.gov.uk'"),
    ({**SSO, "VSW_OIDC_CLIENT_SECRET": " "},
     "VSW_OIDC_CLIENT_SECRET: set it to what the identity provider gave when this service was registered"),
    ({**SSO, "VSW_OIDC_MATCH": "upn"}, "VSW_OIDC_MATCH: use email or username, not 'upn'"),
    ({**SSO, "VSW_OIDC_SCOPES": "email profile"}, "VSW_OIDC_SCOPES: include openid, not only 'email profile'"),
    ({**SSO, "VSW_OIDC_ROLE_MAP": "Heads=vsh;Teachers"},
     "VSW_OIDC_ROLE_MAP: entry 2 ('Teachers') is not group=role[,role]"),
    ({**SSO, "VSW_OIDC_ROLE_MAP": "Heads=vsh,head_teacher"},
     "VSW_OIDC_ROLE_MAP: entry 1 names unknown roles head_teacher (roles: admin,"),
])
def test_a_bad_single_sign_on_setting_is_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert str(refused.value).startswith(f"The settings are not valid: {message}")


def test_a_local_issuer_may_use_plain_http_for_trials() -> None:
    oidc = Settings.from_env({**SSO, "VSW_OIDC_ISSUER": "http://127.0.0.1:8080/realms/vsw"}).oidc
    assert oidc is not None and oidc.issuer == "http://127.0.0.1:8080/realms/vsw"
