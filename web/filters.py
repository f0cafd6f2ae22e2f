"""Template filters: dates the GOV.UK way (in UK time), role names, audit data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from engine.calendar import due_by_day

UK = ZoneInfo("Europe/London")

ROLE_NAMES = {
    "social_worker": "Social worker",
    "designated_teacher": "Designated teacher",
    "vsh": "Virtual school head (VSH)",
    "manager": "Manager",
    "nominated_officer": "Nominated officer",
    "dcs": "Director of children's services (DCS)",
    "admissions_officer": "Admissions officer",
    "sen_officer": "SEN officer",
    "iro": "Independent reviewing officer (IRO)",
    "admin": "Administrator",
}
"""How each role (``casework.users.ROLES``) is shown to people: the one mapping every page uses."""
VOWEL_SOUNDS = ("a", "e", "i", "o", "u")


def govuk_date(value: date | datetime | None) -> str:
    """12 May 2025 (the UK day, for a moment in time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(UK) if value.tzinfo else value
    return f"{value.day} {value:%B %Y}"


def govuk_due(value: datetime | None) -> str:
    """The last day a deadline can be met on: "18 December 2026" for one that is overdue from midnight."""
    return "" if value is None else govuk_date(due_by_day(value, UK))


def govuk_datetime(value: datetime | None) -> str:
    """12 May 2025 at 2:05pm (UK time)."""
    if value is None:
        return ""
    local = value.astimezone(UK) if value.tzinfo else value
    hour = local.hour % 12 or 12
    return f"{govuk_date(local)} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def role_name(role: str | None) -> str:
    if not role:
        return "Anyone"
    return ROLE_NAMES.get(role, role.replace("_", " ").capitalize())


def role_names(roles: Iterable[str]) -> str:
    """Several roles, by name, in a stable order: "Manager, Social worker"."""
    return ", ".join(sorted(role_name(r) for r in roles))


def with_article(noun: str) -> str:
    """``noun`` after "a" or "an" by its first letter: "an action", "a placement" (a label, lower-cased)."""
    text = noun.strip()
    return f"{'an' if text[:1].lower() in VOWEL_SOUNDS else 'a'} {text}"


def data_items(data: Any) -> list[tuple[str, str]]:
    """Audit data as (key, value) pairs for a summary list."""
    if not isinstance(data, dict):
        return [] if data is None else [("", str(data))]
    return [(str(k), _text(v)) for k, v in data.items()]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "–"
    return str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        govuk_date=govuk_date, govuk_due=govuk_due, govuk_datetime=govuk_datetime, role_name=role_name,
        role_names=role_names, with_article=with_article, data_items=data_items,
    )
