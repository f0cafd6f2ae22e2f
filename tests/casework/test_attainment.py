"""Attainment and EET status: recorded by hand, from the PEP, and imported from CSV (all or nothing,
idempotent, line-numbered errors, only the children the importer may see)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, true
from sqlalchemy.orm import Session, sessionmaker

from casework import attainment_import
from casework.attainment import (
    AttainmentError,
    for_child,
    record,
    record_eet,
    record_key_stage_result,
    record_pep,
    term_of,
)
from casework.records import Child, Pep
from casework.school_data import Attainment, EetStatus
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.casework.records_support import add_child

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
UPN = "A123456789012"  # any 13 characters will do for the lookup: the record's own rules check real UPNs


@pytest.fixture
def children(factory: sessionmaker[Session], clock: FrozenClock) -> dict[str, int]:
    with unit_of_work(factory) as session:
        amy = add_child(session, clock, ref="C-1", first_name="Amy", date_of_birth="2016-05-01")
        ben = add_child(session, clock, ref="C-2", first_name="Ben", date_of_birth="2011-01-10")
        other = add_child(session, clock, ref="C-9", first_name="Zed", date_of_birth="2016-05-01", la_code="999")
        amy.upn = UPN
        session.flush()
        return {"C-1": amy.id, "C-2": ben.id, "C-9": other.id}


def rows(factory: sessionmaker[Session]) -> list[tuple[int, str, str, str, str, str, str | None]]:
    with unit_of_work(factory) as session:
        found = session.scalars(select(Attainment).order_by(Attainment.child_id, Attainment.subject, Attainment.kind))
        return [(r.child_id, r.academic_year, r.term, r.subject, r.kind, r.value, r.target) for r in found]


def test_recording_the_same_assessment_twice_keeps_one_row_and_a_new_value_replaces_it(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    amy = children["C-1"]
    with unit_of_work(factory) as session:
        assert record(session, amy, "2026/27", "autumn", "reading", "teacher_assessment", "towards", "expected",
                      at=AT) == "new"
        assert record(session, amy, "2026/27", "autumn", "reading", "teacher_assessment", "towards", "expected",
                      at=AT) == "unchanged"
        assert record(session, amy, "2026/27", "autumn", "reading", "teacher_assessment", "expected", "expected",
                      at=AT) == "changed"
    assert rows(factory) == [(amy, "2026/27", "autumn", "reading", "teacher_assessment", "expected", "expected")]


@pytest.mark.parametrize(("args", "message"), [
    (("2026/28", "autumn", "reading", "teacher_assessment", "towards", None), "two years in a row"),
    (("2026/27", "winter", "reading", "teacher_assessment", "towards", None), "Term ‘winter’"),
    (("2026/27", "autumn", "reading", "teacher_assessment", "7", None), "is not a teacher_assessment"),
    (("2026/27", "autumn", "reading", "gcse_working_at", "7", None), "has no gcse_working_at"),
    (("2026/27", "autumn", "maths", "gcse_working_at", "10", None), "one of 9, 8"),
    (("2026/27", "autumn", "maths", "gcse_target", "5", "6"), "has no target"),
    (("2026/27", "summer", "gld", "ks_result", "5", None), "one of met, not_met"),
])
def test_an_assessment_that_is_not_valid_is_refused_with_the_reason(
    factory: sessionmaker[Session], children: dict[str, int], args: tuple[str, ...], message: str
) -> None:
    year, term, subject, kind, value, target = args
    with unit_of_work(factory) as session, pytest.raises(AttainmentError, match=message):
        record(session, children["C-1"], year, term, subject, kind, value, target, at=AT)
    assert rows(factory) == []


def test_end_of_key_stage_results_are_recorded_in_the_summer_term_with_the_measures_of_each_stage(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    amy, ben = children["C-1"], children["C-2"]
    with unit_of_work(factory) as session:
        record_key_stage_result(session, amy, "eyfs", "2021/22", "gld", "met", at=AT)
        record_key_stage_result(session, amy, "ks2", "2026/27", "maths", "not_met", at=AT)
        record_key_stage_result(session, ben, "ks4", "2026/27", "english", "6", at=AT)
        with pytest.raises(AttainmentError, match="is not a ks2 result"):
            record_key_stage_result(session, amy, "ks2", "2026/27", "reading", "6", at=AT)
        with pytest.raises(AttainmentError, match="has no ks4 result"):
            record_key_stage_result(session, ben, "ks4", "2026/27", "reading", "6", at=AT)
    assert rows(factory) == [
        (amy, "2021/22", "summer", "gld", "ks_result", "met", None),
        (amy, "2026/27", "summer", "maths", "ks_result", "not_met", None),
        (ben, "2026/27", "summer", "english", "ks_result", "6", None),
    ]


def test_an_eet_status_is_one_row_a_day_and_the_record_shows_the_latest(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    ben = children["C-2"]
    with unit_of_work(factory) as session:
        record_eet(session, ben, date(2026, 9, 30), "education", at=AT)
        record_eet(session, ben, date(2026, 11, 30), "training", at=AT)
        record_eet(session, ben, date(2026, 11, 30), "neet", at=AT)
        with pytest.raises(AttainmentError, match="EET status ‘idle’"):
            record_eet(session, ben, date(2026, 11, 30), "idle", at=AT)
    with unit_of_work(factory) as session:
        assert session.scalar(select(EetStatus.status).where(EetStatus.recorded_on == date(2026, 11, 30))) == "neet"
        assert len(session.scalars(select(EetStatus)).all()) == 2
        shown = for_child(session, ben)
        assert (shown.eet_label, shown.latest) == ("Not in education, employment or training (NEET)", [])


def test_the_record_shows_the_latest_terms_assessments_against_their_targets(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    amy = children["C-1"]
    with unit_of_work(factory) as session:
        record(session, amy, "2025/26", "summer", "reading", "teacher_assessment", "below", "expected", at=AT)
        record(session, amy, "2026/27", "autumn", "reading", "teacher_assessment", "greater_depth", "expected", at=AT)
        record(session, amy, "2026/27", "autumn", "maths", "teacher_assessment", "towards", "expected", at=AT)
        record_key_stage_result(session, amy, "eyfs", "2021/22", "gld", "met", at=AT)
    with unit_of_work(factory) as session:
        shown = for_child(session, amy)
    assert (shown.academic_year, shown.term) == ("2026/27", "autumn")
    assert [(m.subject, m.value, m.against_target) for m in shown.latest] == [
        ("reading", "greater_depth", "at_or_above"), ("maths", "towards", "below")]
    assert [(year, m.subject_label, m.value_label) for year, m in shown.results] == [
        ("2021/22", "EYFS good level of development", "Met")]


def test_a_peps_answers_record_assessments_gcse_grades_sen_status_and_eet(
    factory: sessionmaker[Session], clock: FrozenClock, children: dict[str, int]
) -> None:
    amy, ben = children["C-1"], children["C-2"]
    with unit_of_work(factory) as session:
        initial = Pep(child_id=amy, kind="initial", academic_year="2026/27", term=None, stage="school_age",
                      created_at=AT)
        termly = Pep(child_id=ben, kind="termly", academic_year="2026/27", term="spring", stage="school_age",
                     created_at=AT)
        session.add_all([initial, termly])
        session.flush()
        record_pep(session, initial, {"meeting_date": "2026-11-30", "reading_assessment": "towards",
                                      "reading_target": "expected", "sen_support_status": "ehc_plan"}, AT)
        record_pep(session, termly, {"meeting_date": "2027-01-20", "gcse_maths_working_at": "4",
                                     "gcse_maths_target": "5", "gcse_english_target": "6",
                                     "eet_status": "education"}, AT)
    assert rows(factory) == [
        (amy, "2026/27", "autumn", "reading", "teacher_assessment", "towards", "expected"),  # the meeting's term
        (ben, "2026/27", "spring", "english", "gcse_target", "6", None),
        (ben, "2026/27", "spring", "maths", "gcse_working_at", "4", "5"),
    ]
    with unit_of_work(factory) as session:
        assert session.get(Child, amy).sen_status == "ehc_plan"  # type: ignore[union-attr]
        assert session.get(Child, ben).sen_status == "none"  # type: ignore[union-attr]
        assert [(e.child_id, e.recorded_on, e.status) for e in session.scalars(select(EetStatus))] == [
            (ben, date(2027, 1, 20), "education")]


def test_the_term_of_a_day_follows_the_school_year() -> None:
    assert [term_of(date(2026, m, 1)) for m in (9, 12, 1, 3, 4, 8)] == [
        "autumn", "autumn", "spring", "spring", "summer", "summer"]


# -- importing ---------------------------------------------------------------------------------------
GOOD = ("child,academic_year,term,subject,kind,value,target\n"
        f"{UPN},2026/27,autumn,reading,teacher_assessment,towards,expected\n"
        "C-2,2026/27,autumn,maths,gcse_working_at,4,5\n"
        "\n"
        "c-1,2025/26,summer,gld,ks_result,met,\n")
LA_ONLY = Child.la_code == "935"


def test_a_good_file_previews_as_new_then_imports_and_the_same_file_again_changes_nothing(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    with unit_of_work(factory) as session:
        shown = attainment_import.preview(session, LA_ONLY, GOOD.encode("utf-8-sig"))
        assert (shown.errors, shown.new, shown.changed, shown.unchanged) == ([], 3, 0, 0)
    assert rows(factory) == []  # a preview writes nothing
    with unit_of_work(factory) as session:
        assert attainment_import.apply(session, LA_ONLY, GOOD, AT).new == 3
    first = rows(factory)
    assert len(first) == 3
    with unit_of_work(factory) as session:
        again = attainment_import.apply(session, LA_ONLY, GOOD, AT)
        assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
        assert attainment_import.recorded_count(session, LA_ONLY) == 3
    assert rows(factory) == first
    corrected = GOOD.replace("gcse_working_at,4,5", "gcse_working_at,5,5")
    with unit_of_work(factory) as session:
        fixed = attainment_import.apply(session, LA_ONLY, corrected, AT)
        assert (fixed.new, fixed.changed, fixed.unchanged) == (0, 1, 2)
    assert (children["C-2"], "2026/27", "autumn", "maths", "gcse_working_at", "5", "5") in rows(factory)


def test_a_file_with_any_bad_line_records_nothing_and_names_each_line_and_reason(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    bad = ("kind,child,academic_year,term,subject,value\n"
           "teacher_assessment,C-1,2026/27,autumn,reading,towards\n"
           "teacher_assessment,C-9,2026/27,autumn,reading,towards\n"
           "teacher_assessment,C-404,2026/27,autumn,reading,towards\n"
           "teacher_assessment,C-2,26/27,winter,reading,brilliant\n"
           "teacher_assessment,C-1,2026/27,autumn,reading,expected\n"
           "teacher_assessment,,2026/27,autumn,reading,towards\n")
    with unit_of_work(factory) as session:
        result = attainment_import.apply(session, LA_ONLY, bad, AT)
    assert result.errors == [
        "Line 3: no child with UPN or reference ‘C-9’ is on your roll",  # another authority's: not found
        "Line 4: no child with UPN or reference ‘C-404’ is on your roll",
        "Line 5: academic year ‘26/27’ must be written like 2026/27; term ‘winter’ must be one of autumn, spring, "
        "summer; value ‘brilliant’ is not a teacher_assessment in reading (one of below, towards, expected, "
        "greater_depth)",
        "Line 6: repeats line 2 (the same child, academic year, term, subject and kind): keep one of them",
        "Line 7: child is blank",
    ]
    assert rows(factory) == []


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty"),
    (b"child,term\nC-1,autumn\n", "missing: academic_year, subject, kind, value"),
    ("child,academic_year\n".encode("utf-16"), "not UTF-8"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(
    factory: sessionmaker[Session], children: dict[str, int], content: bytes, message: str
) -> None:
    with unit_of_work(factory) as session, pytest.raises(attainment_import.FileError, match=message):
        attainment_import.preview(session, true(), content)


def test_a_header_with_no_lines_is_an_error_not_an_empty_success(
    factory: sessionmaker[Session], children: dict[str, int]
) -> None:
    with unit_of_work(factory) as session:
        result = attainment_import.preview(session, true(), "child,academic_year,term,subject,kind,value\n")
    assert not result.ok and result.errors == ["The file has no assessments: add a line for each, under the header"]
