"""Business calendar: calendar days, working days and school days.

Deadlines for English local authorities are counted in three ways (see DOMAIN.md, "Calendars"):

* **calendar days** - every day counts;
* **working days** - Monday to Friday, except England-and-Wales bank holidays;
* **school days** - term time only, from the authority's own term dates, less half terms,
  INSET days and bank holidays.

Term dates are configuration owned by the domain layer; the engine only knows the shape
(:class:`TermCalendar`, or anything implementing :class:`SchoolDays`).

Every method accepts a ``date``, a ``datetime`` or ISO-8601 text. A ``date`` gives a ``date`` back
and a ``datetime`` gives a ``datetime`` back with its time of day and timezone unchanged; ISO text is
parsed first (date-only text is a ``date``). The day a ``datetime`` falls on is read in its own timezone.

:meth:`BusinessCalendar.script_functions` wraps the methods for BPMN expressions, where every moment is
ISO datetime text in UTC, so they can be used directly in a ``timeDate``:
``<bpmn:timeDate>add_school_days(now(), 20)</bpmn:timeDate>``.

Nothing here reads the wall clock: "now" always comes from the injected clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol, TypeVar, overload

import holidays

from engine.clock import as_utc

__all__ = ["SchoolDays", "TermCalendar", "BusinessCalendar", "bank_holidays", "due_by_day"]

DayLike = date | datetime | str
_D = TypeVar("_D", date, datetime)

# How far add_school_days looks for a school day before deciding term dates are missing.
_SEARCH_LIMIT_DAYS = 3 * 366


class SchoolDays(Protocol):
    """Anything that can say whether a day is a school day."""

    def is_school_day(self, day: date) -> bool: ...


@lru_cache(maxsize=256)
def bank_holidays(year: int, subdivision: str = "ENG") -> frozenset[date]:
    """The UK bank holidays of ``year`` for ``subdivision`` (``ENG`` covers England and Wales).

    Substitute days ("Boxing Day (observed)") and one-off holidays (coronations, state funerals) are
    included, as published by the ``holidays`` package. Cached per year.
    """
    return frozenset(holidays.country_holidays("GB", subdiv=subdivision, years=year).keys())


def due_by_day(due_at: datetime, local: tzinfo = UTC) -> date:
    """The last day on which something due at ``due_at`` is still on time: "due by <this day>".

    A deadline counted in days is stored as the midnight (UTC) that starts the day after
    its last day: the moment it becomes overdue. Such a moment gives the day before; any
    other moment gives the day it falls on in ``local`` time.
    """
    moment = as_utc(due_at)
    if moment.time() == time(0):
        return moment.date() - timedelta(days=1)
    return moment.astimezone(local).date()


def _is_weekday(day: date) -> bool:
    return day.weekday() < 5


@dataclass(frozen=True)
class TermCalendar:
    """School days from term dates.

    ``terms`` are the inclusive (start, end) of each term; ``closures`` are inclusive ranges inside
    terms when schools are shut (half terms; an INSET day is a one-day range). A school day is a
    weekday inside a term that is neither a closure nor a bank holiday.
    """

    terms: tuple[tuple[date, date], ...]
    closures: tuple[tuple[date, date], ...] = ()
    subdivision: str = "ENG"

    def __post_init__(self) -> None:
        for label, ranges in (("term", self.terms), ("closure", self.closures)):
            for start, end in ranges:
                if end < start:
                    raise ValueError(f"A {label} cannot end ({end}) before it starts ({start})")
        # Keep terms in date order so the look-ups below can rely on it.
        object.__setattr__(self, "terms", tuple(sorted(self.terms)))

    def is_school_day(self, day: date) -> bool:
        day = _as_date(day)
        return (
            _is_weekday(day)
            and self.term_containing(day) is not None
            and not any(start <= day <= end for start, end in self.closures)
            and day not in bank_holidays(day.year, self.subdivision)
        )

    def term_containing(self, day: date) -> tuple[date, date] | None:
        """The term (start, end) that ``day`` falls in, or None in the holidays between terms."""
        day = _as_date(day)
        for start, end in self.terms:
            if start <= day <= end:
                return (start, end)
        return None

    def next_term_start(self, day: date) -> date | None:
        """The first day of the first term starting strictly after ``day``; None if none is known."""
        day = _as_date(day)
        for start, _end in self.terms:
            if start > day:
                return start
        return None


class BusinessCalendar:
    """Calendar, working-day and school-day arithmetic for deadlines."""

    def __init__(self, school_days: SchoolDays | None = None, country_subdivision: str = "ENG") -> None:
        self._school_days = school_days
        self._subdivision = country_subdivision

    # -- single days ---------------------------------------------------------------------------

    def is_bank_holiday(self, day: DayLike) -> bool:
        d = _as_date(_parse(day))
        return d in bank_holidays(d.year, self._subdivision)

    def is_working_day(self, day: DayLike) -> bool:
        d = _as_date(_parse(day))
        return _is_weekday(d) and not self.is_bank_holiday(d)

    def is_school_day(self, day: DayLike) -> bool:
        """Whether ``day`` is a school day. ValueError if this calendar has no term dates."""
        return self._require_school_days().is_school_day(_as_date(_parse(day)))

    # -- arithmetic ----------------------------------------------------------------------------

    @overload
    def add_calendar_days(self, start: datetime, n: int) -> datetime: ...
    @overload
    def add_calendar_days(self, start: date | str, n: int) -> date: ...
    def add_calendar_days(self, start: DayLike, n: int) -> date:
        """``start`` moved by ``n`` calendar days (negative ``n`` goes back)."""
        return _parse(start) + timedelta(days=_as_count(n))

    @overload
    def add_working_days(self, start: datetime, n: int) -> datetime: ...
    @overload
    def add_working_days(self, start: date | str, n: int) -> date: ...
    def add_working_days(self, start: DayLike, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself does not count; ``n=0`` gives
        ``start``). Negative ``n`` counts back, e.g. for a reminder N working days before a due date."""
        return _step(_parse(start), _as_count(n), self.is_working_day, "working day")

    @overload
    def add_school_days(self, start: datetime, n: int) -> datetime: ...
    @overload
    def add_school_days(self, start: date | str, n: int) -> date: ...
    def add_school_days(self, start: DayLike, n: int) -> date:
        """As :meth:`add_working_days`, counting school days. ValueError if no term dates were given
        or no school day can be found within three years (term dates missing)."""
        school_days = self._require_school_days()
        return _step(_parse(start), _as_count(n), school_days.is_school_day, "school day")

    def working_days_between(self, a: DayLike, b: DayLike) -> int:
        """How many working days d there are with a < d <= b (0 when b <= a)."""
        return _count_between(a, b, self.is_working_day)

    def school_days_between(self, a: DayLike, b: DayLike) -> int:
        """How many school days d there are with a < d <= b (0 when b <= a)."""
        return _count_between(a, b, self._require_school_days().is_school_day)

    # -- BPMN expressions ----------------------------------------------------------------------

    def script_functions(self, now: Callable[[], datetime]) -> dict[str, Callable[..., Any]]:
        """The calendar functions BPMN scripts and expressions may call.

        Moments go in as ISO text, ``date`` (midnight UTC) or ``datetime`` (naive means UTC) and come
        out as ISO-8601 datetime text in UTC, e.g. ``"2026-12-11T09:30:00+00:00"``, as a ``timeDate``
        needs. ``now`` is the engine's injected clock; ``today()`` is its UTC date as ISO text.
        """

        def iso_now() -> str:
            return as_utc(now()).isoformat()

        def iso_today() -> str:
            return as_utc(now()).date().isoformat()

        def add_calendar_days(start: DayLike, n: int) -> str:
            return _iso_utc(self.add_calendar_days(_as_moment(start), n))

        def add_working_days(start: DayLike, n: int) -> str:
            return _iso_utc(self.add_working_days(_as_moment(start), n))

        def add_school_days(start: DayLike, n: int) -> str:
            return _iso_utc(self.add_school_days(_as_moment(start), n))

        return {
            "now": iso_now,
            "today": iso_today,
            "add_calendar_days": add_calendar_days,
            "add_working_days": add_working_days,
            "add_school_days": add_school_days,
            "working_days_between": self.working_days_between,
            "school_days_between": self.school_days_between,
            "is_working_day": self.is_working_day,
            "is_school_day": self.is_school_day,
        }

    def _require_school_days(self) -> SchoolDays:
        if self._school_days is None:
            raise ValueError(
                "School days cannot be counted: this calendar has no term dates "
                "(give BusinessCalendar a school_days source such as a TermCalendar)"
            )
        return self._school_days


