"""The business calendar: calendar, working and school days, and the ISO wrappers for BPMN."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.calendar as calendar_module
from engine.calendar import BusinessCalendar, TermCalendar

# An illustrative LA's term dates for 2026/27 plus summer 2026.
SUMMER_2026 = (date(2026, 4, 20), date(2026, 7, 22))
AUTUMN_2026 = (date(2026, 9, 3), date(2026, 12, 18))  # Thu 3 Sep .. Fri 18 Dec
SPRING_2027 = (date(2027, 1, 5), date(2027, 3, 26))
HALF_TERM = (date(2026, 10, 26), date(2026, 10, 30))
INSET_SEPT = (date(2026, 9, 3), date(2026, 9, 3))
INSET_JAN = (date(2027, 1, 5), date(2027, 1, 5))

TERMS = TermCalendar(
    terms=(AUTUMN_2026, SUMMER_2026, SPRING_2027),
    closures=(HALF_TERM, INSET_SEPT, INSET_JAN),
)
FROZEN_NOW = datetime(2026, 12, 11, 9, 30, tzinfo=UTC)


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar(TERMS)


@pytest.fixture
def fns(cal: BusinessCalendar) -> dict[str, Callable[..., Any]]:
    return cal.script_functions(lambda: FROZEN_NOW)


# -- working days --------------------------------------------------------------------------------


def test_working_days_skip_the_weekend(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri -> Mon
    assert cal.add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat -> Mon


def test_working_days_skip_christmas_and_the_boxing_day_substitute(cal: BusinessCalendar) -> None:
    # 2026: Christmas is Friday 25 Dec, Boxing Day Saturday, so Monday 28 Dec is the substitute.
    assert cal.is_bank_holiday(date(2026, 12, 25))
    assert cal.is_bank_holiday(date(2026, 12, 28))
    assert not cal.is_working_day(date(2026, 12, 28))
    assert cal.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_working_days_skip_good_friday_and_easter_monday(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_working_days_skip_the_early_may_and_spring_bank_holidays(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 5, 1), 1) == date(2026, 5, 5)
    assert cal.add_working_days(date(2026, 5, 22), 1) == date(2026, 5, 26)


def test_working_days_skip_the_august_bank_holiday(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 1)


def test_one_off_bank_holidays_are_not_working_days(cal: BusinessCalendar) -> None:
    assert not cal.is_working_day(date(2022, 9, 19))  # State funeral of Queen Elizabeth II
    assert cal.is_working_day(date(2026, 9, 21))


def test_zero_working_days_leaves_the_start_unchanged_even_on_a_weekend(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)


def test_negative_working_days_count_back_over_holidays(cal: BusinessCalendar) -> None:
    assert cal.add_working_days(date(2026, 12, 29), -1) == date(2026, 12, 24)
    assert cal.add_working_days(date(2026, 9, 1), -1) == date(2026, 8, 28)
    assert cal.add_working_days(date(2026, 12, 29), -5) == date(2026, 12, 18)


def test_adding_to_a_datetime_keeps_its_time_of_day_and_timezone(cal: BusinessCalendar) -> None:
    london = ZoneInfo("Europe/London")
    result = cal.add_working_days(datetime(2026, 12, 24, 15, 30, tzinfo=london), 1)
    assert result == datetime(2026, 12, 29, 15, 30, tzinfo=london)
    assert result.tzinfo is london


def test_iso_date_text_gives_a_date_and_iso_datetime_text_gives_a_datetime(cal: BusinessCalendar) -> None:
    assert cal.add_working_days("2026-12-24", 1) == date(2026, 12, 29)
    assert type(cal.add_working_days("2026-12-24", 1)) is date
    assert cal.add_working_days("2026-12-24T08:00:00+00:00", 1) == datetime(2026, 12, 29, 8, tzinfo=UTC)


def test_calendar_days_count_every_day(cal: BusinessCalendar) -> None:
    assert cal.add_calendar_days(date(2026, 12, 24), 7) == date(2026, 12, 31)
    assert cal.add_calendar_days(date(2026, 3, 1), -1) == date(2026, 2, 28)


def test_working_days_between_counts_days_after_a_up_to_and_including_b(cal: BusinessCalendar) -> None:
    # 25 Dec to 31 Dec 2026: 29, 30 and 31 are the only working days.
    assert cal.working_days_between(date(2026, 12, 24), date(2026, 12, 31)) == 3
    assert cal.working_days_between(date(2026, 12, 28), date(2026, 12, 29)) == 1
    assert cal.working_days_between(date(2026, 12, 31), date(2026, 12, 24)) == 0
    assert cal.working_days_between(date(2026, 12, 29), date(2026, 12, 29)) == 0


def test_a_fractional_number_of_days_is_refused(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="whole number"):
        cal.add_working_days(date(2026, 1, 5), 2.5)  # type: ignore[call-overload]
    assert cal.add_working_days(date(2026, 1, 5), 2.0) == date(2026, 1, 7)  # type: ignore[call-overload]


def test_text_that_is_not_iso_is_refused_with_a_clear_error(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="Not an ISO-8601"):
        cal.add_working_days("24/12/2026", 1)


# -- school days ---------------------------------------------------------------------------------


def test_school_days_skip_half_term(cal: BusinessCalendar) -> None:
    assert cal.add_school_days(date(2026, 10, 23), 1) == date(2026, 11, 2)


def test_school_days_skip_inset_days(cal: BusinessCalendar) -> None:
    assert not cal.is_school_day(date(2026, 9, 3))
    assert cal.add_school_days(date(2026, 9, 1), 1) == date(2026, 9, 4)


def test_school_days_skip_the_holidays_between_terms(cal: BusinessCalendar) -> None:
    # Autumn ends Fri 18 Dec; spring starts Tue 5 Jan 2027 with an INSET day.
    assert cal.add_school_days(date(2026, 12, 18), 1) == date(2027, 1, 6)
    assert not cal.is_school_day(date(2026, 8, 10))


def test_school_days_skip_bank_holidays_in_term(cal: BusinessCalendar) -> None:
    assert cal.add_school_days(date(2026, 5, 1), 1) == date(2026, 5, 5)


def test_negative_school_days_count_back_over_half_term(cal: BusinessCalendar) -> None:
    assert cal.add_school_days(date(2026, 11, 2), -1) == date(2026, 10, 23)


def test_school_days_between_ignores_half_term(cal: BusinessCalendar) -> None:
    assert cal.school_days_between(date(2026, 10, 23), date(2026, 11, 2)) == 1
    assert cal.school_days_between(date(2026, 11, 2), date(2026, 10, 23)) == 0


def test_counting_school_days_without_term_dates_is_a_clear_error() -> None:
    cal = BusinessCalendar()
    with pytest.raises(ValueError, match="no term dates"):
        cal.add_school_days(date(2026, 10, 1), 5)
    with pytest.raises(ValueError, match="no term dates"):
        cal.is_school_day(date(2026, 10, 1))


def test_running_past_the_last_known_term_is_a_clear_error() -> None:
    cal = BusinessCalendar(TermCalendar(terms=(AUTUMN_2026,)))
    with pytest.raises(ValueError, match="term dates for that period missing"):
        cal.add_school_days(date(2026, 12, 18), 1)


def test_term_calendar_finds_the_term_of_a_day_and_the_next_term_start() -> None:
    assert TERMS.term_containing(date(2026, 10, 27)) == AUTUMN_2026  # half term is still in term
    assert TERMS.term_containing(date(2026, 8, 10)) is None
    assert TERMS.next_term_start(date(2026, 8, 10)) == date(2026, 9, 3)
    assert TERMS.next_term_start(date(2026, 9, 3)) == date(2027, 1, 5)
    assert TERMS.next_term_start(date(2027, 3, 1)) is None


def test_a_term_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        TermCalendar(terms=((date(2026, 12, 18), date(2026, 9, 3)),))


# -- ISO wrappers for BPMN -----------------------------------------------------------------------


def test_script_now_and_today_come_from_the_injected_clock(fns: dict[str, object]) -> None:
    assert fns["now"]() == "2026-12-11T09:30:00+00:00"  # type: ignore[operator]
    assert fns["today"]() == "2026-12-11"  # type: ignore[operator]


def test_script_add_working_days_returns_iso_utc_text(fns: dict[str, object]) -> None:
    # Fri 11 Dec + 10 working days skips Christmas and the Boxing Day substitute.
    assert fns["add_working_days"](fns["now"](), 10) == "2026-12-29T09:30:00+00:00"  # type: ignore[operator]


def test_script_wrappers_treat_a_plain_date_as_midnight_utc(fns: dict[str, object]) -> None:
    assert fns["add_calendar_days"](date(2026, 12, 11), 1) == "2026-12-12T00:00:00+00:00"  # type: ignore[operator]
    assert fns["add_working_days"]("2026-12-24", 1) == "2026-12-29T00:00:00+00:00"  # type: ignore[operator]


def test_script_wrappers_convert_other_offsets_to_utc(fns: dict[str, object]) -> None:
    assert fns["add_working_days"]("2026-06-01T10:00:00+01:00", 0) == "2026-06-01T09:00:00+00:00"  # type: ignore[operator]


def test_script_add_school_days_accepts_z_suffixed_text(fns: dict[str, object]) -> None:
    assert fns["add_school_days"]("2026-10-23T09:00:00Z", 1) == "2026-11-02T09:00:00+00:00"  # type: ignore[operator]


def test_script_counts_and_checks_accept_iso_text(fns: dict[str, object]) -> None:
    assert fns["working_days_between"]("2026-12-24T09:00:00+00:00", "2026-12-31") == 3  # type: ignore[operator]
    assert fns["school_days_between"]("2026-10-23", "2026-11-02") == 1  # type: ignore[operator]
    assert fns["is_working_day"]("2026-12-28") is False  # type: ignore[operator]
    assert fns["is_school_day"]("2026-11-02T09:00:00+00:00") is True  # type: ignore[operator]


def test_the_calendar_module_never_reads_the_wall_clock() -> None:
    source = inspect.getsource(calendar_module)
    assert ".now(" not in source
    assert ".today(" not in source
    assert ".utcnow(" not in source


def test_a_deadline_overdue_from_midnight_is_due_by_the_day_before() -> None:
    from engine.calendar import due_by_day

    assert due_by_day(datetime(2026, 12, 19, tzinfo=UTC)) == date(2026, 12, 18)
    assert due_by_day(datetime(2026, 12, 19)) == date(2026, 12, 18)  # naive is UTC, as SQLite gives it back
    assert due_by_day(datetime(2026, 12, 8, 9, 30, tzinfo=UTC)) == date(2026, 12, 8)


def test_a_deadline_at_another_time_is_due_on_the_day_it_falls_in_local_time() -> None:
    from engine.calendar import due_by_day

    late_in_june = datetime(2027, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 June in London
    assert due_by_day(late_in_june) == date(2027, 6, 1)
    assert due_by_day(late_in_june, ZoneInfo("Europe/London")) == date(2027, 6, 2)


# -- counting by index agrees with counting day by day -------------------------------------------


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _school_year(autumn_year: int) -> tuple[list[tuple[date, date]], list[tuple[date, date]]]:
    """Three terms with a week's half term in each, and an INSET day at the start of the autumn term."""
    y = autumn_year
    terms = [(date(y, 9, 3), date(y, 12, 19)), (date(y + 1, 1, 6), date(y + 1, 3, 28)),
             (date(y + 1, 4, 14), date(y + 1, 7, 22))]
    half_terms = [_monday_on_or_after(d) for d in (date(y, 10, 24), date(y + 1, 2, 14), date(y + 1, 5, 26))]
    closures = [(monday, monday + timedelta(days=4)) for monday in half_terms] + [(terms[0][0], terms[0][0])]
    return terms, closures


