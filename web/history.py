"""An instance's history for people: each audit entry's data with its form's labels and values as read.

An entry is worded in plain English ("Task completed", "Time limit reached"), names its task by the BPMN
element's name, and shows its data the way the form asked for it: the step's marshmallow schema
(``Runtime.forms[process_id][element_id]``) gives each answer its label and kind, so a date reads
"1 December 2026", money "£1,200.50", a yes/no "Yes", a choice its label and a list of records (a
PEP's actions) one line per record. Data no form describes (a process's start data, a message's
payload) gets a label from :data:`LABELS`, or from its name; what is only the engine's own bookkeeping
(the child's reference, already on the page, limits read from the authority's rules) is left out
(:data:`NOISE`). :func:`display_text` is also how the task page shows the answers given so far
(``web.forms.recorded_answers``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lxml import etree
from marshmallow import Schema, fields

from casework.records import LEGAL_STATUSES, PLACEMENT_TYPES, SCHOOL_TYPES
from engine.models import AuditEvent

from .filters import govuk_date, govuk_datetime
from .forms import _choices

WHAT = {
    "instance_started": "Process started",
    "task_completed": "Task completed",
    "task_claimed": "Task assigned to them",
    "task_unclaimed": "Task unassigned",
    "task_assigned": "Task given to someone by a manager",
    "instance_migrated": "Moved to a newer version of the process",
    "timer_fired": "Time limit reached",
    "message_received": "Message received",
    "instance_cancelled": "Process cancelled",
    "incident_opened": "Process failed: an administrator is told",
    "incident_failed_again": "Process failed again",
    "incident_retried": "Run again by an administrator",
    "incident_resolved": "Process ran again after a failure",
}
"""Audit action -> what the History's "What" column says."""

LABELS = {
    "child_name": "Child", "date_of_birth": "Date of birth", "looked_after_since": "Looked after since",
    "legal_status": "Legal status", "social_worker": "Social worker",
    "current_school_urn": "School when the process started (URN)",
    "current_placement_type": "Placement when the process started", "move_proposed_at": "Move proposed",
    "school_urn": "School (URN)", "school_name": "School", "school_type": "Type of school",
    "la_is_admission_authority": "The council is the school's admission authority",
    "permanently_excluded_from_school": "Permanently excluded from this school",
    "requested_at": "Requested", "pep_kind": "Kind of PEP", "stage": "Stage", "due_at": "Due",
    "academic_year": "Academic year", "term": "Term", "reason": "Reason", "was": "Was assigned to",
    "message": "Message", "version": "Version of the process", "to": "Assigned to",
    "from_version": "From version", "to_version": "To version",
}
"""Data no form labels (start data, a message, a cancellation) -> its label."""

CODES: Mapping[str, Mapping[str, str]] = {
    "legal_status": dict(LEGAL_STATUSES), "current_placement_type": dict(PLACEMENT_TYPES),
    "school_type": dict(SCHOOL_TYPES),
    "pep_kind": {"initial": "Initial PEP", "termly": "Termly review", "school_change": "New school PEP"},
    "stage": {"early_years": "Early years", "school_age": "School age", "post_16": "Post-16"},
}
"""Data no form labels that is a code -> each code's label."""

NOISE = frozenset({
    "child_ref", "la_code", "school_la_code", "pep_id", "lane_roles", "facts", "name", "incident",
    "school_place_limit_school_days", "area_notice_working_days", "chase_working_days",
    "esfa_outcome_working_days", "send_decision_weeks", "action_escalation_working_days",
})
"""Data left out of the history: the child's reference (the page's own), ids, the engine's bookkeeping and
limits from the authority's rules (docs/configuration.md), and a timer's name (the Task column has it)."""

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class Item:
    """One answer: its label, and its value as text, or as lines (a list of records)."""

    label: str
    text: str = ""
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One history entry as the page shows it."""

    at: dt.datetime
    actor: str
    what: str
    element_id: str | None
    task: str
    items: tuple[Item, ...]


def entries(events: Iterable[AuditEvent], forms: Mapping[str, type[Schema]],
            names: Mapping[str, str]) -> list[Entry]:
    """The page's entries: ``forms`` the process's schemas by element, ``names`` its elements' names."""
    return [Entry(e.at, e.actor, WHAT.get(e.action, e.action.replace("_", " ").capitalize()), e.element_id,
                  names.get(e.element_id, e.element_id) if e.element_id else "",
                  tuple(items(e, forms.get(e.element_id or ""))))
            for e in events]


