"""The field helpers every form module uses: one way to write a required choice, text, date or yes/no.

Each helper returns a marshmallow field carrying what the form renderer (:mod:`web.forms`) reads
in ``metadata``: ``label``, ``hint``, ``multiline`` for a text area and ``choices`` as
``(value, label)`` pairs. ``message`` is what the person sees when a required answer is missing.

This module declares no ``FORMS``, so the catalogue in :mod:`processes.forms` skips it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from marshmallow import fields, validate

ErrorMessages: TypeAlias = dict[str, str | list[Any] | dict[Any, Any]]
"""What marshmallow's ``error_messages`` parameter takes."""

Choices: TypeAlias = list[tuple[str, str]]
"""The options of a choice, as ``(value, label)`` pairs."""


def required(message: str) -> ErrorMessages:
    """Error messages for a required field: missing and null both say ``message``."""
    return {"required": message, "null": message}


def blank(value: Any) -> bool:
    """True if an optional answer was left out, empty or only spaces."""
    return not (value or "").strip()


def choice(choices: Choices, label: str, hint: str, message: str) -> fields.String:
    """A required choice of one of ``choices``."""
    return fields.String(
        required=True,
        validate=validate.OneOf([value for value, _ in choices], error="Choose one of the options."),
        error_messages=required(message),
        metadata={"label": label, "hint": hint, "choices": choices},
    )


def text(label: str, hint: str, message: str, *, max_length: int = 5000, too_long: str | None = None,
         multiline: bool | None = None) -> fields.String:
    """Required text of 1 to ``max_length`` characters; missing or empty is refused with ``message``.

    Text over ``max_length`` is refused with ``too_long`` (``message`` when not given). The field is
    a text area when ``multiline``, by default when it may hold more than 200 characters.
    """
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=max_length, error=message if too_long is None else too_long),
        error_messages=required(message),
        metadata={"label": label, "hint": hint,
                  "multiline": max_length > 200 if multiline is None else multiline},
    )


def narrative(label: str, hint: str, message: str) -> fields.String:
    """Required long text of any length (a text area): missing, empty or only-spaces text is refused
    with ``message``."""
    return fields.String(
        required=True,
        validate=validate.Regexp(r"\S", error=message),
        error_messages=required(message),
        metadata={"label": label, "hint": hint, "multiline": True},
    )


def optional_text(label: str = "Notes", hint: str = "") -> fields.String:
    """Optional long text (a text area); left out, it loads as ``""``."""
    return fields.String(load_default="", metadata={"label": label, "hint": hint, "multiline": True})


def date(label: str, hint: str, message: str, *, invalid: str | None = None) -> fields.Date:
    """A required date; one that is not a real date is refused with ``invalid`` (marshmallow's own
    message when not given)."""
    messages = required(message) if invalid is None else {**required(message), "invalid": invalid}
    return fields.Date(required=True, error_messages=messages, metadata={"label": label, "hint": hint})


def yes_no(label: str, hint: str, message: str, *, must_be_yes: bool = False) -> fields.Boolean:
    """A required yes/no. With ``must_be_yes`` the answer no is refused with ``message`` too (a step
    that must have been done before going on)."""
    return fields.Boolean(
        required=True,
        validate=validate.Equal(True, error=message) if must_be_yes else None,
        error_messages=required(message),
        metadata={"label": label, "hint": hint},
    )


def percentage(label: str, hint: str, message: str) -> fields.Float:
    """A required percentage from 0 to 100."""
    return fields.Float(
        required=True,
        validate=validate.Range(min=0, max=100, error="Enter a percentage from 0 to 100."),
        error_messages={**required(message), "invalid": "Enter a percentage from 0 to 100."},
        metadata={"label": label, "hint": hint},
    )
