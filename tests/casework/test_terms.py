from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.records import InsetDay, TermDate
from casework.terms import (
    default_term_calendar,
    has_own_term_dates,
    import_term_dates_csv,
    load_default_term_dates,
    term_calendar_for,
    term_on,
    terms_between,
)
from engine.db import unit_of_work
from engine.errors import InvalidData

GOOD_CSV = """kind,academic_year,term,starts_on,ends_on
term,2026/27,autumn,2026-09-07,2026-12-16
half_term,2026/27,autumn,2026-10-19,2026-10-23
inset,2026/27,autumn,2026-09-07,
term,2026/27,spring,2027-01-04,2027-03-26
half_term,2026/27,spring,2027-02-15,2027-02-19
inset,,,2027-01-04,2027-01-04
term,2026/27,summer,2027-04-12,2027-07-20
"""


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_an_authority_without_term_dates_uses_the_default_calendar(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        calendar = term_calendar_for(session, "935")
        assert not has_own_term_dates(session, "935")
    assert calendar == default_term_calendar()


def test_loaded_default_term_dates_give_exactly_the_default_school_days(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        written = load_default_term_dates(session, "935")
    with unit_of_work(factory) as session:
        assert has_own_term_dates(session, "935")
        calendar = term_calendar_for(session, "935")
    default = default_term_calendar()
    assert written == 9 + 6  # nine terms, six INSET days
    for day in _days(date(2025, 8, 1), date(2028, 8, 31)):
        assert calendar.is_school_day(day) == default.is_school_day(day), day


def test_a_good_csv_replaces_the_authoritys_dates(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        load_default_term_dates(session, "935")
        load_default_term_dates(session, "936")
    with unit_of_work(factory) as session:
        assert import_term_dates_csv(session, "935", GOOD_CSV) == 5
    with unit_of_work(factory) as session:
        calendar = term_calendar_for(session, "935")
        assert (
            session.scalar(select(func.count()).select_from(TermDate).where(TermDate.la_code == "935")) == 3
        )
        assert (
            session.scalar(select(func.count()).select_from(InsetDay).where(InsetDay.la_code == "935")) == 2
        )
        assert (
            session.scalar(select(func.count()).select_from(TermDate).where(TermDate.la_code == "936")) == 9
        )
    assert not calendar.is_school_day(date(2026, 9, 7))  # INSET day
    assert calendar.is_school_day(date(2026, 9, 8))
    assert not calendar.is_school_day(date(2026, 10, 21))  # this authority's half term
    assert calendar.is_school_day(date(2026, 10, 28))  # the default half term, a school day here
    assert not calendar.is_school_day(date(2026, 12, 17))  # after this authority's term ends


@pytest.mark.parametrize(
    ("line", "key", "reason"),
    [
        ("holiday,2026/27,autumn,2026-09-07,2026-12-16", "line 2, kind", "term, half_term or inset"),
        ("term,2026-27,autumn,2026-09-07,2026-12-16", "line 2, academic_year", "like 2026/27"),
        ("term,2026/27,winter,2026-09-07,2026-12-16", "line 2, term", "autumn, spring or summer"),
        ("term,2026/27,autumn,7/9/2026,2026-12-16", "line 2, starts_on", "YYYY-MM-DD"),
        ("term,2026/27,autumn,2026-09-07,", "line 2, ends_on", "Enter a date"),
        ("term,2026/27,autumn,2026-12-16,2026-09-07", "line 2, ends_on", "before it starts"),
        ("half_term,2026/27,autumn,2026-10-19,2026-10-23", "line 2, term", "No autumn term of 2026/27"),
        ("inset,,,2026-08-20,", "line 2, starts_on", "not inside any term"),
        ("inset,,,2026-09-07,2026-09-08", "line 2, ends_on", "one day"),
    ],
)
def test_each_kind_of_bad_line_is_named_with_its_field(
    factory: sessionmaker[Session], line: str, key: str, reason: str
) -> None:
    text = "kind,academic_year,term,starts_on,ends_on\n" + line + "\n"
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        import_term_dates_csv(session, "935", text)
    assert key in caught.value.errors, caught.value.errors
    assert reason in " ".join(caught.value.errors[key])


def test_overlapping_terms_and_a_half_term_outside_its_term_are_refused(
    factory: sessionmaker[Session],
) -> None:
    text = """kind,academic_year,term,starts_on,ends_on
term,2026/27,autumn,2026-09-07,2026-12-16
term,2026/27,spring,2026-12-10,2027-03-26
half_term,2026/27,autumn,2026-12-14,2026-12-20
"""
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        import_term_dates_csv(session, "935", text)
    assert "Overlaps the autumn term" in caught.value.errors["line 3, starts_on"][0]
    assert "inside its term" in caught.value.errors["line 4, starts_on"][0]


def test_a_csv_without_the_expected_header_is_refused(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        import_term_dates_csv(session, "935", "type,year,from,to\nterm,2026/27,2026-09-07,2026-12-16\n")
    assert "missing kind" in caught.value.errors["line 1"][0]


def test_a_bad_file_changes_nothing(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        import_term_dates_csv(session, "935", GOOD_CSV)
    bad = GOOD_CSV + "term,2027/28,autumn,2027-09-02,2027-08-01\n"
    with unit_of_work(factory) as session, pytest.raises(InvalidData):
        import_term_dates_csv(session, "935", bad)
    with unit_of_work(factory) as session:
        assert [t.term for t in terms_between(session, "935", date(2026, 9, 1), date(2028, 8, 31))] == [
            "autumn",
            "spring",
            "summer",
        ]


def test_term_on_gives_the_last_school_day_before_half_term(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        autumn = term_on(session, "935", date(2026, 12, 1))
        summer = term_on(session, "935", date(2027, 5, 4))
        holiday = term_on(session, "935", date(2026, 12, 25))
    assert autumn is not None and summer is not None
    assert (autumn.academic_year, autumn.term) == ("2026/27", "autumn")
    assert (autumn.starts_on, autumn.first_half_ends_on, autumn.ends_on) == (
        date(2026, 9, 3),
        date(2026, 10, 23),
        date(2026, 12, 18),
    )
    # Summer half term starts Monday 31 May 2027, which is also the spring bank holiday.
    assert summer.first_half_ends_on == date(2027, 5, 28)
    assert holiday is None


def test_terms_between_lists_the_terms_overlapping_the_period(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        import_term_dates_csv(session, "935", GOOD_CSV)
        found = terms_between(session, "935", date(2026, 12, 1), date(2027, 2, 1))
    assert [(t.term, t.first_half_ends_on) for t in found] == [
        ("autumn", date(2026, 10, 16)),
        ("spring", date(2027, 2, 12)),
    ]