def items(event: AuditEvent, schema: type[Schema] | None) -> list[Item]:
    data = event.data if isinstance(event.data, dict) else {}
    if event.action == "instance_started":
        start = data.get("data")
        return plain_items({"version": data.get("version"), **(start if isinstance(start, dict) else {})})
    if event.action == "message_received":
        payload = data.get("payload")
        return plain_items({"message": data.get("message"), **(payload if isinstance(payload, dict) else {})})
    if event.action == "task_completed" and schema is not None:
        return answer_items(schema, data)
    return plain_items(data)


def answer_items(schema: type[Schema], data: Mapping[str, Any]) -> list[Item]:
    """A form's answers in the form's order, labelled; then anything else given, labelled by name."""
    shown: list[Item] = []
    seen: set[str] = set()
    for name, f in schema().fields.items():
        key = f.data_key or name
        seen.add(key)
        if key in data and data[key] not in (None, "", []):
            shown.append(_item(label_of(name, f), display(f, data[key])))
    return shown + plain_items({k: v for k, v in data.items() if k not in seen})


def plain_items(data: Mapping[str, Any]) -> list[Item]:
    """Data no form describes, labelled from :data:`LABELS` or its name; :data:`NOISE` left out."""
    return [_item(LABELS.get(key, humanise(key)), CODES.get(key, {}).get(str(value)) or display(None, value))
            for key, value in data.items() if key not in NOISE and value not in (None, "", [], {})]


def _item(label: str, value: str | list[str]) -> Item:
    return Item(label, lines=tuple(value)) if isinstance(value, list) else Item(label, text=value)


def label_of(name: str, f: fields.Field[Any]) -> str:
    return str((f.metadata or {}).get("label") or humanise(name))


def humanise(name: str) -> str:
    """A data name as words: ``school_year_group`` -> "School year group"."""
    return str(name).replace("_", " ").strip().capitalize() or "Answer"


def display(f: fields.Field[Any] | None, value: Any) -> str | list[str]:
    """A value as people read it; a list of records is one line each ("Owner: Ms Patel; Due: 3 May 2027")."""
    if isinstance(value, list):
        inner = getattr(f, "inner", None)
        nested = getattr(inner, "schema", None) if isinstance(inner, fields.Nested) else None
        return [_record(nested, v) if isinstance(v, Mapping) else display_text(inner, v) for v in value]
    return display_text(f, value)


def display_text(f: fields.Field[Any] | None, value: Any) -> str:
    """One value as text: Yes/No, a choice's label, a date, money in pounds, a number, a record."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "–"
    if f is not None:
        labels = {str(v): str(label) for v, label in _choices(f)}
        if str(value) in labels:
            return labels[str(value)]
        if (f.metadata or {}).get("money"):
            return _money(value)
    if isinstance(value, Mapping):
        return _record(None, value)
    if isinstance(value, list):
        return "; ".join(display(f, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return _when(value, isinstance(f, fields.Date))
    return str(value)


def _record(schema: Schema | None, record: Mapping[str, Any]) -> str:
    by_key = {(f.data_key or n): (n, f) for n, f in schema.fields.items()} if schema is not None else {}
    parts = []
    for key, value in record.items():
        if key in NOISE or value in (None, "", [], {}):
            continue
        name, f = by_key.get(key, (key, None))
        label = label_of(name, f) if f is not None else LABELS.get(key, humanise(key))
        parts.append(f"{label}: {display_text(f, value)}")
    return "; ".join(parts)


def _money(value: Any) -> str:
    try:
        amount = Decimal(str(value).lstrip("£").replace(",", ""))
    except InvalidOperation:
        return str(value)
    return f"£{amount:,.2f}" if amount.is_finite() else str(value)


def _when(text: str, is_date: bool) -> str:
    """ISO dates and moments read as "1 December 2026" (at "2:05pm"); other text as it is."""
    try:
        if ISO_MOMENT.fullmatch(text[:16]) and len(text) > 10:
            return govuk_datetime(dt.datetime.fromisoformat(text))
        if ISO_DATE.fullmatch(text) or (is_date and ISO_DATE.fullmatch(text[:10])):
            return govuk_date(dt.date.fromisoformat(text[:10]))
    except ValueError:
        return text
    return text


@lru_cache(maxsize=64)
def element_names(bpmn_xml: str) -> dict[str, str]:
    """Each element of a BPMN document that has a name -> its name (one line: new lines become spaces)."""
    try:
        root = etree.fromstring(bpmn_xml.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False,
                                                                                   no_network=True))
    except etree.XMLSyntaxError:
        return {}
    return {str(e.get("id")): " ".join(str(e.get("name")).split()) for e in root.iter()
            if isinstance(e.tag, str) and e.get("id") and e.get("name")}
