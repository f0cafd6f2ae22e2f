"""Suspensions and permanent exclusions: recorded on the record and imported, with the DfE's rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework import suspensions
from casework.children import ChildService
from casework.records import Child, PermanentExclusion
from casework.school_data import Suspension
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData
from engine.models import AuditEvent

from .records_support import LA, add_child, add_school

UPN_1 = "P207000016049"
HEADER = "upn,child_ref,kind,school_urn,start_date,days,reason\n"
GOOD = HEADER + (
    f"{UPN_1},,suspension,100001,2026-10-05,2,PD\n"
    ",C-2,suspension,100001,12/11/2026,0.5,VA\n"
    ",C-2,permanent_exclusion,100002,2026-11-20,,PP\n"
)


@pytest.fixture
def session(factory: sessionmaker[Session], clock: FrozenClock) -> Iterator[Session]:
    with unit_of_work(factory) as setup:
        add_school(setup, clock, "100001")
        add_school(setup, clock, "100002")
        add_child(setup, clock, ref="C-1", upn=UPN_1, school_urn="100001")
        add_child(setup, clock, ref="C-2", school_urn="100001")
        add_child(setup, clock, ref="C-9", la_code="936")
    with unit_of_work(factory) as session:
        yield session


def rows(session: Session) -> list[tuple[str, str, str | None, str, float, str]]:
    found = session.execute(select(Child.ref, Suspension).join(Child, Child.id == Suspension.child_id)
                            .order_by(Child.ref, Suspension.starts_on))
    return [(ref, s.kind, s.school_urn, s.starts_on.isoformat(), s.days, s.reason) for ref, s in found]


def exclusions(session: Session) -> list[tuple[str, str, date]]:
    found = session.execute(select(Child.ref, PermanentExclusion.school_urn, PermanentExclusion.excluded_on)
                            .join(Child, Child.id == PermanentExclusion.child_id).order_by(Child.ref))
    return [tuple(r) for r in found]  # type: ignore[misc]


def errors(text: str, session: Session, clock: FrozenClock) -> list[tuple[int, str, str]]:
    result = suspensions.preview(session, LA, text, clock.now().date())
    return [(e.line, e.column, e.reason) for e in result.errors]


def test_a_good_file_imports_suspensions_and_a_permanent_exclusion_the_direction_rule_sees(
    session: Session, clock: FrozenClock
) -> None:
    result = suspensions.apply(session, clock, LA, GOOD, "vsh")
    assert result.summary() == "3 added, 0 replaced, 0 unchanged"
    assert rows(session) == [
        ("C-1", "suspension", "100001", "2026-10-05", 2.0, "PD"),
        ("C-2", "suspension", "100001", "2026-11-12", 0.5, "VA"),
        ("C-2", "permanent_exclusion", "100002", "2026-11-20", 0.0, "PP"),
    ]
    assert exclusions(session) == [("C-2", "100002", date(2026, 11, 20))]
    assert ChildService(session, clock).permanently_excluded_from("C-2", "100002")
    assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "suspensions.imported")).all()
    [excluded] = session.scalars(select(AuditEvent).where(AuditEvent.action == "child.permanently_excluded"))
    assert (excluded.business_key, excluded.actor) == ("C-2", "vsh")


def test_the_same_file_twice_changes_nothing_and_a_corrected_file_replaces_days_and_reason(
    session: Session, clock: FrozenClock
) -> None:
    suspensions.apply(session, clock, LA, GOOD, "vsh")
    assert suspensions.apply(session, clock, LA, GOOD, "vsh").summary() == "0 added, 0 replaced, 3 unchanged"
    corrected = HEADER + f"{UPN_1},,suspension,100001,2026-10-05,3,DM\n"
    assert suspensions.apply(session, clock, LA, corrected, "vsh").summary() == "0 added, 1 replaced, 0 unchanged"
    assert rows(session)[0] == ("C-1", "suspension", "100001", "2026-10-05", 3.0, "DM")
    assert len(exclusions(session)) == 1


@pytest.mark.parametrize(("row", "column", "reason"), [
    (f"{UPN_1},,holiday,100001,2026-10-05,2,PD", "kind", "suspension or permanent exclusion"),
    (f"{UPN_1},,suspension,100001,2026-10-05,0,PD", "days", "from 0.5 to 45 in halves"),
    (f"{UPN_1},,suspension,100001,2026-10-05,46,PD", "days", "from 0.5 to 45"),
    (f"{UPN_1},,suspension,100001,2026-10-05,1.25,PD", "days", "in halves"),
    (f"{UPN_1},,suspension,100001,2026-10-05,,PD", "days", "from 0.5"),
    (f"{UPN_1},,permanent_exclusion,100001,2026-10-05,3,PD", "days", "has no days"),
    (f"{UPN_1},,suspension,100001,2026-10-05,2,ZZ", "reason", "reason category"),
    (f"{UPN_1},,suspension,1001,2026-10-05,2,PD", "school_urn", "6 digits"),
    (f"{UPN_1},,suspension,100009,2026-10-05,2,PD", "school_urn", "No school with URN 100009"),
    (f"{UPN_1},,suspension,100001,2026-12-25,2,PD", "start_date", "in the future"),
    (f"{UPN_1},,suspension,100001,2023-01-05,2,PD", "start_date", "more than 3 years ago"),
    (f"{UPN_1},,suspension,100001,5 Oct 2026,2,PD", "start_date", "YYYY-MM-DD or DD/MM/YYYY"),
    (",C-9,suspension,100001,2026-10-05,2,PD", "child_ref", "No child of this authority"),
])
def test_each_rule_refuses_its_row_with_the_line_number_and_column(
    session: Session, clock: FrozenClock, row: str, column: str, reason: str
) -> None:
    [(line, found_column, found_reason)] = errors(HEADER + f",C-2,suspension,100001,2026-10-05,1,PD\n{row}\n",
                                                  session, clock)
    assert (line, found_column) == (3, column)
    assert reason in found_reason


def test_more_than_45_days_at_a_school_in_a_year_is_refused_naming_the_limit(session: Session, clock: FrozenClock) -> None:
    suspensions.record(session, clock, "C-1", "dt", kind="suspension", school_urn="100001",
                       starts_on=date(2026, 9, 10), days=40.0, reason="PD")
    text = HEADER + (f"{UPN_1},,suspension,100001,2026-10-05,3,PD\n"  # 43
                     f"{UPN_1},,suspension,100002,2026-10-06,5,PD\n"  # another school: its own 45
                     f"{UPN_1},,suspension,100001,2026-11-05,2.5,PD\n"  # 45.5
                     f"{UPN_1},,suspension,100001,2026-06-05,5,PD\n")  # last year
    assert errors(text, session, clock) == [(4, "days", "A pupil may be suspended for at most 45 school days in an "
                                                        "academic year: with 43 already recorded at school 100001 "
                                                        "in 2026/27, 2.5 more would make 45.5")]
    with pytest.raises(InvalidData) as refused:
        suspensions.record(session, clock, "C-1", "dt", kind="suspension", school_urn="100001",
                           starts_on=date(2026, 11, 5), days=5.5, reason="PD")
    assert "at most 45 school days" in refused.value.errors["days"][0]


def test_a_file_with_any_error_changes_nothing(session: Session, clock: FrozenClock) -> None:
    with pytest.raises(InvalidData):
        suspensions.apply(session, clock, LA, GOOD + ",C-404,suspension,100001,2026-10-05,1,PD\n", "vsh")
    assert rows(session) == [] and exclusions(session) == []


def test_a_row_twice_and_two_dates_of_one_permanent_exclusion_are_errors(session: Session, clock: FrozenClock) -> None:
    text = HEADER + (",C-2,suspension,100001,2026-10-05,1,PD\n,C-2,suspension,100001,05/10/2026,2,PD\n"
                     ",C-2,permanent_exclusion,100002,2026-10-05,,PD\n,C-2,permanent_exclusion,100002,2026-10-09,,PD\n")
    assert errors(text, session, clock) == [
        (3, "start_date", "The same child, school, start date and kind is on line 2 too"),
        (5, "start_date", "The child is already recorded as permanently excluded from school 100002 on 05/10/2026"),
    ]


def test_a_permanent_exclusion_on_the_record_writes_the_exclusion_the_direction_rule_reads(
    session: Session, clock: FrozenClock
) -> None:
    suspensions.record(session, clock, "C-1", "dt", kind="permanent_exclusion", school_urn="100002",
                       starts_on=date(2026, 11, 3), days=None, reason="PA")
    assert exclusions(session) == [("C-1", "100002", date(2026, 11, 3))]
    assert rows(session) == [("C-1", "permanent_exclusion", "100002", "2026-11-03", 0.0, "PA")]
    with pytest.raises(InvalidData, match="not valid") as refused:
        suspensions.record(session, clock, "C-1", "dt", kind="permanent_exclusion", school_urn="100002",
                           starts_on=date(2026, 11, 4), days=None, reason="PA")
    assert "already recorded as permanently excluded" in refused.value.errors["starts_on"][0]
    again = HEADER + f"{UPN_1},,permanent_exclusion,100002,2026-11-03,,PA\n"
    assert suspensions.apply(session, clock, LA, again, "vsh").summary() == "0 added, 0 replaced, 1 unchanged"


def test_a_suspension_is_recorded_once_and_listed_this_year_with_its_days(session: Session, clock: FrozenClock) -> None:
    for day, days in ((date(2026, 6, 1), 4.0), (date(2026, 9, 14), 1.5), (date(2026, 11, 2), 2.0)):
        suspensions.record(session, clock, "C-1", "dt", kind="suspension", school_urn="100001", starts_on=day,
                           days=days, reason="PD")
    with pytest.raises(InvalidData, match="not valid"):
        suspensions.record(session, clock, "C-1", "dt", kind="suspension", school_urn="100001",
                           starts_on=date(2026, 11, 2), days=1.0, reason="PD")
    child_id = ChildService(session, clock).get("C-1").id
    this_year = suspensions.for_child(session, child_id, clock.now().date())
    assert [s.starts_on for s in this_year.rows] == [date(2026, 11, 2), date(2026, 9, 14)]
    assert this_year.days == 3.5
    [audit, *_] = session.scalars(select(AuditEvent).where(AuditEvent.action == "suspension.recorded"))
    assert audit.business_key == "C-1" and audit.actor == "dt"
