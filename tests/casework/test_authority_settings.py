"""The authority's settings as the administrator's pages change them: term dates by year, the rules' form."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.authority_settings import (
    academic_year_of_slug,
    by_year,
    change_rules,
    rule_fields,
    save_year,
    term_years,
)
from casework.rules import ensure_authority, rules_for
from casework.terms import import_term_dates_csv, parse_term_dates_csv, term_dates_committed
from engine.db import unit_of_work
from engine.errors import InvalidData

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TERMS = ("kind,academic_year,term,starts_on,ends_on\n"
         "term,2026/27,autumn,2026-09-02,2026-12-18\n"
         "half_term,2026/27,autumn,2026-10-26,2026-10-30\n"
         "inset,2026/27,autumn,2026-09-02,\n"
         "term,2027/28,autumn,2027-09-02,2027-12-17\n"
         "inset,2027/28,autumn,2027-09-02,\n")


def test_an_academic_year_in_an_address_is_read_only_when_it_is_a_real_one() -> None:
    assert academic_year_of_slug("2026-27") == "2026/27" and academic_year_of_slug("1999-00") == "1999/00"
    assert [academic_year_of_slug(s) for s in ("2026-28", "2026/27", "26-27", "2026-2", "abcd-ef", "")] == [None] * 6


def test_terms_and_inset_days_are_grouped_by_the_academic_year_of_their_term() -> None:
    years = by_year(*parse_term_dates_csv(TERMS))
    assert [(y.academic_year, [t.term for t in y.terms], y.insets) for y in years] == [
        ("2026/27", ["autumn"], [date(2026, 9, 2)]), ("2027/28", ["autumn"], [date(2027, 9, 2)])]
    assert years[0].slug == "2026-27"


def test_a_term_outside_its_academic_year_is_refused_naming_the_line() -> None:
    with pytest.raises(InvalidData) as refused:
        parse_term_dates_csv(TERMS.replace("term,2027/28,autumn,2027-09-02", "term,2026/27,summer,2027-09-02"))
    assert refused.value.errors["line 5, starts_on"] == [
        "Not in the academic year 2026/27 (1 August 2026 to 31 August 2027)"]


def test_only_a_committed_change_of_term_dates_counts_for_the_running_calendars(
    factory: sessionmaker[Session],
) -> None:
    before = term_dates_committed()
    with factory() as session:
        import_term_dates_csv(session, "935", TERMS)
        session.rollback()
    assert term_dates_committed() == before
    with unit_of_work(factory) as session:
        import_term_dates_csv(session, "935", TERMS)
    assert term_dates_committed() == before + 1


def test_saving_a_year_keeps_the_other_years_and_its_errors_are_the_forms_fields(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        import_term_dates_csv(session, "935", TERMS)
    with unit_of_work(factory) as session:
        save_year(session, AT, "ada", "935", "2026/27", {
            "autumn-starts_on": "2026-09-03", "autumn-ends_on": "2026-12-18", "spring-starts_on": "2027-01-05",
            "spring-ends_on": "2027-03-26", "inset_days": "2026-09-03"})
    with factory() as session:
        years, own = term_years(session, "935")
    assert own and [(y.academic_year, [(t.term, t.starts_on, t.half_term) for t in y.terms], y.insets)
                    for y in years] == [
        ("2026/27", [("autumn", date(2026, 9, 3), None), ("spring", date(2027, 1, 5), None)], [date(2026, 9, 3)]),
        ("2027/28", [("autumn", date(2027, 9, 2), None)], [date(2027, 9, 2)])]
    with factory() as session, pytest.raises(InvalidData) as refused:
        save_year(session, AT, "ada", "935", "2026/27", {
            "autumn-starts_on": "2026-09-03", "autumn-ends_on": "2026-09-01", "summer-half_starts_on": "2027-06-01",
            "inset_days": "2026-13-01"})
    assert set(refused.value.errors) == {"autumn-ends_on", "summer-starts_on", "summer-ends_on", "summer-half_ends_on",
                                         "inset_days"}


def test_the_rules_form_knows_each_rules_allowed_values_and_changes_only_what_differs(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        ensure_authority(session, "935", "Council 935")
        fields = {f.name: f for f in rule_fields(session, "935")}
        assert (fields["area_notice_working_days"].low, fields["area_notice_working_days"].high) == (1, 5)
        assert [code for code, _ in fields["initial_pep_day_kind"].choices] == ["working", "school"]
        form = {name: str(f.value) for name, f in fields.items()}
        assert change_rules(session, AT, "ada", "935", form) == {}
        assert change_rules(session, AT, "ada", "935", {**form, "initial_pep_days": "20"}) == {
            "initial_pep_days": [10, 20]}
        with pytest.raises(InvalidData) as refused:
            change_rules(session, AT, "ada", "935", {**form, "initial_pep_days": "61", "termly_review_window": "x"})
        assert set(refused.value.errors) == {"initial_pep_days", "termly_review_window"}
        assert rules_for(session, "935").initial_pep_days == 20
