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
    kind: str  # text | textarea | date | boolean | choice | integer | number
    required: bool
    hint: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = ""  # str, or {"day","month","year"} for dates
    errors: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The element the error summary links to."""
        if self.kind == "date":
            part = next((p for p in DATE_PARTS if p in " ".join(self.errors)), "day")
            return f"{self.name}-{part}"
        return self.name


def field_views(schema: Schema) -> list[FieldView]:
    views = []
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        meta = f.metadata or {}
        kind = _kind(f)
        views.append(
            FieldView(
                name=f.data_key or name,
                label=str(meta.get("label") or name.replace("_", " ").capitalize()),
                kind=kind,
                required=bool(f.required),
                hint=meta.get("hint"),
                choices=[(str(v), str(lbl)) for v, lbl in _choices(f)],
                value={p: "" for p in DATE_PARTS} if kind == "date" else "",
            )
        )
    return views


def _kind(f: fields.Field) -> str:
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


def _choices(f: fields.Field) -> list[tuple[Any, Any]]:
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


def attach_errors(views: list[FieldView], errors: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """Put each field's messages on it (worded for people); return the summary as (message, anchor)."""
    by_name = {v.name: v for v in views}
    summary: list[tuple[str, str | None]] = []
    for name, messages in errors.items():
        view = by_name.get(name)
        texts = [_wording(view, m) for m in _flatten(messages)]
        if view is not None:
            view.errors = texts
    for view in views:  # the summary follows the order of the form
        summary.extend((t, view.anchor) for t in view.errors)
    for name, messages in errors.items():
        if name not in by_name:
            summary.extend((_wording(None, m), None) for m in _flatten(messages))
    return summary


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
