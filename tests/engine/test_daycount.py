"""The day index: bisection gives what walking one day at a time gives, edges and gaps included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.daycount import LAST_DAY, DayIndex, NoDayFound, YearlyIndex

FIRST, LAST = 100, 160  # a small span of day numbers


def _walk(days: set[int], limit: int, start: int, n: int) -> int | None:
    """The n-th counting day after (before) start, one day at a time, as engine.calendar walks; None
    where the walk leaves the span before it knows."""
    step = 1 if n > 0 else -1
    day, remaining, barren = start, abs(n), 0
    while remaining:
        day += step
        if not FIRST <= day <= LAST:
            return None
        if day in days:
            remaining -= 1
            barren = 0
        else:
            barren += 1
            if barren > limit:
                raise NoDayFound(day - step * barren)
    return day


def _outcome(work: Callable[..., int | None], *args: object) -> object:
    try:
        return work(*args)
    except NoDayFound as gave_up:
        return ("gave up after", gave_up.last)


@settings(max_examples=300, deadline=None, database=None)
@given(
    days=st.sets(st.integers(min_value=FIRST, max_value=LAST), max_size=25),
    limit=st.integers(min_value=0, max_value=6),
)
def test_stepping_through_the_index_finds_what_the_walk_finds_from_every_start(
    days: set[int], limit: int
) -> None:
    index = DayIndex(tuple(sorted(days)), FIRST, LAST, limit)
    for start in range(FIRST - 3, LAST + 4):
        for n in range(-8, 9):
            expected = _outcome(_walk, days, limit, start, n)
            assert _outcome(index.step, start, n) == expected, (start, n)


@settings(max_examples=100, deadline=None, database=None)
@given(days=st.sets(st.integers(min_value=FIRST, max_value=LAST), max_size=40))
def test_counting_through_the_index_counts_what_the_walk_counts(days: set[int]) -> None:
    index = DayIndex(tuple(sorted(days)), FIRST, LAST, 3)
    for a in range(FIRST - 1, LAST + 1):
        for b in range(FIRST - 1, LAST + 1):
            assert index.count_between(a, b) == sum(1 for d in days if a < d <= b), (a, b)


def test_a_yearly_index_grows_to_take_in_days_outside_it_building_each_year_once() -> None:
    built: list[int] = []

    def days_of_year(year: int) -> list[int]:
        built.append(year)
        return [date(year, 1, 1).toordinal(), date(year, 7, 1).toordinal()]

    yearly = YearlyIndex(days_of_year, 1000, margin_years=1)
    index = yearly.covering(date(2026, 3, 1).toordinal(), date(2026, 9, 1).toordinal())
    assert index is not None and sorted(built) == [2025, 2026, 2027]
    assert index.count_between(date(2025, 12, 31).toordinal(), date(2026, 12, 31).toordinal()) == 2

    assert yearly.covering(date(2025, 5, 1).toordinal(), date(2027, 5, 1).toordinal()) is index  # no growth
    grown = yearly.covering(date(2026, 1, 1).toordinal(), date(2030, 1, 1).toordinal())
    assert grown is not None and grown is not index
    assert sorted(built) == [2025, 2026, 2027, 2028, 2029, 2030, 2031]
    assert grown.days == tuple(sorted(grown.days))
    assert grown.count_between(date(2024, 12, 31).toordinal(), date(2031, 12, 31).toordinal()) == 14


def test_a_yearly_index_never_spans_more_than_its_limit_moving_to_far_days_instead() -> None:
    yearly = YearlyIndex(lambda year: [date(year, 3, 1).toordinal()], 1000, margin_years=0, max_years=10)
    near = yearly.covering(date(2026, 1, 1).toordinal(), date(2026, 1, 2).toordinal())
    assert near is not None
    assert yearly.covering(date(2026, 1, 1).toordinal(), date(2036, 1, 1).toordinal()) is None  # 11 years
    far = yearly.covering(date(9000, 1, 1).toordinal(), date(9001, 1, 2).toordinal())
    assert far is not None and far.days == (date(9000, 3, 1).toordinal(), date(9001, 3, 1).toordinal())
    assert yearly.covering(date(2026, 1, 1).toordinal(), date(2026, 1, 2).toordinal()) is not far
    assert yearly.covering(LAST_DAY - 1, LAST_DAY + 1) is None
    assert yearly.covering(0, 5) is None


def test_an_index_gives_up_where_the_walk_would_and_cannot_tell_beyond_its_span() -> None:
    index = DayIndex((110, 111, 120), FIRST, LAST, 5)
    assert index.step(105, 2) == 111
    with pytest.raises(NoDayFound) as gave_up:
        index.step(100, 1)  # nine days pass before 110
    assert gave_up.value.last == 100
    with pytest.raises(NoDayFound) as gave_up:
        index.step(105, 3)  # eight days pass between 111 and 120
    assert gave_up.value.last == 111
    assert index.step(157, 1) is None  # only three days left in the span: cannot tell
    with pytest.raises(NoDayFound) as gave_up:
        index.step(120, 1)
    assert gave_up.value.last == 120