def _term_calendar(autumn_years: Iterable[int]) -> TermCalendar:
    terms: list[tuple[date, date]] = []
    closures: list[tuple[date, date]] = []
    for year in autumn_years:
        year_terms, year_closures = _school_year(year)
        terms += year_terms
        closures += year_closures
    return TermCalendar(terms=tuple(terms), closures=tuple(closures))


# School years 2019/20 to 2029/30: the dates drawn below (2018 to 2032) start before and end after them.
REALISTIC_TERMS = _term_calendar(range(2019, 2030))
# Term dates missing for four school years: more than three years without a school day.
GAPPY_TERMS = _term_calendar([2019, 2024, 2025])
TERM_CALENDARS = st.sampled_from([REALISTIC_TERMS, GAPPY_TERMS, TERMS])

LONDON = ZoneInfo("Europe/London")
DAYS = st.dates(min_value=date(2018, 1, 1), max_value=date(2032, 12, 31))
MOMENTS = st.datetimes(
    min_value=datetime(2018, 1, 1),
    max_value=datetime(2032, 12, 31, 23, 59),
    timezones=st.sampled_from([UTC, LONDON, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("America/Anchorage")]),
)
DAYS_OR_MOMENTS = st.one_of(DAYS, MOMENTS)
COUNTS = st.integers(min_value=-400, max_value=400)
QUICK = settings(max_examples=150, deadline=None, database=None)


