"""Handing a rendered message to a mail server (SMTP), or not.

The backend is one of :data:`MAIL_BACKENDS`: ``smtp`` (through :class:`SmtpSettings`), ``log`` (writes
each message to the log and counts it as sent: for the demo) or ``disabled`` (email rows stay pending,
in-app notifications still work). :func:`make_mailer` builds one; the settings themselves
(``VSW_MAIL_BACKEND``, ``VSW_SMTP_*``) are read and checked in ``app/settings.py``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Protocol

from .errors import MailError

log = logging.getLogger("vsw.notifications.mail")
SECURITY = ("none", "starttls", "tls")
MAIL_BACKENDS = ("smtp", "log", "disabled")


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


def make_mailer(backend: str, smtp: SmtpSettings | None = None) -> Mailer:
    """The mailer for ``backend`` (one of :data:`MAIL_BACKENDS`); ``smtp`` is needed for ``smtp``."""
    if backend == "smtp":
        if smtp is None:
            raise ValueError("the smtp mail backend needs SMTP settings (VSW_SMTP_HOST)")
        return SmtpMailer(smtp)
    if backend == "log":
        return LogMailer()
    if backend == "disabled":
        log.warning("email delivery is disabled: VSW_SMTP_HOST is not set; emails stay queued, in-app still works")
        return DisabledMailer()
    raise ValueError(f"unknown mail backend {backend!r}: use {', '.join(MAIL_BACKENDS)}")
