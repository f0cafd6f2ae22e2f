"""Marshmallow schema → GOV.UK form fields, and posted form → data for the schema.

The schema is the single source: it names, labels and orders the fields here,
and validates on the server (in the engine). This module only reads HTML form
posts into plain values and words errors the GOV.UK way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, validate

DATE_PARTS = ("day", "month", "year")


@dataclass
class FieldView:
    name: str
    label: str
    kind: str  # text | textarea | date | boolean | choice | integer | number | rows
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
        )
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
    if isinstance(f, fields.Integer):
        return "integer"
    if isinstance(f, fields.Number):
        return "number"
    return "textarea" if (f.metadata or {}).get("multiline") else "text"


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
            parts = {p: form.get(f"{view.name}-{p}", "").strip() for p in DATE_PARTS}
            view.value = parts
            if not any(parts.values()):
                continue
            missing = [p for p in DATE_PARTS if not parts[p]]
            try:
                data[view.name] = dt.date(
                    int(parts["year"]), int(parts["month"]), int(parts["day"])
                ).isoformat()
            except ValueError:
                # Passed on as it is, so the schema refuses it too; our wording wins.
                data[view.name] = f"{parts['year']}-{parts['month']}-{parts['day']}"
                problem = f"must include a {' and '.join(missing)}" if missing else "must be a real date"
                errors[view.name] = [f"{view.label} {problem}"]
            continue
        raw = form.get(view.name, "")
        raw = raw.strip() if view.kind != "textarea" else raw.strip("\r\n ")
        view.value = raw
        if raw == "":
            continue  # blank means not given: the schema decides whether that is allowed
        if view.kind == "boolean":
            data[view.name] = {"yes": True, "no": False}.get(raw, raw)
        elif view.kind == "integer":
            data[view.name] = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            data[view.name] = raw
    return data, errors


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
        texts = [_wording(named, m) for m in _flatten(messages)]
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
                sub.errors = [_wording(sub, m) for m in _flatten(sub_messages)]


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
    if isinstance(value, bool):
        return "Yes" if value else "No"
    labels = {str(v): str(lbl) for v, lbl in _choices(f)}
    if labels and str(value) in labels:
        return labels[str(value)]
    if isinstance(value, list):
        return "; ".join(", ".join(str(v) for v in item.values()) if isinstance(item, Mapping) else str(item)
                         for item in value)
    if isinstance(f, fields.Date) and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).strftime("%-d %B %Y")
        except ValueError:
            return value
    return str(value)
