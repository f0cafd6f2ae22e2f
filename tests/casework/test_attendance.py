"""Attendance: one period recorded, and the CSV import's preview, errors, all-or-nothing and idempotency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from casework import attendance
from casework.csv_import import MAX_ROWS, TooLarge, decode
from casework.school_data import AttendanceRecord
from casework.upn import check_letter
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData
from engine.models import AuditEvent

from .records_support import LA, add_child, add_school

UPN_1 = "P207000016049"
HEADER = ("upn,child_ref,period_start,period_end,possible_sessions,attended_sessions,"
          "authorised_absence,unauthorised_absence,school_urn\n")
GOOD = HEADER + (
    f"{UPN_1},,2026-11-02,2026-11-06,10,9,1,0,100001\n"
    ",C-2,09/11/2026,13/11/2026,10,10,0,0,\n"
    ",c-2,2026-11-16,2026-11-20,10,4,2,4,100001\n"
)


def upn(n: int) -> str:
    body = f"93512{n:07d}"
    return check_letter(body) + body


@pytest.fixture
def session(factory: sessionmaker[Session], clock: FrozenClock) -> Iterator[Session]:
    with unit_of_work(factory) as setup:
        add_school(setup, clock, "100001")
        add_child(setup, clock, ref="C-1", upn=UPN_1, school_urn="100001")
        add_child(setup, clock, ref="C-2", school_urn="100001")
        add_child(setup, clock, ref="C-9", la_code="936")  # another authority's child
    with unit_of_work(factory) as session:
        yield session


def records(session: Session) -> list[tuple[str, str, int, int, int, int, str]]:
    from casework.records import Child

    rows = session.execute(select(Child.ref, AttendanceRecord).join(Child, Child.id == AttendanceRecord.child_id)
                           .order_by(Child.ref, AttendanceRecord.period_start))
    return [(ref, r.period_start.isoformat(), r.possible_sessions, r.attended_sessions, r.authorised_absence,
             r.unauthorised_absence, r.source) for ref, r in rows]


def errors(text: str, session: Session, clock: FrozenClock) -> list[tuple[int, str, str]]:
    result = attendance.preview(session, LA, text, clock.now().date())
    return [(e.line, e.column, e.reason) for e in result.errors]


def test_a_good_file_previews_three_rows_to_add_and_imports_them_by_upn_or_reference(
    session: Session, clock: FrozenClock
) -> None:
    result = attendance.preview(session, LA, GOOD, clock.now().date())
    assert (result.ok, result.rows, len(result.add), len(result.replace), result.unchanged) == (True, 3, 3, 0, 0)
    assert records(session) == []  # a preview writes nothing
    applied = attendance.apply(session, clock, LA, GOOD, "vsh")
    assert applied.summary() == "3 added, 0 replaced, 0 unchanged"
    assert records(session) == [
        ("C-1", "2026-11-02", 10, 9, 1, 0, "import"),
        ("C-2", "2026-11-09", 10, 10, 0, 0, "import"),
        ("C-2", "2026-11-16", 10, 4, 2, 4, "import"),
    ]
    [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "attendance.imported"))
    assert audit.actor == "vsh" and audit.data is not None and audit.data["added"] == 3


def test_the_same_file_twice_changes_nothing_and_a_corrected_file_replaces_its_periods(
    session: Session, clock: FrozenClock
) -> None:
    attendance.apply(session, clock, LA, GOOD, "vsh")
    again = attendance.apply(session, clock, LA, GOOD, "vsh")
    assert again.summary() == "0 added, 0 replaced, 3 unchanged"
    corrected = HEADER + f"{UPN_1},,2026-11-02,2026-11-06,10,7,1,2,100001\n,C-2,2026-11-23,2026-11-27,8,8,0,0,\n"
    result = attendance.apply(session, clock, LA, corrected, "vsh")
    assert result.summary() == "1 added, 1 replaced, 0 unchanged"
    assert records(session)[0] == ("C-1", "2026-11-02", 10, 7, 1, 2, "import")
    assert len(records(session)) == 4


@pytest.mark.parametrize(("row", "column", "reason"), [
    (f"{UPN_1},,2026-11-02,2026-11-06,10,9,0,0,", "possible_sessions", "must equal attended plus"),
    (f"{UPN_1},,2026-11-02,2026-11-06,12,12,0,0,", "possible_sessions", "at most 10 sessions"),
    (f"{UPN_1},,2026-11-02,2026-11-02,3,3,0,0,", "possible_sessions", "1 school day has at most 2"),
    (f"{UPN_1},,2026-11-06,2026-11-02,0,0,0,0,", "period_end", "on or after"),
    (f"{UPN_1},,2026-11-30,2026-12-04,0,0,0,0,", "period_end", "in the future"),
    (f"{UPN_1},,2023-11-27,2023-12-01,10,10,0,0,", "period_start", "more than 3 years ago"),
    (f"{UPN_1},,2026-13-01,2026-11-06,10,10,0,0,", "period_start", "YYYY-MM-DD or DD/MM/YYYY"),
    (f"{UPN_1},,,2026-11-06,10,10,0,0,", "period_start", "Enter the date"),
    (f"{UPN_1},,2026-11-02,2026-11-06,ten,10,0,0,", "possible_sessions", "whole number"),
    (f"{UPN_1},,2026-11-02,2026-11-06,10,11,-1,0,", "authorised_absence", "cannot be negative"),
    (f"{UPN_1},,2026-11-02,2026-11-06,10,10,0,0,12345", "school_urn", "6 digits"),
    (f"{upn(4)},,2026-11-02,2026-11-06,10,10,0,0,", "upn", "No child of this authority"),
    (",C-404,2026-11-02,2026-11-06,10,10,0,0,", "child_ref", "No child of this authority"),
    (",C-9,2026-11-02,2026-11-06,10,10,0,0,", "child_ref", "No child of this authority"),
    (f"{UPN_1},C-2,2026-11-02,2026-11-06,10,10,0,0,", "child_ref", "are two different children"),
    (",,2026-11-02,2026-11-06,10,10,0,0,", "upn", "UPN or their case reference"),
    (f"{UPN_1},,2026-11-02,2026-11-06,10,10,0,0,,extra", "(row)", "more values"),
])
def test_each_rule_refuses_its_row_with_the_line_number_and_column(
    session: Session, clock: FrozenClock, row: str, column: str, reason: str
) -> None:
    text = HEADER + f",C-2,2026-11-02,2026-11-06,10,10,0,0,\n\n{row}\n"  # a blank line still counts
    [(line, found_column, found_reason)] = errors(text, session, clock)
    assert (line, found_column) == (4, column)
    assert reason in found_reason


def test_a_period_twice_in_the_file_is_an_error_naming_the_first_line(session: Session, clock: FrozenClock) -> None:
    text = HEADER + f"{UPN_1},,2026-11-02,2026-11-06,10,10,0,0,\n,C-1,02/11/2026,06/11/2026,10,9,1,0,\n"
    assert errors(text, session, clock) == [(3, "period_start", "The same child and period is on line 2 too")]


def test_a_quoted_value_over_two_lines_keeps_the_line_numbers_of_the_file(session: Session, clock: FrozenClock) -> None:
    text = HEADER + f'{UPN_1},,2026-11-02,2026-11-06,10,10,0,0,"1000\n01"\n,C-2,2026-11-02,2026-11-06,11,11,0,0,\n'
    assert [e[:2] for e in errors(text, session, clock)] == [(2, "school_urn"), (4, "possible_sessions")]


def test_a_file_with_any_error_changes_nothing(session: Session, clock: FrozenClock) -> None:
    attendance.apply(session, clock, LA, GOOD, "vsh")
    before = records(session)
    bad = HEADER + f"{UPN_1},,2026-11-02,2026-11-06,10,2,8,0,\n,C-404,2026-11-02,2026-11-06,10,10,0,0,\n"
    with pytest.raises(InvalidData, match="not valid"):
        attendance.apply(session, clock, LA, bad, "vsh")
    assert records(session) == before


@pytest.mark.parametrize(("text", "reason"), [
    ("", "The file is empty"),
    ("upn,period_start\n", "The column period_end is missing"),
    ("period_start,period_end,possible_sessions,attended_sessions,authorised_absence,unauthorised_absence\n",
     "a column upn or child_ref"),
    (HEADER.strip() + ",notes\n", "The column notes is not one this import takes"),
])
def test_a_file_whose_first_line_is_wrong_is_refused_naming_the_column(
    session: Session, clock: FrozenClock, text: str, reason: str
) -> None:
    with pytest.raises(InvalidData) as refused:
        attendance.preview(session, LA, text, clock.now().date())
    assert any(reason in problem for problem in refused.value.errors["file"])


def test_a_file_must_be_utf8_with_or_without_a_byte_order_mark_and_at_most_5_mb() -> None:
    assert decode("\ufeffupn,caf\u00e9\n".encode()) == "upn,caf\u00e9\n"
    with pytest.raises(InvalidData) as refused:
        decode("upn,caf\u00e9\n".encode("cp1252"))
    assert "not UTF-8" in refused.value.errors["file"][0]
    with pytest.raises(TooLarge):
        decode(b"x" * (5 * 1024 * 1024 + 1))


def test_more_than_200000_rows_is_too_large(session: Session, clock: FrozenClock) -> None:
    text = HEADER + ",C-2,x,x,1,1,0,0,\n" * (MAX_ROWS + 1)
    with pytest.raises(TooLarge, match="200,000 rows"):
        attendance.preview(session, LA, text, clock.now().date())


def test_one_period_is_recorded_and_corrected_for_a_child(session: Session, clock: FrozenClock) -> None:
    period = {"period_start": date(2026, 11, 2), "period_end": date(2026, 11, 6)}
    attendance.record(session, clock, "C-1", "dt", **period, possible_sessions=10, attended_sessions=8,
                      authorised_absence=2, unauthorised_absence=0)
    attendance.record(session, clock, "C-1", "dt", **period, possible_sessions=10, attended_sessions=9,
                      authorised_absence=0, unauthorised_absence=1)
    assert records(session) == [("C-1", "2026-11-02", 10, 9, 0, 1, "manual")]
    with pytest.raises(InvalidData) as refused:
        attendance.record(session, clock, "C-1", "dt", **period, possible_sessions=11, attended_sessions=11,
                          authorised_absence=0, unauthorised_absence=0)
    assert "possible_sessions" in refused.value.errors


def test_this_years_attendance_gives_the_dfe_band(session: Session, clock: FrozenClock) -> None:
    text = HEADER + (f"{UPN_1},,2026-08-24,2026-08-28,10,0,10,0,\n"  # last academic year: not counted
                     f"{UPN_1},,2026-11-02,2026-11-06,10,9,1,0,\n{UPN_1},,2026-11-09,2026-11-13,10,9,0,1,\n")
    attendance.apply(session, clock, LA, text, "vsh")
    [child_id] = session.scalars(select(AttendanceRecord.child_id).distinct())
    summary = attendance.for_child(session, child_id, clock.now().date())
    assert (summary.possible, summary.attended, summary.percent, summary.band) == (20, 18, 90.0, "persistent")
    assert [p.period_start for p in summary.periods][:1] == [date(2026, 11, 9)]
    assert [attendance.band(100, a) for a in (91, 90, 51, 50, 0)] == ["ok", "persistent", "persistent", "severe",
                                                                      "severe"]
    assert attendance.band(0, 0) == "no_data"


def test_a_preview_of_100000_rows_takes_seconds_and_uses_a_few_queries(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    from casework.records import Child

    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        now = clock.now()
        session.execute(insert(Child), [
            {"ref": f"K-{n}", "first_name": "K", "last_name": f"Child {n}", "date_of_birth": date(2014, 5, 1),
             "upn": upn(n), "legal_status": "C2", "looked_after_since": date(2024, 1, 1), "la_code": LA,
             "created_at": now, "updated_at": now} for n in range(1000)])
    monday = date(2024, 11, 4)
    lines = [f"{upn(n)},,{monday + timedelta(weeks=w)},{monday + timedelta(weeks=w, days=4)},10,9,1,0,100001"
             for n in range(1000) for w in range(100)]
    text = HEADER + "\n".join(lines) + "\n"
    with unit_of_work(factory) as session:
        started = time.perf_counter()
        result = attendance.preview(session, LA, text, clock.now().date())
        seconds = time.perf_counter() - started
        assert (result.ok, len(result.add)) == (True, 100_000)
        attendance.apply(session, clock, LA, text, "vsh")
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(AttendanceRecord)) == 100_000
        assert attendance.preview(session, LA, text, clock.now().date()).unchanged == 100_000
    print(f"preview of 100,000 rows: {seconds:.2f} s")
    assert seconds < 10


def test_periods_sharing_days_in_one_file_are_refused_naming_the_other_line(session: Session, clock: FrozenClock) -> None:
    text = HEADER + (",C-2,2026-11-02,2026-11-06,10,10,0,0,\n"
                     ",C-1,2026-11-04,2026-11-06,6,6,0,0,\n"  # another child: no clash
                     ",C-2,2026-11-06,2026-11-13,12,12,0,0,\n")
    assert errors(text, session, clock) == [(4, "period_start", "The period 2026-11-02 to 2026-11-06 on line 2 "
                                                                "shares days with this one: each day may be counted once")]
    with pytest.raises(InvalidData):
        attendance.apply(session, clock, LA, text, "vsh")
    assert records(session) == []


def test_a_period_sharing_days_with_one_already_recorded_is_refused_and_nothing_changes(
    session: Session, clock: FrozenClock
) -> None:
    attendance.apply(session, clock, LA, HEADER + ",C-2,2026-11-09,2026-11-13,10,9,1,0,\n", "vsh")
    half_term = HEADER + (",C-2,2026-11-02,2026-11-06,10,10,0,0,\n"
                          ",C-2,2026-11-02,2026-11-20,30,28,2,0,\n")
    found = errors(half_term, session, clock)
    assert (3, "period_start", "The period 2026-11-02 to 2026-11-06 on line 2 shares days with this one: each day "
                               "may be counted once") in found
    assert (3, "period_start", "The period 2026-11-09 to 2026-11-13 already recorded shares days with this one: "
                               "each day may be counted once") in found
    assert records(session) == [("C-2", "2026-11-09", 10, 9, 1, 0, "import")]
    corrected = HEADER + ",C-2,2026-11-09,2026-11-13,10,10,0,0,\n"  # the same period again: replaced, no clash
    assert attendance.apply(session, clock, LA, corrected, "vsh").replace
