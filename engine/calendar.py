"""Business calendar: calendar days, working days and school days.

Deadlines for English local authorities are counted in three ways (see docs/processes.md and docs/configuration.md):

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

Counting and adding working or school days does not walk one day at a time: it bisects an index of
the days that count (:mod:`engine.daycount`). Working days are indexed per bank-holiday subdivision,
over whole years, grown when a date falls outside it (up to about two centuries; a date further away
starts a new index, and a count spanning more than that is walked day by day).
School days are indexed per :class:`TermCalendar`, built on first use and kept on the instance (and
shared by equal instances): a TermCalendar is immutable, so changed term dates are a new TermCalendar
with its own index, and nothing needs invalidating (a ``school_days_source`` that returns a new
TermCalendar when the dates change is all a long-running process needs). Any other :class:`SchoolDays`
is walked day by day.
The day-by-day definitions (``_step_simple``, ``_count_between_simple``) remain the reference.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property, lru_cache, partial
from itertools import accumulate
from typing import Any, Protocol, TypeVar, overload

import holidays

from engine.clock import as_utc
from engine.daycount import DayIndex, NoDayFound, YearlyIndex

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
        started = bisect_right(self._starts, day)  # terms[:started] start on or before day
        first = bisect_left(self._ends_so_far, day)  # terms[first] is the first to end on or after it
        return self.terms[first] if first < started else None

    def next_term_start(self, day: date) -> date | None:
        """The first day of the first term starting strictly after ``day``; None if none is known."""
        i = bisect_right(self._starts, _as_date(day))
        return self._starts[i] if i < len(self._starts) else None

    # Worked out once per instance (cached_property writes the instance's __dict__, which a frozen
    # dataclass allows); none of them is a field, so equality and hashing are untouched.

    @cached_property
    def _starts(self) -> tuple[date, ...]:
        return tuple(start for start, _end in self.terms)

    @cached_property
    def _ends_so_far(self) -> tuple[date, ...]:
        """The latest end of terms[0..i], for each i: never decreasing, so it can be bisected."""
        return tuple(accumulate((end for _start, end in self.terms), max))

    @cached_property
    def _day_index(self) -> DayIndex:
        """The index of this calendar's school days (see :func:`_school_day_index`)."""
        try:
            hash(self)
        except TypeError:  # lists given where tuples belong: index this instance alone
            return _index_school_days(self)
        return _shared_school_day_index(self)


class BusinessCalendar:
    """Calendar, working-day and school-day arithmetic for deadlines.

    ``school_days`` is fixed for the calendar's life; ``school_days_source`` is asked for the current
    school days once per school-day method call (a long-running process whose term dates may change
    gives one that returns a new :class:`TermCalendar` when they do). Give one or the other.
    """

    def __init__(self, school_days: SchoolDays | None = None, country_subdivision: str = "ENG", *,
                 school_days_source: Callable[[], SchoolDays | None] | None = None) -> None:
        if school_days is not None and school_days_source is not None:
            raise ValueError("Give a BusinessCalendar school_days or a school_days_source, not both")
        self._school_days = school_days
        self._source = school_days_source
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
        start, n = _parse(start), _as_count(n)
        found = _step_indexed(start, n, _working_days(self._subdivision), "working day")
        return _step_simple(start, n, self.is_working_day, "working day") if found is None else found

    @overload
    def add_school_days(self, start: datetime, n: int) -> datetime: ...
    @overload
    def add_school_days(self, start: date | str, n: int) -> date: ...
    def add_school_days(self, start: DayLike, n: int) -> date:
        """As :meth:`add_working_days`, counting school days. ValueError if no term dates were given
        or no school day can be found within three years (term dates missing)."""
        school_days = self._require_school_days()
        start, n = _parse(start), _as_count(n)
        index = _school_day_index(school_days)
        found = None if index is None else _step_indexed(start, n, index, "school day")
        return _step_simple(start, n, school_days.is_school_day, "school day") if found is None else found

    def working_days_between(self, a: DayLike, b: DayLike) -> int:
        """How many working days d there are with a < d <= b (0 when b <= a)."""
        counted = _count_indexed(a, b, _working_days(self._subdivision))
        return _count_between_simple(a, b, self.is_working_day) if counted is None else counted

    def school_days_between(self, a: DayLike, b: DayLike) -> int:
        """How many school days d there are with a < d <= b (0 when b <= a)."""
        school_days = self._require_school_days()
        index = _school_day_index(school_days)
        counted = None if index is None else _count_indexed(a, b, index)
        return _count_between_simple(a, b, school_days.is_school_day) if counted is None else counted

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
        school_days = self._school_days if self._source is None else self._source()
        if school_days is None:
            raise ValueError(
                "School days cannot be counted: this calendar has no term dates "
                "(give BusinessCalendar a school_days source such as a TermCalendar)"
            )
        return school_days


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