def _outcome(work: Callable[..., object], *args: object) -> str:
    """What ``work(*args)`` gives, as text that tells apart a date from a datetime and one timezone from
    another; or the error it raises."""
    try:
        return repr(work(*args))
    except (ValueError, OverflowError) as error:
        return f"{type(error).__name__}: {error}"


@QUICK
@given(a=DAYS_OR_MOMENTS, b=DAYS_OR_MOMENTS)
def test_the_fast_working_day_count_agrees_with_counting_day_by_day(a: date, b: date) -> None:
    cal = BusinessCalendar()
    for first, last in ((a, b), (b, a), (a, a)):
        simple = calendar_module._count_between_simple(first, last, cal.is_working_day)
        assert cal.working_days_between(first, last) == simple


@QUICK
@given(terms=TERM_CALENDARS, a=DAYS_OR_MOMENTS, b=DAYS_OR_MOMENTS)
def test_the_fast_school_day_count_agrees_with_counting_day_by_day(
    terms: TermCalendar, a: date, b: date
) -> None:
    cal = BusinessCalendar(terms)
    for first, last in ((a, b), (b, a), (a, a)):
        simple = calendar_module._count_between_simple(first, last, terms.is_school_day)
        assert cal.school_days_between(first, last) == simple


@QUICK
@given(start=DAYS_OR_MOMENTS, n=COUNTS)
def test_adding_working_days_fast_agrees_with_stepping_day_by_day(start: date, n: int) -> None:
    cal = BusinessCalendar()
    simple = _outcome(calendar_module._step_simple, start, n, cal.is_working_day, "working day")
    assert _outcome(cal.add_working_days, start, n) == simple


