"""Marshmallow schema → GOV.UK form fields, and posted form → data for the schema.

The schema is the single source: it names, labels and orders the fields here,
and validates on the server (in the engine). This module only reads HTML form
posts into plain values and words errors the GOV.UK way.

Reading is bounded, so no answer can make the service fail: a whole number is 1 to 9 ASCII digits, a
number at most 12 digits and 6 decimals, a date's day and month 1 or 2 digits and its year 4, from
1900 to 2100; a control character (other than tab and new lines) is refused in every field. A value
refused here is handed to the schema as :data:`REFUSED`, which no field loads, so the task cannot be
completed with it; the error says why, naming the field (and its range). Free text's maximum length
is the schema's ``Length`` validator: shown on the page (GOV.UK character count) and enforced by it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate

from .bounds import CONTROL_IN_VALUE

DATE_PARTS = ("day", "month", "year")
YEARS = (1900, 2100)
INTEGER = re.compile(r"-?[0-9]{1,9}")
NUMBER = re.compile(r"-?(?:[0-9]{1,12}(?:\.[0-9]{0,6})?|\.[0-9]{1,6})")
DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
YEAR = re.compile(r"[0-9]{4}")
LARGEST_INTEGER = 999_999_999
SEARCHES = frozenset({"schools", "people", "authorities"})
"""What a text field's ``autocomplete`` metadata may name: its /search/<it> endpoint (web/search.py)."""


class _Refused:
    """What :func:`read_form` hands the schema for an answer it refused: no marshmallow field loads it."""

    def __repr__(self) -> str:
        return "<refused answer>"


REFUSED = _Refused()


@dataclass
class FieldView:
    name: str
    label: str
    kind: str  # text | textarea | date | boolean | choice | integer | number | money | rows
    required: bool
    hint: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""  # str, or {"day","month","year"} for dates
    errors: list[str] = field(default_factory=list)
    rows: list[list[FieldView]] = field(default_factory=list)
    """For a list of records (``List(Nested(...))``): one set of sub-fields per row."""
    item_label: str = "Item"
    filled: list[int] = field(default_factory=list)
    """For rows: which rows were filled in, in order (the list's index -> the row shown)."""
    max_length: int | None = None
    """For text: the most characters the schema takes (its ``Length`` validator's ``max``)."""
    minimum: float | None = None
    maximum: float | None = None
    """For numbers: the schema's ``Range`` (None where it sets no bound)."""
    autocomplete: str | None = None
    """For text naming a school, a person or an authority: ``schools``, ``people`` or ``authorities`` (the
    field's ``autocomplete`` metadata); web/static/js/autocomplete.js offers matches from /search/<it>."""

    @property
    def anchor(self) -> str:
        """The element the error summary links to."""
        if self.kind == "date":
            part = next((p for p in DATE_PARTS if p in " ".join(self.errors)), "day")
            return f"{self.name}-{part}"
        return self.name


DEFAULT_ROWS = 5


def field_views(schema: Schema, prefix: str = "") -> list[FieldView]:
    views = []
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        meta = f.metadata or {}
        kind = _kind(f)
        view = FieldView(
            name=prefix + (f.data_key or name),
            label=str(meta.get("label") or name.replace("_", " ").capitalize()),
            kind=kind,
            required=bool(f.required),
            hint=meta.get("hint"),
            choices=[(str(v), str(lbl)) for v, lbl in _choices(f)],
            value={p: "" for p in DATE_PARTS} if kind == "date" else "",
            max_length=max_length(f) if kind in ("text", "textarea") else None,
            autocomplete=meta.get("autocomplete") if kind == "text" and meta.get("autocomplete") in SEARCHES else None,
        )
        if kind in ("integer", "number"):
            view.minimum, view.maximum = _range(f)
        if kind == "rows":
            inner = f.inner.schema  # type: ignore[attr-defined]
            view.item_label = str(meta.get("item_label") or "Item")
            view.rows = [field_views(inner, f"{view.name}-{i}-") for i in range(int(meta.get("rows", DEFAULT_ROWS)))]
        views.append(view)
    return views