# -- counting days: by index, and one day at a time ---------------------------------------------


class _DaySource(Protocol):
    def covering(self, first: int, last: int) -> DayIndex | None: ...


_WORKING_DAYS: dict[str, YearlyIndex] = {}


def _working_days(subdivision: str) -> YearlyIndex:
    """The working-day index of ``subdivision``, shared by every BusinessCalendar."""
    index = _WORKING_DAYS.get(subdivision)
    if index is None:
        days_of_year = partial(_working_days_of_year, subdivision=subdivision)
        index = _WORKING_DAYS.setdefault(subdivision, YearlyIndex(days_of_year, _SEARCH_LIMIT_DAYS))
    return index


def _working_days_of_year(year: int, subdivision: str) -> list[int]:
    """The working days of ``year``, as day numbers (``date.toordinal()``)."""
    closed = bank_holidays(year, subdivision)
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    days = (date.fromordinal(n) for n in range(first, last + 1))
    return [day.toordinal() for day in days if _is_weekday(day) and day not in closed]


def _school_day_index(school_days: SchoolDays) -> DayIndex | None:
    """The index of a TermCalendar's school days; None for other SchoolDays (and subclasses, which may
    say otherwise), which are walked day by day."""
    return school_days._day_index if type(school_days) is TermCalendar else None


@lru_cache(maxsize=64)
def _shared_school_day_index(terms: TermCalendar) -> DayIndex:
    """One index for equal TermCalendars, such as the same authority's dates loaded for each request."""
    return _index_school_days(terms)


def _index_school_days(terms: TermCalendar) -> DayIndex:
    """``terms``' school days as :meth:`TermCalendar.is_school_day` defines them. There are none outside
    its terms, so the index spans the whole calendar."""
    in_term: set[int] = set()
    for start, end in terms.terms:
        in_term.update(range(start.toordinal(), end.toordinal() + 1))
    if in_term:
        first, last = min(in_term), max(in_term)
        for start, end in terms.closures:
            in_term.difference_update(range(max(start.toordinal(), first), min(end.toordinal(), last) + 1))
    days = (date.fromordinal(n) for n in sorted(in_term))
    school_days = tuple(
        day.toordinal()
        for day in days
        if _is_weekday(day) and day not in bank_holidays(day.year, terms.subdivision)
    )
    return DayIndex(school_days, date.min.toordinal(), date.max.toordinal(), _SEARCH_LIMIT_DAYS)


def _step_indexed(start: _D, n: int, source: _DaySource, what: str) -> _D | None:
    """As :func:`_step_simple`, by bisecting ``source``'s index. None if the index cannot tell (the
    answer is too far away, or near the ends of the calendar): the caller walks instead."""
    if n == 0:
        return start + timedelta(0)
    day = _as_date(start).toordinal()
    reach = 2 * abs(n) + 30  # calendar days that hold |n| working days, with room to spare
    while True:
        first, last = (day - reach, day - 1) if n < 0 else (day + 1, day + reach)
        index = source.covering(first, last)
        if index is None:
            return None
        try:
            found = index.step(day, n)
        except NoDayFound as gave_up:
            raise _nothing_found(what, date.fromordinal(gave_up.last)) from None
        if found is not None:
            return start + timedelta(days=found - day)
        reach *= 2


def _count_indexed(a: DayLike, b: DayLike, source: _DaySource) -> int | None:
    """As :func:`_count_between_simple`, by bisecting ``source``'s index; None if it cannot tell."""
    first, last = _as_date(_parse(a)).toordinal(), _as_date(_parse(b)).toordinal()
    if last <= first:
        return 0
    index = source.covering(first + 1, last)
    return None if index is None else index.count_between(first, last)


def _nothing_found(what: str, after: date) -> ValueError:
    return ValueError(
        f"No {what} found within three years of {after}: are the term dates for that period missing?"
    )


def _step_simple(start: _D, n: int, counts: Callable[[date], bool], what: str) -> _D:
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
                raise _nothing_found(what, day - step * barren)
    return start + (day - _as_date(start))


def _count_between_simple(a: DayLike, b: DayLike, counts: Callable[[date], bool]) -> int:
    start, end = _as_date(_parse(a)), _as_date(_parse(b))
    return sum(1 for d in _days(start + timedelta(days=1), end) if counts(d))


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