@QUICK
@given(terms=TERM_CALENDARS, start=DAYS_OR_MOMENTS, n=COUNTS)
def test_adding_school_days_fast_agrees_with_stepping_day_by_day_and_fails_where_it_fails(
    terms: TermCalendar, start: date, n: int
) -> None:
    cal = BusinessCalendar(terms)
    simple = _outcome(calendar_module._step_simple, start, n, terms.is_school_day, "school day")
    assert _outcome(cal.add_school_days, start, n) == simple


@settings(max_examples=60, deadline=None, database=None)
@given(
    start=st.one_of(
        st.dates(min_value=date(1, 1, 1), max_value=date(1, 3, 1)),
        st.dates(min_value=date(9999, 10, 1), max_value=date(9999, 12, 31)),
        st.dates(min_value=date(9995, 1, 1), max_value=date(9996, 12, 31)),
    ),
    n=st.integers(min_value=-50, max_value=50),
)
def test_near_the_ends_of_the_calendar_the_fast_answers_and_errors_agree_with_the_walk(
    start: date, n: int
) -> None:
    cal = BusinessCalendar(REALISTIC_TERMS)
    working = _outcome(calendar_module._step_simple, start, n, cal.is_working_day, "working day")
    school = _outcome(calendar_module._step_simple, start, n, REALISTIC_TERMS.is_school_day, "school day")
    assert _outcome(cal.add_working_days, start, n) == working
    assert _outcome(cal.add_school_days, start, n) == school


