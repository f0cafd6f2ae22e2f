"""The field helpers every form module uses: one way to write a required choice, text, date or yes/no.

Each helper returns a marshmallow field carrying what the form renderer (:mod:`web.forms`) reads
in ``metadata``: ``label``, ``hint``, ``multiline`` for a text area and ``choices`` as
``(value, label)`` pairs. ``message`` is what the person sees when a required answer is missing.

Every free-text field has a maximum length (a ``validate.Length`` with ``max``): the page shows it
and the server refuses longer text with :func:`too_long`'s message ("Notes must be 5,000 characters
or fewer"). One-line text takes up to :data:`ONE_LINE` characters, a text area up to :data:`LONG`,
a narrative (the child's own words, views) up to :data:`NARRATIVE`.

Money is typed as people type it (:func:`money`: "£1,200.50") and dates are checked against reality
(:func:`date`'s ``window``): "today" and the process's data (such as the child's ``date_of_birth``) come
from the validation context the engine gives each form it checks (:data:`FormContext`, set with
``marshmallow.experimental.context.Context``: see docs/modelling.md). Loaded without one (a test
loading a form directly), the windows relative to today or to the process's data are not checked.

This module declares no ``FORMS``, so the catalogue in :mod:`processes.forms` skips it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from marshmallow import ValidationError, fields, validate
from marshmallow.experimental.context import Context

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


def date(label: str, hint: str, message: str, *, invalid: str | None = None,
         window: Window | None = None, called: str | None = None) -> fields.Date:
    """A required date; one that is not a real date is refused with ``invalid`` (marshmallow's own
    message when not given). With ``window`` (:class:`Window`) a date outside its plausible window is
    refused with a message naming the limit, and the date ``called`` (by default ``label``)."""
    messages = required(message) if invalid is None else {**required(message), "invalid": invalid}
    meta = {"label": label, "hint": hint}
    if window is None:
        return fields.Date(required=True, error_messages=messages, metadata=meta)
    return fields.Date(required=True, error_messages=messages, metadata=meta,
                       validate=plausible(called or label, window))


# -- plausible dates -------------------------------------------------------------------------------
FormContext: TypeAlias = Mapping[str, Any]
"""What the engine gives a form it checks: ``today`` (a ``datetime.date``, from the engine's clock) and
``data`` (the process's data so far: its start data and earlier answers)."""


def form_context() -> FormContext:
    """The current validation context, or an empty one when the form is loaded without one."""
    context: Any = Context.get({})
    return context if isinstance(context, Mapping) else {}


def today() -> dt.date | None:
    """Today's date from the validation context (None without one)."""
    value = form_context().get("today")
    return value if isinstance(value, dt.date) else None


def process_date(name: str) -> dt.date | None:
    """A date the process already holds (e.g. the child's ``date_of_birth``), or None."""
    data = form_context().get("data")
    value = data.get(name) if isinstance(data, Mapping) else None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def long_date(day: dt.date) -> str:
    """A date as GOV.UK writes it: 14 March 2009."""
    return f"{day.day} {day:%B %Y}"


def _years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Window:
    """A date's plausible window: from ``years_before`` years before today to ``years_after`` years after
    it (0: today at the latest, None: no limit that way), and not before the process's date ``not_before``
    (with ``not_before_label`` naming it in the message, e.g. "the child's date of birth")."""

    years_before: int | None = None
    years_after: int | None = None
    not_before: str | None = None
    not_before_label: str = ""


PAST = Window(years_before=2, years_after=0)
"""Something that has happened, recently: today or within the last 2 years, never in the future."""
MOVE = Window(years_before=1, years_after=2, not_before="date_of_birth",
              not_before_label="the child's date of birth")
"""A move or a start: not before the child was born, from a year ago to 2 years ahead."""
AHEAD = Window(years_before=0, years_after=2)
"""Something to be done: today or later, within 2 years."""


def plausible(name: str, window: Window) -> Callable[[dt.date], None]:
    """The validator refusing a date outside ``window``, naming the date ``name`` and the limit."""

    def check(value: dt.date) -> None:
        earliest = process_date(window.not_before) if window.not_before else None
        if earliest is not None and value < earliest:
            raise ValidationError(f"{name} must be on or after {long_date(earliest)} ({window.not_before_label})")
        now = today()
        if now is None:
            return
        if window.years_after == 0 and value > now:
            raise ValidationError(f"{name} must be today or in the past")
        if window.years_before == 0 and value < now:
            raise ValidationError(f"{name} must be today or in the future")
        if window.years_after and value > _years(now, window.years_after):
            raise ValidationError(f"{name} must be within {window.years_after} "
                                  f"year{'s' if window.years_after > 1 else ''} of today")
        if window.years_before and value < _years(now, -window.years_before):
            raise ValidationError(f"{name} must be within {window.years_before} "
                                  f"year{'s' if window.years_before > 1 else ''} of today")

    return check


# -- money -----------------------------------------------------------------------------------------
MONEY = re.compile(r"£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")
"""An amount in pounds as people type it: an optional £, digits with or without commas between
thousands, and at most 2 decimal places ("£1,200.50", "1200.5", "1,200")."""
MONEY_FORMAT = "Enter the amount in pounds, like £1,200.50"


class Money(fields.Field[float]):
    """An amount in pounds, typed as people type it, loaded as a number with at most 2 decimal places."""

    default_error_messages = {"invalid": MONEY_FORMAT}

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> float:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int | float):
            text_value = f"{value}"
        elif isinstance(value, str):
            text_value = value.strip()
        else:
            raise self.make_error("invalid")
        if isinstance(value, str) and not MONEY.fullmatch(text_value):
            raise self.make_error("invalid")
        try:
            amount = Decimal(text_value.lstrip("£").strip().replace(",", ""))
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise self.make_error("invalid")
        return float(amount)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else float(value)


def money(label: str, hint: str, message: str, *, most: int) -> Money:
    """A required amount in pounds from 0 to ``most``: "£1,200.50", "1200.5" and "1,200" load as numbers;
    anything else is refused with "Enter the amount in pounds, like £1,200.50", more than ``most`` with
    "<label> must be £<most> or less"."""
    return Money(
        required=True,
        validate=validate.Range(min=0, max=most, error=f"{label.rstrip('?')} must be £{most:,} or less"),
        error_messages=required(message),
        metadata={"label": label, "hint": hint, "money": True},
    )


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
