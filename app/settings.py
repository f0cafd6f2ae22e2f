"""Every setting of the service, read from the environment here and nowhere else.

:meth:`Settings.from_env` reads and checks them all at once; a bad value is a :class:`SettingsError`
whose one-line message names each variable and what is wrong with it. The packages below take the
values as parameters (``engine.db.make_engine(url)``, ``notifications.mailer.make_mailer(...)``,
``web.create_app(settings=...)``); ``app/wiring.py`` hands them over. docs/configuration.md lists
every setting, its default and what it does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from casework.sessions import IDLE_MINUTES, MAX_HOURS
from casework.sso import DEFAULT_NAME, MATCH_FIELDS, OidcSettings, parse_role_map
from engine.db import DEFAULT_URL, database_url
from engine.limits import ScriptLimits
from notifications.catalogue import DEFAULT_BASE_URL
from notifications.mailer import MAIL_BACKENDS, SECURITY, SmtpSettings


class SettingsError(ValueError):
    """One or more settings are not usable. ``errors`` maps each variable to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        self.message = "The settings are not valid: " + "; ".join(f"{name}: {why}" for name, why in self.errors.items())
        super().__init__(self.message)


@dataclass(frozen=True)
class Settings:
    """The deployment's settings; ``Settings()`` is every default (what an empty environment gives)."""

    database_url: str = DEFAULT_URL
    """``DATABASE_URL``, with ``postgresql://`` made ``postgresql+psycopg://``."""
    secret_key: str | None = None
    """``VSW_SECRET_KEY``: signs session cookies. The web app refuses to start without it."""
    insecure_cookies: bool = False
    """``VSW_INSECURE_COOKIES=1``: session cookies over plain HTTP too (local trials only)."""
    session_idle_minutes: int = IDLE_MINUTES
    """``VSW_SESSION_IDLE_MINUTES``: a session without a request for this long is signed out."""
    session_max_hours: int = MAX_HOURS
    """``VSW_SESSION_MAX_HOURS``: a session this old is signed out, however active."""
    trusted_proxies: int = 0
    """``VSW_TRUSTED_PROXIES``: how many reverse proxies in front of the app set ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` (0: those headers are ignored); docs/deployment.md, "Reverse proxy"."""
    base_url: str = DEFAULT_BASE_URL
    """``VSW_BASE_URL``: where links in emails point, without a trailing slash."""
    base_url_given: bool = field(default=False, compare=False)
    """``VSW_BASE_URL`` was set (else ``vsw demo`` points links at the address it serves); not compared."""
    la_code: str | None = None
    """``VSW_LA_CODE``: the authority this deployment serves (None: the only one recorded)."""
    mail_backend: str = "disabled"
    """``VSW_MAIL_BACKEND``: smtp, log or disabled (default smtp when ``VSW_SMTP_HOST`` is set)."""
    smtp: SmtpSettings | None = None
    """``VSW_SMTP_*`` and ``VSW_MAIL_FROM``; set exactly when ``mail_backend`` is smtp."""
    script_limits: ScriptLimits = ScriptLimits()
    """``VSW_SCRIPT_CPU_SECONDS``, ``VSW_SCRIPT_MAX_SIZE``, ``VSW_SCRIPT_MAX_MEMORY_MB``: how much one BPMN script may do."""
    oidc: OidcSettings | None = None
    """``VSW_OIDC_*``: single sign-on with the council's identity provider (None: not set up); docs/sso.md."""
    local_passwords: bool = True
    """``VSW_LOCAL_PASSWORDS=0``: signing in with a password here is turned off (only with ``VSW_OIDC_ISSUER``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """The settings in ``env`` (the process environment by default); SettingsError if any is bad."""
        errors: dict[str, str] = {}

        def text(name: str) -> str:
            return env.get(name, "").strip()

        url = text("DATABASE_URL") or DEFAULT_URL
        if url.startswith("postgres://"):
            errors["DATABASE_URL"] = "write postgresql://, not postgres://"
        else:
            try:
                make_url(url)
            except ArgumentError:
                errors["DATABASE_URL"] = f"{url!r} is not a database URL (e.g. sqlite:///vsw.db or postgresql://…)"
        insecure = text("VSW_INSECURE_COOKIES")
        if insecure not in ("", "0", "1"):
            errors["VSW_INSECURE_COOKIES"] = f"use 1 (or leave it unset), not {insecure!r}"
        proxies = text("VSW_TRUSTED_PROXIES") or "0"
        if proxies not in ("0", "1", "2", "3", "4", "5"):
            errors["VSW_TRUSTED_PROXIES"] = ("give the number of reverse proxies in front of the app, "
                                             f"0 to 5, not {proxies!r}")
        base_url = text("VSW_BASE_URL") or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            errors["VSW_BASE_URL"] = f"give an address starting http:// or https://, not {base_url!r}"
        backend = text("VSW_MAIL_BACKEND").lower() or ("smtp" if text("VSW_SMTP_HOST") else "disabled")
        if backend not in MAIL_BACKENDS:
            errors["VSW_MAIL_BACKEND"] = f"use {', '.join(MAIL_BACKENDS)}, not {backend!r}"
        smtp = _smtp(env, errors) if backend == "smtp" else None
        default = ScriptLimits()
        cpu = _number(env, "VSW_SCRIPT_CPU_SECONDS", default.cpu_seconds, errors, most=3600)
        size = _number(env, "VSW_SCRIPT_MAX_SIZE", default.max_size, errors, whole=True, least=1000)
        memory = _number(env, "VSW_SCRIPT_MAX_MEMORY_MB", default.max_memory_mb, errors, whole=True, least=16)
        idle = int(_number(env, "VSW_SESSION_IDLE_MINUTES", IDLE_MINUTES, errors, whole=True, most=24 * 60))
        hours = int(_number(env, "VSW_SESSION_MAX_HOURS", MAX_HOURS, errors, whole=True, most=7 * 24))
        if idle > hours * 60 and not {"VSW_SESSION_IDLE_MINUTES", "VSW_SESSION_MAX_HOURS"} & errors.keys():
            errors["VSW_SESSION_IDLE_MINUTES"] = f"{idle} minutes is longer than VSW_SESSION_MAX_HOURS ({hours})"
        oidc = _oidc(env, base_url.rstrip("/") if text("VSW_BASE_URL") else None, errors)
        local = text("VSW_LOCAL_PASSWORDS") or "1"
        if local not in ("0", "1"):
            errors["VSW_LOCAL_PASSWORDS"] = f"use 0 (off) or 1 (on, the default), not {local!r}"
        elif local == "0" and oidc is None and "VSW_OIDC_ISSUER" not in errors:
            errors["VSW_LOCAL_PASSWORDS"] = ("passwords can be turned off only when VSW_OIDC_ISSUER sets up "
                                             "single sign-on")
        if errors:
            raise SettingsError(errors)
        return cls(database_url=database_url(url), secret_key=text("VSW_SECRET_KEY") or None,
                   insecure_cookies=insecure == "1", session_idle_minutes=idle, session_max_hours=hours,
                   trusted_proxies=int(proxies),
                   base_url=base_url.rstrip("/"), base_url_given=bool(text("VSW_BASE_URL")),
                   la_code=text("VSW_LA_CODE") or None, mail_backend=backend, smtp=smtp,
                   script_limits=ScriptLimits(cpu_seconds=cpu, max_size=int(size), max_memory_mb=int(memory)),
                   oidc=oidc, local_passwords=local != "0")


def _oidc(env: Mapping[str, str], base_url: str | None, errors: dict[str, str]) -> OidcSettings | None:
    """``VSW_OIDC_*`` when ``VSW_OIDC_ISSUER`` is set (else None); docs/sso.md."""
    def text(name: str) -> str:
        return env.get(name, "").strip()

    issuer = text("VSW_OIDC_ISSUER")
    if not issuer:
        others = sorted(name for name in env if name.startswith("VSW_OIDC_") and env[name].strip())
        if others:
            errors["VSW_OIDC_ISSUER"] = f"set the identity provider's issuer URL ({', '.join(others)} is set)"
        return None
    host = urlsplit(issuer).hostname or ""
    local = issuer.startswith("http://") and host in ("127.0.0.1", "localhost")  # a trial on this machine
    if not (issuer.startswith("https://") or local):
        errors["VSW_OIDC_ISSUER"] = f"give the issuer's https:// address, not {issuer!r}"
    for name in ("VSW_OIDC_CLIENT_ID", "VSW_OIDC_CLIENT_SECRET"):
        if not text(name):
            errors[name] = "set it to what the identity provider gave when this service was registered"
    match = text("VSW_OIDC_MATCH").lower() or "email"
    if match not in MATCH_FIELDS:
        errors["VSW_OIDC_MATCH"] = f"use {' or '.join(MATCH_FIELDS)}, not {match!r}"
    scopes = " ".join(text("VSW_OIDC_SCOPES").split()) or "openid email profile"
    if "openid" not in scopes.split():
        errors["VSW_OIDC_SCOPES"] = f"include openid, not only {scopes!r}"
    role_map, problem = parse_role_map(env.get("VSW_OIDC_ROLE_MAP", ""))
    if problem:
        errors["VSW_OIDC_ROLE_MAP"] = problem
    return OidcSettings(issuer=issuer, client_id=text("VSW_OIDC_CLIENT_ID"),
                        client_secret=env.get("VSW_OIDC_CLIENT_SECRET", "").strip(),
                        name=text("VSW_OIDC_NAME") or DEFAULT_NAME, claim=text("VSW_OIDC_CLAIM") or "email",
                        match=match, scopes=scopes, groups_claim=text("VSW_OIDC_GROUPS_CLAIM") or "groups",
                        role_map=role_map,
                        redirect_uri=f"{base_url}/login/sso/callback" if base_url else None)


def _smtp(env: Mapping[str, str], errors: dict[str, str]) -> SmtpSettings:
    host = env.get("VSW_SMTP_HOST", "").strip()
    if not host:
        errors["VSW_SMTP_HOST"] = "set the mail server's host name"
    port = _number(env, "VSW_SMTP_PORT", 25, errors, whole=True, most=65535)
    security = env.get("VSW_SMTP_SECURITY", "").strip().lower() or "none"
    if security not in SECURITY:
        errors["VSW_SMTP_SECURITY"] = f"use {', '.join(SECURITY)}, not {security!r}"
    timeout = _number(env, "VSW_SMTP_TIMEOUT_SECONDS", 30, errors)
    return SmtpSettings(host=host, port=int(port), security=security, user=env.get("VSW_SMTP_USER") or None,
                        password=env.get("VSW_SMTP_PASSWORD") or None,
                        mail_from=env.get("VSW_MAIL_FROM", "").strip() or SmtpSettings.mail_from,
                        timeout_seconds=timeout)


def _number(env: Mapping[str, str], name: str, default: float, errors: dict[str, str], *,
            whole: bool = False, least: float | None = None, most: float | None = None) -> float:
    """A number above 0 (a whole one if ``whole``), from ``least`` to ``most``; ``default`` when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        errors[name] = f"give a {'whole ' if whole else ''}number, not {raw!r}"
        return default
    low = least if least is not None else (1 if whole else 0)
    if not math.isfinite(value) or value <= 0 or value < low or (most is not None and value > most):
        bound = f"at least {low:g}" if least is not None or whole else "above 0"
        errors[name] = f"{raw} is out of range ({bound}" + (f", at most {most:g})" if most is not None else ")")
        return default
    return value
