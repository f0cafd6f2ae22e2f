"""The schools register from the GIAS establishment download: mapping, closed schools, idempotence, errors."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework import gias
from casework.csv_import import TooLarge
from casework.records import School
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import InvalidData
from engine.models import AuditEvent
from tests.casework.gias_file import establishment, gias_csv, national
from tests.casework.records_support import add_child, add_school, add_user

FILE = [
    establishment("100001", "Riverside Primary School"),
    establishment("100002", "St Anne's CE Voluntary Aided High School", "Voluntary aided school", phase="Secondary"),
    establishment("100003", "Hillcrest Academy", "Academy converter", group="Academies", phase="Secondary"),
    establishment("100004", "Oakfield Special School", "Community special school", phase="Not applicable"),
    establishment("100005", "Sampleton Children's Centre", "Children's centre", la_code=""),
]


def run(factory: sessionmaker[Session], clock: FrozenClock, text: str) -> gias.GiasPreview:
    with unit_of_work(factory) as session:
        return gias.apply(session, clock, gias.read(text), "alex.admin", "edubase.csv")


def schools(factory: sessionmaker[Session]) -> dict[str, School]:
    with factory() as session:
        return {school.urn: school for school in session.scalars(select(School))}


def test_establishment_types_become_school_types_and_admission_authorities(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    result = run(factory, clock, gias_csv(FILE))
    assert result.counts() == {"rows": 5, "added": 4, "changed": 0, "unchanged": 0, "passed_over": 1,
                               "closed_left_out": 0}
    found = schools(factory)
    assert {urn: (s.school_type, s.la_is_admission_authority) for urn, s in found.items()} == {
        "100001": ("maintained", True), "100002": ("maintained", False), "100003": ("academy", False),
        "100004": ("la_special", True)}
    first = found["100001"]
    assert (first.name, first.la_code, first.la_name, first.phase, first.status, first.establishment_type,
            first.statutory_low_age, first.statutory_high_age, first.postcode) == (
        "Riverside Primary School", "935", "Sampleshire", "primary", "open", "Community school", 4, 11, "SA1 1AA")
    assert found["100004"].phase is None


def test_the_same_file_twice_changes_nothing_and_a_changed_row_is_updated_in_place(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    run(factory, clock, gias_csv(FILE))
    again = run(factory, clock, gias_csv(FILE))
    assert (len(again.add), len(again.change), again.unchanged) == (0, 0, 4)
    renamed = [*FILE[:2], establishment("100003", "Hillcrest Academy", "Academy sponsor led", group="Academies",
                                        phase="Secondary", postcode="SA9 9ZZ"), *FILE[3:]]
    third = run(factory, clock, gias_csv(renamed))
    assert ([row["urn"] for row in third.change], len(third.add), third.unchanged) == (["100003"], 0, 3)
    assert (schools(factory)["100003"].establishment_type, schools(factory)["100003"].postcode) == (
        "Academy sponsor led", "SA9 9ZZ")


def test_a_closed_establishment_is_kept_only_where_a_record_names_it(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_school(session, clock, "100010", name="Old Name Primary")
        add_child(session, clock, school_urn="100010")
    closed = [establishment("100010", "Riverside Infant School", status="Closed"),
              establishment("100011", "Long Gone Junior School", status="Closed"), FILE[0]]
    result = run(factory, clock, gias_csv(closed))
    assert (result.closed_left_out, [row["urn"] for row in result.change], len(result.add)) == (1, ["100010"], 1)
    found = schools(factory)
    assert "100011" not in found
    assert (found["100010"].status, found["100010"].name) == ("closed", "Riverside Infant School")


def test_a_closed_school_only_a_designated_teacher_names_is_added_to_the_register(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_user(session, clock, "dt", ["designated_teacher"], school_urn="100020")
    result = run(factory, clock, gias_csv([establishment("100020", "Closed Named School", status="Closed")]))
    assert ([row["urn"] for row in result.add], result.closed_left_out) == (["100020"], 0)
    assert schools(factory)["100020"].status == "closed"


def test_a_bad_file_is_refused_naming_each_line_and_changes_nothing(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    bad = [FILE[0], establishment("12345", "Short URN"), establishment("100001", "Twice"),
           establishment("100030", "No LA", la_code="9X"), establishment("100031", "Odd status", status="Shut"),
           establishment("100032", "Ages", low="11", high="4"), establishment("100033", "", low="x")]
    with pytest.raises(InvalidData) as refused:
        run(factory, clock, gias_csv(bad))
    assert "7 errors" in refused.value.message
    with factory() as session:
        result = gias.preview(session, gias.read(gias_csv(bad)))
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "URN"), (4, "URN"), (5, "LA (code)"), (6, "EstablishmentStatus (name)"), (7, "StatutoryHighAge"),
        (8, "EstablishmentName"), (8, "StatutoryLowAge")]
    assert "also on line 2" in result.errors[1].reason
    assert schools(factory) == {}


def test_a_file_with_only_its_first_line_is_refused(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        result = gias.preview(session, gias.read(gias_csv([])))
    assert [(e.line, e.reason) for e in result.errors] == [(2, "The file has no establishments under its first line")]


def test_a_file_without_the_gias_columns_is_refused_naming_them() -> None:
    with pytest.raises(InvalidData) as refused:
        gias.read("URN,Name\n100001,Somewhere\n")
    assert refused.value.errors["file"] == [
        "The column LA (code) is missing from the first line", "The column EstablishmentName is missing from the "
        "first line", "The column TypeOfEstablishment (name) is missing from the first line",
        "The column EstablishmentStatus (name) is missing from the first line"]


def test_windows_1252_and_utf8_with_a_bom_read_the_same_names() -> None:
    text = gias_csv([establishment("100001", "Ysgol Gymraeg Caerdydd \u2013 St Mary\u2019s")])
    for data in (text.encode("cp1252"), text.encode("utf-8-sig"), text.encode("utf-8")):
        (row,) = gias.read(gias.decode(data))
        assert row.name == "Ysgol Gymraeg Caerdydd \u2013 St Mary\u2019s"
    with pytest.raises(InvalidData):
        gias.decode(b"URN\x81\x8d\n")
    with pytest.raises(TooLarge):
        gias.decode(b" " * (gias.MAX_BYTES + 1))


def test_the_kept_columns_survive_packing_for_the_confirmation() -> None:
    rows = list(gias.read(gias_csv(FILE)))
    assert gias.unpack(gias.pack(rows)) == rows


def test_the_national_file_of_50000_establishments_imports_in_full_and_again_changes_nothing(
        factory: sessionmaker[Session], clock: FrozenClock) -> None:
    text = gias_csv(national(50_000))
    started = time.perf_counter()
    first = run(factory, clock, text)
    took = time.perf_counter() - started
    print(f"national file: {len(text) / 2**20:.1f} MB, first import {took:.1f} s")
    closed = sum(1 for n in range(50_000) if n % 8 == 7)
    assert first.ok and first.rows == 50_000
    assert len(first.add) + first.closed_left_out + sum(first.passed_over.values()) == 50_000
    assert first.closed_left_out > 0 and first.closed_left_out < closed
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(School)) == len(first.add)
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "schools.imported")).one()
        assert (audit.data or {})["added"] == len(first.add)
    again = run(factory, clock, text)
    assert (len(again.add), len(again.change), again.unchanged) == (0, 0, len(first.add))
