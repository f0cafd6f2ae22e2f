"""The named notifications and their rendering (Jinja2 templates, strict about missing context).

Each notification has ``templates/<name>/subject.txt``, ``body.txt`` and ``body.html``. The HTML is
autoescaped; the text and subject are not (they are never shown as HTML). Every template gets the
context the caller gave plus ``recipient`` (a :class:`~notifications.directory.Recipient`), ``link``
(the caller's base URL + the context's ``path``) and ``base_url``. The base URL is the deployment's
``VSW_BASE_URL`` (read in ``app/settings.py`` and passed down), else :data:`DEFAULT_BASE_URL`. The
filters ``uk_date`` and ``uk_datetime`` write dates for a UK reader ("Tuesday 1 December 2026"), and
``uk_due`` a deadline's last day (one overdue from midnight is due by the day before).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError

from engine.calendar import due_by_day

from .errors import NotificationError

TEMPLATES = Path(__file__).resolve().parent / "templates"
UK = ZoneInfo("Europe/London")
DEFAULT_BASE_URL = "http://localhost:5000"
TASK_KEYS = ("child_ref", "child_name", "task_title", "due_at", "path")


@dataclass(frozen=True)
class NotificationType:
    name: str
    when: str
    """When it is sent, in plain English (docs and the admin screen show this)."""
    context: tuple[str, ...]
    """The context keys the caller must give (besides ``recipient``, added per person)."""


NOTIFICATIONS: dict[str, NotificationType] = {
    t.name: t
    for t in (
        NotificationType("task_assigned", "A task is ready for a person, or for holders of a role for this child.",
                         TASK_KEYS),
        NotificationType("task_due_soon", "An open task is due within the authority's lead time "
                         "(N working days, default 2).", TASK_KEYS),
        NotificationType("task_overdue", "An open task's due date has passed.", TASK_KEYS),
        NotificationType("escalation_raised", "A process escalates to a manager (no school place, overdue PEP, "
                         "stalled direction).", (*TASK_KEYS, "reason")),
        NotificationType("pep_returned", "The VSH returns a PEP for more work (quality assurance).",
                         (*TASK_KEYS, "returned_by", "reason")),
        NotificationType("direction_deadline", "A deadline in the direction procedure (s96A/s97A) is coming or "
                         "has passed.", ("child_ref", "child_name", "school_name", "step", "deadline", "path")),
        NotificationType("daily_digest", "Once a day, at the person's hour, for people who chose a digest: "
                         "every message held since the last one.", ("day", "items", "path")),
        NotificationType("staff_invitation", "An administrator adds a person, or sends them a new invitation: "
                         "a link to choose their password (email only, never in the in-app list).",
                         ("path", "expires_at", "invited_by", "username")),
        NotificationType("caseload_assigned", "A child, or a leaver's whole caseload and open tasks, is "
                         "allocated to a social worker.", ("path", "children", "tasks", "assigned_by", "from_name")),
        NotificationType("task_reassigned", "A manager gives one or more open tasks to a person (assigning them, "
                         "or moving them from whoever held them).", ("path", "tasks", "assigned_by")),
    )
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    link: str


def _as_datetime(value: Any) -> datetime | date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo is None else value.astimezone(UK)
    if isinstance(value, date):
        return value
    raise NotificationError(f"Not a date: {value!r}")


def uk_date(value: Any) -> str:
    """'Tuesday 1 December 2026' (a datetime is read in UK time)."""
    d = _as_datetime(value)
    return f"{d:%A} {d.day} {d:%B %Y}"


def uk_due(value: Any) -> str:
    """A deadline's last day, 'Friday 18 December 2026': one overdue from midnight is due by the day before."""
    d = _as_datetime(value)
    return uk_date(due_by_day(d, UK) if isinstance(d, datetime) else d)


def uk_datetime(value: Any) -> str:
    """'Tuesday 1 December 2026 at 9:00am' (UK time)."""
    d = _as_datetime(value)
    if not isinstance(d, datetime):
        return uk_date(d)
    hour = d.hour % 12 or 12
    return f"{uk_date(d)} at {hour}:{d:%M}{'am' if d.hour < 12 else 'pm'}"


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["uk_date"] = uk_date
    env.filters["uk_datetime"] = uk_datetime
    env.filters["uk_due"] = uk_due
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def link_for(path: str, base: str | None = None) -> str:
    """``path`` under ``base`` (default :data:`DEFAULT_BASE_URL`); a full address is kept as it is."""
    if path.startswith(("http://", "https://")):
        return path
    return (base or DEFAULT_BASE_URL).rstrip("/") + "/" + path.lstrip("/")


def notification_type(name: str) -> NotificationType:
    try:
        return NOTIFICATIONS[name]
    except KeyError:
        known = ", ".join(sorted(NOTIFICATIONS))
        raise NotificationError(f"Unknown notification {name!r}; the known ones are: {known}") from None


def render(name: str, context: Mapping[str, Any], *, base: str | None = None) -> Rendered:
    """Subject, text and HTML of notification ``name``; NotificationError if a context key is missing."""
    kind = notification_type(name)
    missing = [key for key in (*kind.context, "recipient") if key not in context]
    if missing:
        raise NotificationError(f"Notification {name!r} needs {', '.join(missing)} in its context")
    link = link_for(str(context["path"]), base)
    values = {**context, "link": link, "base_url": (base or DEFAULT_BASE_URL).rstrip("/")}
    try:
        subject = _TEXT.get_template(f"{name}/subject.txt").render(values)
        text = _TEXT.get_template(f"{name}/body.txt").render(values)
        html = _HTML.get_template(f"{name}/body.html").render(values)
    except UndefinedError as exc:
        raise NotificationError(f"Notification {name!r} could not be rendered: {exc.message}") from exc
    except TemplateNotFound as exc:
        raise NotificationError(f"Notification {name!r} has no template {exc.name}") from exc
    return Rendered(" ".join(subject.split()), text.strip() + "\n", html, link)
