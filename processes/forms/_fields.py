"""The field helpers every form module uses: one way to write a required choice, text, date or yes/no.

Each helper returns a marshmallow field carrying what the form renderer (:mod:`web.forms`) reads
in ``metadata``: ``label``, ``hint``, ``multiline`` for a text area and ``choices`` as
``(value, label)`` pairs. ``message`` is what the person sees when a required answer is missing.

Every free-text field has a maximum length (a ``validate.Length`` with ``max``): the page shows it
and the server refuses longer text with :func:`too_long`'s message ("Notes must be 5,000 characters
or fewer"). One-line text takes up to :data:`ONE_LINE` characters, a text area up to :data:`LONG`,
a narrative (the child's own words, views) up to :data:`NARRATIVE`.

This module declares no ``FORMS``, so the catalogue in :mod:`processes.forms` skips it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from marshmallow import fields, validate

ErrorMessages: TypeAlias = dict[str, str | list[Any] | dict[Any, Any]]
"""What marshmallow's ``error_messages`` parameter takes."""

Choices: TypeAlias = list[tuple[str, str]]
"""The options of a choice, as ``(value, label)`` pairs."""

ONE_LINE = 200
LONG = 5000
NARRATIVE = 10_000


def too_long(label: str, max_length: int) -> str:
    """The message for text over its limit, naming the field and the limit."""
    return f"{label.rstrip('?')} must be {max_length:,} characters or fewer"


def at_most(label: str, max_length: int) -> validate.Length:
    """The validator of a free-text field's maximum length, refusing with :func:`too_long`'s message."""
    return validate.Length(max=max_length, error=too_long(label, max_length))


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


def text(label: str, hint: str, message: str, *, max_length: int = LONG, too_long: str | None = None,
         multiline: bool | None = None) -> fields.String:
    """Required text of 1 to ``max_length`` characters; missing or empty is refused with ``message``.

    Text over ``max_length`` is refused with ``too_long`` (by default "<label> must be N characters or
    fewer"). The field is a text area when ``multiline``, by default when it may hold more than
    :data:`ONE_LINE` characters.
    """
    over = at_most(label, max_length) if too_long is None else validate.Length(max=max_length, error=too_long)
    return fields.String(
        required=True,
        validate=[validate.Length(min=1, error=message), over],
        error_messages=required(message),
        metadata={"label": label, "hint": hint,
                  "multiline": max_length > ONE_LINE if multiline is None else multiline},
    )


def narrative(label: str, hint: str, message: str, *, max_length: int = NARRATIVE) -> fields.String:
    """Required long text of up to ``max_length`` characters (a text area): missing, empty or
    only-spaces text is refused with ``message``."""
    return fields.String(
        required=True,
        validate=[validate.Regexp(r"\S", error=message), at_most(label, max_length)],
        error_messages=required(message),
        metadata={"label": label, "hint": hint, "multiline": True},
    )


def optional_text(label: str = "Notes", hint: str = "", *, max_length: int = LONG) -> fields.String:
    """Optional long text of up to ``max_length`` characters (a text area); left out, it loads as ``""``."""
    return fields.String(load_default="", validate=at_most(label, max_length),
                         metadata={"label": label, "hint": hint, "multiline": True})


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