def test_counting_across_ten_years_does_not_check_each_day(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = BusinessCalendar(REALISTIC_TERMS)
    start, end = date(2019, 9, 1), date(2029, 8, 31)
    expected = (cal.working_days_between(start, end), cal.school_days_between(start, end))  # builds the indexes

    checks = 0

    def counted(check: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal checks
            checks += 1
            return check(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(calendar_module, "bank_holidays", counted(calendar_module.bank_holidays))
    monkeypatch.setattr(TermCalendar, "is_school_day", counted(TermCalendar.is_school_day))
    monkeypatch.setattr(BusinessCalendar, "is_working_day", counted(BusinessCalendar.is_working_day))

    assert (cal.working_days_between(start, end), cal.school_days_between(start, end)) == expected
    assert cal.add_working_days(start, expected[0]) == date(2029, 8, 31)  # a Friday, not a holiday
    assert cal.add_school_days(start, expected[1]) == date(2029, 7, 20)
    assert cal.add_school_days(date(2029, 7, 20), 1 - expected[1]) == date(2019, 9, 4)  # the first one
    with pytest.raises(ValueError, match="term dates for that period missing"):
        cal.add_school_days(date(2029, 7, 20), -expected[1])
    assert checks == 0  # day by day it would be about 3,650 checks for each of them


def test_school_days_from_a_source_other_than_term_dates_are_still_counted() -> None:
    class MondaysOnly:
        def __init__(self) -> None:
            self.asked = 0

        def is_school_day(self, day: date) -> bool:
            self.asked += 1
            return day.weekday() == 0

    mondays = MondaysOnly()
    cal = BusinessCalendar(mondays)
    assert cal.school_days_between(date(2026, 3, 1), date(2026, 3, 31)) == 5
    assert cal.add_school_days(date(2026, 3, 1), 2) == date(2026, 3, 9)
    assert cal.add_school_days(date(2026, 3, 9), -1) == date(2026, 3, 2)
    assert mondays.asked > 0


def test_term_look_ups_agree_with_scanning_every_term() -> None:
    overlapping = TermCalendar(
        terms=((date(2026, 1, 5), date(2026, 12, 18)), (date(2026, 3, 2), date(2026, 3, 27)),
               (date(2027, 1, 5), date(2027, 3, 26)))
    )
    for terms in (REALISTIC_TERMS, TERMS, overlapping, TermCalendar(terms=())):
        day = date(2018, 12, 25)
        while day < date(2031, 1, 10):
            containing = next((t for t in terms.terms if t[0] <= day <= t[1]), None)
            next_start = next((s for s, _e in terms.terms if s > day), None)
            assert terms.term_containing(day) == containing, day
            assert terms.next_term_start(day) == next_start, day
            day += timedelta(days=3)


def test_equal_term_calendars_share_one_school_day_index() -> None:
    again = _term_calendar(range(2019, 2030))
    assert again == REALISTIC_TERMS and again is not REALISTIC_TERMS
    assert again._day_index is REALISTIC_TERMS._day_index
    changed = TermCalendar(terms=REALISTIC_TERMS.terms, closures=REALISTIC_TERMS.closures[1:])
    assert changed._day_index is not REALISTIC_TERMS._day_index


@pytest.mark.parametrize(
    ("last_day", "found"),
    [(date(2029, 9, 10), True), (date(2029, 9, 11), False)],  # 1,098 then 1,099 days without school
)
def test_a_school_day_just_within_three_years_is_found_and_one_day_further_is_not(
    last_day: date, found: bool
) -> None:
    first_day = date(2026, 9, 7)
    terms = TermCalendar(terms=((first_day, first_day), (last_day, last_day)))
    cal = BusinessCalendar(terms)
    for start, n in ((first_day, 1), (last_day, -1), (first_day - timedelta(days=1), 2)):
        simple = _outcome(calendar_module._step_simple, start, n, terms.is_school_day, "school day")
        assert _outcome(cal.add_school_days, start, n) == simple
        assert ("ValueError" not in simple) == found
