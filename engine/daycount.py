"""Counting days by bisection: the index behind working-day and school-day arithmetic.

A :class:`DayIndex` holds the days that count (working days, or school days) over a span of the
calendar, as sorted day numbers (``date.toordinal()``). With it, "how many counting days d with
a < d <= b" is two bisections, and "the n-th counting day after (or before) a day" is one bisection
and a look-up, however far apart the days are.

:class:`YearlyIndex` is a :class:`DayIndex` over whole years that grows when asked about days
outside it. It is shared between threads: each growth builds a new :class:`DayIndex` and swaps it
in, so a caller keeps a consistent index for the whole of one calculation.

This module knows nothing of bank holidays or term dates. :mod:`engine.calendar` builds the indexes;
its day-by-day definitions stay there as the reference the indexes are tested against.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import MAXYEAR, MINYEAR, date

__all__ = ["FIRST_DAY", "LAST_DAY", "DayIndex", "NoDayFound", "YearlyIndex"]

FIRST_DAY = date.min.toordinal()
LAST_DAY = date.max.toordinal()


class NoDayFound(Exception):
    """More than the index's ``gap_limit`` days in a row do not count, going on from the day
    numbered ``last`` (the start, or the last counting day reached): a day-by-day walk gives up here."""

    def __init__(self, last: int) -> None:
        super().__init__(last)
        self.last = last


class DayIndex:
    """The counting days from day number ``first`` to ``last`` (both included).

    ``days`` are the day numbers that count, in order. ``gap_limit`` is how many days in a row may
    pass without one before :meth:`step` gives up (:class:`NoDayFound`).
    """

    def __init__(self, days: tuple[int, ...], first: int, last: int, gap_limit: int) -> None:
        self.days = days
        self.first = first
        self.last = last
        self._gap_limit = gap_limit
        # Positions k where more than gap_limit days pass between days[k] and days[k + 1].
        self._gaps = tuple(k for k in range(len(days) - 1) if days[k + 1] - days[k] - 1 > gap_limit)

    def covering(self, first: int, last: int) -> DayIndex | None:
        """This index if it spans day numbers ``first`` to ``last``, else None."""
        return self if self.first <= first and last <= self.last else None

    def count_between(self, a: int, b: int) -> int:
        """How many counting days d there are with a < d <= b. The index must span a + 1 to b."""
        if b <= a:
            return 0
        return bisect_right(self.days, b) - bisect_right(self.days, a)

    def step(self, start: int, n: int) -> int | None:
        """The ``n``-th counting day after day ``start`` (before it when ``n`` is negative; ``start``
        itself when ``n`` is 0), exactly as walking one day at a time would find it.

        Raises :class:`NoDayFound` where that walk would give up. None when the answer, or the
        walk's giving up, lies beyond this index: the caller grows the index or walks.
        """
        if n > 0 and self.first <= start + 1:
            return self._forward(start, n)
        if n < 0 and start - 1 <= self.last:
            return self._backward(start, -n)
        return start if n == 0 else None

    def _forward(self, start: int, n: int) -> int | None:
        days, limit = self.days, self._gap_limit
        i = bisect_right(days, start)  # days[i] is the first counting day after start
        if i == len(days):
            self._no_more_after(start)
            return None
        if days[i] - start - 1 > limit:
            raise NoDayFound(start)
        target = i + n - 1
        g = bisect_left(self._gaps, i)  # the first long gap after days[i]...
        if g < len(self._gaps) and self._gaps[g] < target:  # ...before the target is reached
            raise NoDayFound(days[self._gaps[g]])
        if target < len(days):
            return days[target]
        self._no_more_after(days[-1])
        return None

    def _backward(self, start: int, n: int) -> int | None:
        days, limit = self.days, self._gap_limit
        i = bisect_left(days, start) - 1  # days[i] is the last counting day before start
        if i < 0:
            self._no_more_before(start)
            return None
        if start - days[i] - 1 > limit:
            raise NoDayFound(start)
        target = i - n + 1
        g = bisect_left(self._gaps, i) - 1  # the last long gap before days[i]...
        if g >= 0 and self._gaps[g] >= target:  # ...before the target is reached
            raise NoDayFound(days[self._gaps[g] + 1])
        if target >= 0:
            return days[target]
        self._no_more_before(days[0])
        return None

    def _no_more_after(self, day: int) -> None:
        """No counting day follows ``day`` in the index: give up if the index spans enough days after it
        to be sure (otherwise the caller cannot tell from this index)."""
        if self.last - day > self._gap_limit:
            raise NoDayFound(day)

    def _no_more_before(self, day: int) -> None:
        if day - self.first > self._gap_limit:
            raise NoDayFound(day)


class YearlyIndex:
    """A :class:`DayIndex` over whole years, grown (never shrunk) to span the days asked about.

    ``days_of_year(year)`` gives one year's counting day numbers in order. It grows ``margin_years``
    further than asked, so that nearby days do not grow it again, but never past about ``max_years``:
    days too far from it for that start a new index in its place, and a request that alone spans more
    than ``max_years`` gets None from :meth:`covering` (the caller then walks day by day).
    """

    def __init__(
        self,
        days_of_year: Callable[[int], Iterable[int]],
        gap_limit: int,
        *,
        margin_years: int = 5,
        max_years: int = 200,
    ) -> None:
        self._days_of_year = days_of_year
        self._gap_limit = gap_limit
        self._margin = margin_years
        self._max_years = max_years
        self._index: DayIndex | None = None
        self._lock = threading.Lock()

    def covering(self, first: int, last: int) -> DayIndex | None:
        """An index spanning day numbers ``first`` to ``last``; None if that is off the calendar
        or more than ``max_years``."""
        index = self._index
        if index is not None and index.covering(first, last) is not None:
            return index
        if first < FIRST_DAY or last > LAST_DAY or last < first:
            return None
        with self._lock:
            index = self._index
            if index is not None and index.covering(first, last) is not None:
                return index  # another thread grew it meanwhile
            grown = self._grow(index, date.fromordinal(first).year, date.fromordinal(last).year)
            if grown is not None:
                self._index = grown
            return grown

    def _grow(self, index: DayIndex | None, from_year: int, to_year: int) -> DayIndex | None:
        """A new index spanning ``index``'s years and ``from_year`` to ``to_year``, plus the margin on
        each side that grows; or those years alone if both together would be too many."""
        if to_year - from_year + 1 > self._max_years:
            return None
        if index is not None:
            had_from, had_to = date.fromordinal(index.first).year, date.fromordinal(index.last).year
            if max(to_year, had_to) - min(from_year, had_from) + 1 <= self._max_years:
                new_from = max(MINYEAR, from_year - self._margin) if from_year < had_from else had_from
                new_to = min(MAXYEAR, to_year + self._margin) if to_year > had_to else had_to
                days = (*self._years(new_from, had_from - 1), *index.days, *self._years(had_to + 1, new_to))
                return self._spanning(days, new_from, new_to)
        # Nothing yet, or too far away to take in: start afresh around the years asked about.
        new_from, new_to = max(MINYEAR, from_year - self._margin), min(MAXYEAR, to_year + self._margin)
        return self._spanning(tuple(self._years(new_from, new_to)), new_from, new_to)

    def _spanning(self, days: tuple[int, ...], from_year: int, to_year: int) -> DayIndex:
        first, last = date(from_year, 1, 1).toordinal(), date(to_year, 12, 31).toordinal()
        return DayIndex(days, first, last, self._gap_limit)

    def _years(self, from_year: int, to_year: int) -> list[int]:
        return [day for year in range(from_year, to_year + 1) for day in self._days_of_year(year)]