# -- helpers -----------------------------------------------------------------------------------


def _parse(value: DayLike) -> date:
    """A ``date``/``datetime`` as is; ISO text as a ``date`` (date-only text) or a ``datetime``."""
    if isinstance(value, date):  # datetime is a date too
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"Not an ISO-8601 date or datetime: {value!r}") from None
    raise TypeError(f"Expected a date, a datetime or ISO-8601 text, not {type(value).__name__}")


def _as_date(value: date) -> date:
    """The calendar day of a date or datetime (a datetime's day in its own timezone)."""
    return value.date() if isinstance(value, datetime) else value


def _as_moment(value: DayLike) -> datetime:
    """A timezone-aware datetime: a plain date is midnight UTC, a naive datetime is UTC."""
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return datetime.combine(parsed, time(0, 0), tzinfo=UTC)


def _iso_utc(value: date) -> str:
    if not isinstance(value, datetime):  # pragma: no cover - callers always pass datetimes
        value = datetime.combine(value, time(0, 0), tzinfo=UTC)
    return as_utc(value).isoformat()


def _as_count(n: Any) -> int:
    """A whole number of days; 20.0 (as forms may send it) is accepted, 2.5 or True are not."""
    if isinstance(n, bool):
        raise ValueError(f"A number of days must be a whole number, not {n!r}")
    if isinstance(n, int):
        return n
    if isinstance(n, float) and n.is_integer():
        return int(n)
    raise ValueError(f"A number of days must be a whole number, not {n!r}")


def _step(start: _D, n: int, counts: Callable[[date], bool], what: str) -> _D:
    """Move from ``start`` one day at a time until ``|n|`` days satisfying ``counts`` have passed."""
    step = timedelta(days=1 if n >= 0 else -1)
    day = _as_date(start)
    remaining = abs(n)
    barren = 0  # consecutive days that did not count
    while remaining:
        day += step
        if counts(day):
            remaining -= 1
            barren = 0
        else:
            barren += 1
            if barren > _SEARCH_LIMIT_DAYS:
                raise ValueError(
                    f"No {what} found within three years of {day - step * barren}: "
                    "are the term dates for that period missing?"
                )
    return start + (day - _as_date(start))


def _count_between(a: DayLike, b: DayLike, counts: Callable[[date], bool]) -> int:
    start, end = _as_date(_parse(a)), _as_date(_parse(b))
    return sum(1 for d in _days(start + timedelta(days=1), end) if counts(d))


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
