"""Handing a rendered message to a mail server (SMTP), configured from the environment.

``VSW_MAIL_BACKEND``: ``smtp`` (the default when ``VSW_SMTP_HOST`` is set), ``log`` (writes each
message to the log and counts it as sent: for the demo) or ``disabled`` (the default when no host is
set: email rows stay pending, in-app notifications still work).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Protocol

from engine.errors import InvalidData

from .errors import MailError

log = logging.getLogger("vsw.notifications.mail")
SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str
    to_email: str
    to_name: str
    subject: str
    text: str
    html: str
    date: datetime


class Mailer(Protocol):
    enabled: bool

    def send(self, mail: OutgoingMail) -> None:
        """Hand the message over, or raise MailError (``permanent`` when retrying cannot help)."""
        ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    security: str = "none"
    user: str | None = None
    password: str | None = None
    mail_from: str = "Virtual School Workflow <no-reply@localhost>"
    timeout_seconds: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """InvalidData naming the variable when a value is not usable."""
        env = os.environ if env is None else env
        errors: dict[str, list[str]] = {}
        port = _number(env, "VSW_SMTP_PORT", "25", int, errors)
        timeout = _number(env, "VSW_SMTP_TIMEOUT_SECONDS", "30", float, errors)
        security = env.get("VSW_SMTP_SECURITY", "none").strip().lower() or "none"
        if security not in SECURITY:
            errors["VSW_SMTP_SECURITY"] = ["Use none, starttls or tls."]
        host = env.get("VSW_SMTP_HOST", "").strip()
        if not host:
            errors["VSW_SMTP_HOST"] = ["Set the mail server's host name."]
        if errors:
            raise InvalidData(errors, "The SMTP settings are not valid")
        return cls(host=host, port=int(port), security=security, user=env.get("VSW_SMTP_USER") or None,
                   password=env.get("VSW_SMTP_PASSWORD") or None,
                   mail_from=env.get("VSW_MAIL_FROM") or cls.mail_from, timeout_seconds=float(timeout))


def _number(env: Mapping[str, str], name: str, default: str, kind: type, errors: dict[str, list[str]]) -> float:
    raw = env.get(name, default).strip() or default
    try:
        value = kind(raw)
    except ValueError:
        errors[name] = [f"Give a number, not {raw!r}."]
        return 0
    if value <= 0 or (name == "VSW_SMTP_PORT" and value > 65535):
        errors[name] = [f"{raw} is out of range."]
    return float(value)


def build_email(mail: OutgoingMail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = formataddr((mail.to_name, mail.to_email))
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.date)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class SmtpMailer:
    enabled = True

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, mail: OutgoingMail) -> None:
        s = self.settings
        message = build_email(mail, s.mail_from)
        try:
            if s.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            with smtp:
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if s.user:
                    smtp.login(s.user, s.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(f"recipient refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
                            and not isinstance(exc, smtplib.SMTPAuthenticationError)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from exc


class LogMailer:
    """For the demo: each message is written to the log and counts as sent."""

    enabled = True

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)
        log.info("mail (log backend) %s to %s: %s", mail.message_id, mail.to_email, mail.subject)


class DisabledMailer:
    """No mail server configured: nothing is sent and email rows stay pending."""

    enabled = False

    def send(self, mail: OutgoingMail) -> None:
        raise MailError("email delivery is disabled (VSW_SMTP_HOST is not set)")


def mailer_from_env(env: Mapping[str, str] | None = None) -> Mailer:
    env = os.environ if env is None else env
    backend = env.get("VSW_MAIL_BACKEND", "").strip().lower() or ("smtp" if env.get("VSW_SMTP_HOST") else "disabled")
    if backend == "smtp":
        return SmtpMailer(SmtpSettings.from_env(env))
    if backend == "log":
        return LogMailer()
    if backend == "disabled":
        log.warning("email delivery is disabled: VSW_SMTP_HOST is not set; emails stay queued, in-app still works")
        return DisabledMailer()
    raise InvalidData({"VSW_MAIL_BACKEND": ["Use smtp, log or disabled."]}, "The mail settings are not valid")