def fill_views(views: list[FieldView], data: Mapping[str, Any]) -> bool:
    """Show ``data`` (answers as the schema loaded them) in the fields; True if any was filled."""
    filled = False
    for view in views:
        value = data.get(view.name)
        if value is None or value == "":
            continue
        if view.kind == "rows":
            items = [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
            for index, (row, item) in enumerate(zip(view.rows, items, strict=False)):
                prefix = f"{view.name}-{index}-"
                fill_views(row, {prefix + key: v for key, v in item.items()})
                view.filled.append(index)
            filled = filled or bool(view.filled)
            continue
        if view.kind == "date":
            try:
                day = dt.date.fromisoformat(str(value)[:10])
            except ValueError:
                continue
            view.value = {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
        elif view.kind == "boolean":
            view.value = "yes" if value is True else "no" if value is False else ""
        elif isinstance(value, float) and value.is_integer():
            view.value = str(int(value))
        else:
            view.value = str(value)
        filled = True
    return filled


def _kind(f: fields.Field[Any]) -> str:
    if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
        return "rows"
    if isinstance(f, fields.Boolean):
        return "boolean"
    if _choices(f):
        return "choice"
    if isinstance(f, fields.Date):
        return "date"
    if (f.metadata or {}).get("money"):
        return "money"  # typed as people type it ("£1,200.50"): the schema reads the text
    if isinstance(f, fields.Integer):
        return "integer"
    if isinstance(f, fields.Number):
        return "number"
    return "textarea" if (f.metadata or {}).get("multiline") else "text"


def max_length(f: fields.Field[Any]) -> int | None:
    """The most characters ``f`` takes: the smallest ``max`` of its ``Length`` validators (None: no limit)."""
    limits = [v.max for v in f.validators if isinstance(v, validate.Length) and v.max is not None]
    return min(limits) if limits else None


def _range(f: fields.Field[Any]) -> tuple[float | None, float | None]:
    lows = [float(v.min) for v in f.validators if isinstance(v, validate.Range) and v.min is not None]
    highs = [float(v.max) for v in f.validators if isinstance(v, validate.Range) and v.max is not None]
    return (max(lows) if lows else None, min(highs) if highs else None)


def _choices(f: fields.Field[Any]) -> list[tuple[Any, Any]]:
    meta_choices = (f.metadata or {}).get("choices")
    if meta_choices:
        return [tuple(c) if isinstance(c, list | tuple) else (c, c) for c in meta_choices]
    for v in f.validators:
        if isinstance(v, validate.OneOf):
            labels = list(v.labels) if v.labels else [str(c) for c in v.choices]
            return list(zip(v.choices, labels, strict=False))
    return []


def read_form(views: list[FieldView], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Fill ``views`` with what was posted; return (data for the schema, errors found reading it)."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for view in views:
        if view.kind == "rows":
            _read_rows(view, form, data, errors)
            continue
        if view.kind == "date":
            _read_date(view, form, data, errors)
            continue
        raw = form.get(view.name, "")
        if view.kind == "textarea":  # a browser sends each new line as CR LF; the character count counts one
            raw = raw.replace("\r\n", "\n").replace("\r", "\n").strip("\n ")
        else:
            raw = raw.strip()
        view.value = raw
        if raw == "":
            continue  # blank means not given: the schema decides whether that is allowed
        if CONTROL_IN_VALUE.search(raw):
            view.value = CONTROL_IN_VALUE.sub("", raw)
            _refuse(view, data, errors, NOT_ALLOWED)
        elif view.kind == "boolean":
            data[view.name] = {"yes": True, "no": False}.get(raw, raw)
        elif view.kind == "integer":
            if INTEGER.fullmatch(raw):
                data[view.name] = int(raw)
            else:
                low, high = view.minimum, view.maximum
                _refuse(view, data, errors, f"must be a whole number from {_number(low, -LARGEST_INTEGER)} "
                                            f"to {_number(high, LARGEST_INTEGER)}")
        elif view.kind == "number" and not NUMBER.fullmatch(raw):
            bounded = view.minimum is not None and view.maximum is not None
            _refuse(view, data, errors, f"must be a number from {_number(view.minimum, 0)} to "
                                        f"{_number(view.maximum, 0)}" if bounded else "must be a number")
        else:
            data[view.name] = raw
    return data, errors


NOT_ALLOWED = "had a character that is not allowed, which has been taken out: check it and send it again"


def _refuse(view: FieldView, data: dict[str, Any], errors: dict[str, list[str]], problem: str) -> None:
    data[view.name] = REFUSED
    errors[view.name] = [f"{view.label.rstrip('?')} {problem}"]


def _number(value: float | None, otherwise: int) -> str:
    number = otherwise if value is None else value
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,}"


def _read_date(view: FieldView, form: Mapping[str, str], data: dict[str, Any],
               errors: dict[str, list[str]]) -> None:
    """Day, month and year, each bounded (so no year overflows); refused with GOV.UK's wording."""
    parts = {p: form.get(f"{view.name}-{p}", "").strip() for p in DATE_PARTS}
    view.value = parts
    if not any(parts.values()):
        return
    if any(CONTROL_IN_VALUE.search(part) for part in parts.values()):
        view.value = {p: CONTROL_IN_VALUE.sub("", part) for p, part in parts.items()}
        _refuse(view, data, errors, NOT_ALLOWED)
        return
    missing = [p for p in DATE_PARTS if not parts[p]]
    day, month, year = parts["day"], parts["month"], parts["year"]
    if missing:
        problem = f"must include a {' and '.join(missing)}"
    elif not YEAR.fullmatch(year) or not YEARS[0] <= int(year) <= YEARS[1]:
        problem = f"must have a year from {YEARS[0]} to {YEARS[1]}"
    elif not (DAY_OR_MONTH.fullmatch(day) and DAY_OR_MONTH.fullmatch(month)):
        problem = "must be a real date"
    else:
        try:
            data[view.name] = dt.date(int(year), int(month), int(day)).isoformat()
            return
        except ValueError:
            problem = "must be a real date"
    _refuse(view, data, errors, problem)


def _read_rows(view: FieldView, form: Mapping[str, str], data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Rows left blank are not items; the others become the list, in the order shown."""
    items: list[dict[str, Any]] = []
    view.filled = []
    for index, row in enumerate(view.rows):
        row_data, row_errors = read_form(row, form)
        errors.update(row_errors)
        if not row_data and not row_errors:
            continue
        prefix = f"{view.name}-{index}-"
        items.append({key[len(prefix):]: value for key, value in row_data.items()})
        view.filled.append(index)
    if items:
        data[view.name] = items


def attach_errors(views: list[FieldView], errors: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Put each field's messages on it (worded for people); return the summary as (message, anchor)."""
    by_name = {v.name: v for v in views}
    for view in views:
        by_name.update({sub.name: sub for row in view.rows for sub in row})
    summary: list[tuple[str, str | None]] = []
    for name, messages in errors.items():
        named = by_name.get(name)
        if named is not None and named.kind == "rows" and isinstance(messages, Mapping):
            _attach_row_errors(named, messages, by_name)
            continue
        texts = list(dict.fromkeys(_wording(named, m) for m in _flatten(messages)))  # each message once
        if named is not None:
            named.errors = texts
    for view in views:  # the summary follows the order of the form
        summary.extend((t, view.anchor) for t in view.errors)
        for row in view.rows:
            for sub in row:
                summary.extend((t, sub.anchor) for t in sub.errors)
    for name, messages in errors.items():
        if name not in by_name:
            summary.extend((_wording(None, m), None) for m in _flatten(messages))
    return summary


def _attach_row_errors(view: FieldView, messages: Mapping[Any, Any], by_name: Mapping[str, FieldView]) -> None:
    """Marshmallow names a list item by its index in the list; show it on the row it came from."""
    for index, item_messages in messages.items():
        if not isinstance(index, int) or not isinstance(item_messages, Mapping):
            view.errors.extend(_wording(view, m) for m in _flatten(item_messages))
            continue
        row = view.filled[index] if index < len(view.filled) else index
        for sub_name, sub_messages in item_messages.items():
            sub = by_name.get(f"{view.name}-{row}-{sub_name}")
            if sub is not None:
                sub.errors = list(dict.fromkeys(_wording(sub, m) for m in _flatten(sub_messages)))


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, Mapping):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, list | tuple):
        return [m for v in messages for m in _flatten(v)]
    return [str(messages)]


def _wording(view: FieldView | None, message: str) -> str:
    if view is None:
        return message
    label = view.label.rstrip("?")
    lower = label if label[1:2].isupper() else label[:1].lower() + label[1:]
    verb = "Select" if view.kind in ("boolean", "choice") else "Enter"
    if view.kind == "rows" and message in ("Missing data for required field.", "Field may not be null."):
        return f"Add at least one {view.item_label.lower()}"
    if message in ("Missing data for required field.", "Field may not be null."):
        return f"{verb} an answer to: {view.label}" if view.label.endswith("?") else f"{verb} {lower}"
    if message == "Not a valid integer.":
        return f"{label} must be a whole number"
    if message in ("Not a valid number.", "Not a valid decimal."):
        return f"{label} must be a number"
    if message == "Not a valid date.":
        return f"{label} must be a real date"
    if message == "Not a valid boolean." or message.startswith("Must be one of"):
        return f"Select {lower}" if not view.label.endswith("?") else f"Select an answer to: {view.label}"
    return message


def recorded_answers(schemas: Mapping[str, type[Schema]], data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the process has recorded so far, as (label, text) in form order, for people acting on it.

    Only answers given through a form of the process are shown (never internal
    variables), with choice values turned back into their labels.
    """
    shown: list[tuple[str, str]] = []
    seen: set[str] = set()
    for schema_class in schemas.values():
        for name, f in schema_class().fields.items():
            key = f.data_key or name
            if key in seen or key not in data or data[key] in (None, ""):
                continue
            seen.add(key)
            meta = f.metadata or {}
            label = str(meta.get("label") or name.replace("_", " ").capitalize())
            shown.append((label, _display(f, data[key])))
    return shown


def _display(f: fields.Field[Any], value: Any) -> str:
    from .history import display_text  # one way of showing an answer: the history's (web/history.py)

    return display_text(f, value)
