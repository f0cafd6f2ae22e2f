"""A child's school year in England, from their date of birth.

The academic year runs from 1 September to 31 August. A child's year group is
set by their age on the 31 August before the academic year starts: aged 4 then,
they are in Reception (year 0); aged 14, Year 10; aged 16, Year 12. Year groups
below 0 are the early years (aged 2 or 3 on that 31 August: year -2 or -1).

These functions are pure; the composition root hands them to the engine so BPMN
expressions can state rules such as "a Key Stage 4 move" in the diagram:
``key_stage(date_of_birth, planned_move_date) == 'KS4'``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

DateLike = date | str


def _day(value: DateLike) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"Not an ISO-8601 date: {value!r}") from None


def academic_year_start(on: DateLike) -> date:
    """1 September of the academic year that ``on`` falls in."""
    day = _day(on)
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def academic_year_label(on: DateLike) -> str:
    """``"2026/27"`` for any day from 1 September 2026 to 31 August 2027."""
    start = academic_year_start(on).year
    return f"{start}/{str(start + 1)[-2:]}"


def age_on(date_of_birth: DateLike, on: DateLike) -> int:
    born, day = _day(date_of_birth), _day(on)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def year_group(date_of_birth: DateLike, on: DateLike) -> int:
    """National Curriculum year on ``on``: 0 is Reception, 10 and 11 are Key Stage 4, 12+ post-16."""
    start = academic_year_start(on)
    return age_on(date_of_birth, date(start.year, 8, 31)) - 4


def key_stage(date_of_birth: DateLike, on: DateLike) -> str:
    """``early_years`` (to Reception), ``KS1``..``KS4``, or ``post_16`` (Year 12 on)."""
    year = year_group(date_of_birth, on)
    if year <= 0:
        return "early_years"
    if year <= 2:
        return "KS1"
    if year <= 6:
        return "KS2"
    if year <= 9:
        return "KS3"
    if year <= 11:
        return "KS4"
    return "post_16"


def pep_stage(date_of_birth: DateLike, on: DateLike) -> str:
    """Which PEP form a child needs: ``early_years`` (before Reception), ``school_age``, ``post_16``."""
    year = year_group(date_of_birth, on)
    if year < 0:
        return "early_years"
    if year <= 11:
        return "school_age"
    return "post_16"


SCRIPT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "age_on": age_on,
    "year_group": year_group,
    "key_stage": key_stage,
    "pep_stage": pep_stage,
    "academic_year_label": academic_year_label,
}
"""The functions BPMN expressions may call, by name."""
