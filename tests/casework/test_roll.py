"""The roll's filters, search, sort, paging and who sees what, against the hand-built cohort
(tests/casework/roll_cohort.py), whose right answers are known."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import ColumnElement, event
from sqlalchemy.orm import Session, sessionmaker

from casework.roll import Filters, TooManyRows, cohort_visible, roll_count, roll_page, roll_rows
from engine.clock import FrozenClock
from engine.errors import InvalidData
from tests.casework.world import World

from .roll_cohort import ROLL, build_cohort

TODAY = date(2026, 12, 1)


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_cohort(world)
    return world


def visible(session: Session, who: str) -> ColumnElement[bool] | None:
    roles = {"sw": "social_worker", "other_sw": "social_worker", "vsh": "vsh", "manager": "manager",
             "admissions": "admissions_officer"}.get(who, "designated_teacher")
    return cohort_visible(session, who, frozenset({roles}))


def refs(world: World, who: str = "vsh", size: int = 25, page: int = 1, **args: Any) -> list[str]:
    filters = Filters.parse({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    with world.session() as session:
        return [r.ref for r in roll_page(session, visible(session, who), filters, TODAY, page, size)]


FILTERS_ALONE: list[tuple[dict[str, Any], list[str]]] = [
    ({"key_stage": "eyfs"}, ["C-D"]), ({"key_stage": "ks2"}, ["C-A"]), ({"key_stage": "ks3"}, ["C-E"]),
    ({"key_stage": "ks4"}, ["C-B"]), ({"key_stage": "ks5"}, ["C-C"]), ({"key_stage": ["ks2", "ks4"]}, ["C-A", "C-B"]),
    ({"year_group": "10"}, ["C-B"]), ({"year_group": "0"}, ["C-D"]), ({"year_group": "9"}, ["C-E"]), ({"year_group": "8"}, []),
    ({"school": "100001"}, ["C-A"]), ({"school_type": "academy"}, ["C-B"]),
    ({"school_type": "maintained"}, ["C-A", "C-E"]), ({"no_school": "yes"}, ["C-C"]),
    ({"area": "in"}, ["C-A"]), ({"area": "out"}, ["C-B", "C-C"]), ({"placement_type": "childrens_home"}, ["C-B"]),
    ({"placement_type": "kinship_care"}, []), ({"legal_status": "V2"}, ["C-C"]), ({"sen": "ehc_plan"}, ["C-B"]),
    ({"sen": "none"}, ["C-A", "C-D", "C-E"]), ({"social_worker": "other_sw"}, ["C-B", "C-E"]),
    ({"team": "North"}, ["C-A", "C-C", "C-D"]), ({"pep_status": "complete"}, ["C-A"]),
    ({"pep_status": "in_progress"}, ["C-B"]), ({"pep_status": "not_started"}, ["C-D"]),
    ({"pep_status": "none"}, ["C-C", "C-E"]), ({"rag": "red"}, ["C-B"]), ({"rag": "green"}, ["C-A"]),
    ({"attendance": "ok"}, ["C-A"]), ({"attendance": "persistent"}, ["C-B", "C-C"]),
    ({"attendance": "severe"}, ["C-C"]), ({"attendance": "no_data"}, ["C-D", "C-E"]),
    ({"suspended": "yes"}, ["C-B"]), ({"left_care": "only"}, ["C-E"]),
    ({"left_care": "include"}, ["C-A", "C-B", "C-C", "C-D", "C-E", "C-F"]),
    ({"q": "archer"}, ["C-A"]), ({"q": "Ben Baker"}, ["C-B"]), ({"q": "P207000016049"}, ["C-C"]),
    ({"q": "c-d"}, ["C-D"]), ({"q": "100%_"}, []),
]


def test_the_default_roll_is_the_looked_after_children_under_18_and_those_who_left_care_this_year(
        world: World) -> None:
    assert refs(world) == ROLL
    with world.session() as session:
        rows = {r.ref: r for r in roll_page(session, visible(session, "vsh"), Filters(), TODAY)}
    assert rows["C-E"].left_care_on == date(2026, 10, 1) and rows["C-A"].left_care_on is None
    a, b = rows["C-A"], rows["C-B"]
    assert (a.year_group, a.key_stage, a.age, a.school_name, a.area, a.placement_type) == (
        3, "ks2", 8, "Riverside Primary", "in", "foster_care")
    assert (a.social_worker_name, a.team, a.pep_status, a.rag, a.attendance_percent, a.attendance_band) == (
        "Sw", "North", "complete", "green", 95.0, "ok")
    # B: the current placement, the latest PEP (in progress) and the latest rating (red, of the older PEP)
    assert (b.area, b.placement_type, b.pep_status, b.rag, b.attendance_band, b.suspended_days) == (
        "out", "childrens_home", "in_progress", "red", "persistent", 2.0)
    assert rows["C-C"].attendance_band == "severe" and rows["C-D"].attendance_band == "no_data"


def test_each_filter_alone_gives_exactly_the_right_children(world: World) -> None:
    wrong = [(args, expected, got) for args, expected in FILTERS_ALONE if (got := refs(world, **args)) != expected]
    assert wrong == []


def test_two_filters_combine_and_the_values_of_one_are_alternatives(world: World) -> None:
    assert refs(world, area="out", sen="ehc_plan") == ["C-B"]
    assert refs(world, key_stage=["ks2", "ks5"], attendance="severe") == ["C-C"]
    assert refs(world, team="North", pep_status=["none", "not_started"]) == ["C-C", "C-D"]
    assert refs(world, school_type="maintained", left_care="only") == ["C-E"]


def test_an_unknown_value_is_refused_naming_its_parameter(world: World) -> None:
    for name, value in (("key_stage", "ks9"), ("year_group", "14"), ("rag", "blue"), ("sort", "age"),
                        ("order", "up"), ("attendance", "bad"), ("left_care", "all")):
        with pytest.raises(InvalidData) as refused:
            Filters.parse({name: [value]})
        assert list(refused.value.errors) == [name], name
    with pytest.raises(InvalidData) as refused:
        Filters.parse({"q": ["x" * 101]})
    assert list(refused.value.errors) == ["q"]
    with pytest.raises(InvalidData):
        Filters.parse({"sort": ["name", "ref"]})
    assert Filters.parse({"page": ["2"], "key_stage": ["", "ks1", "ks1"]}) == Filters(key_stage=("ks1",))


def test_the_roll_sorts_by_the_chosen_column_then_reference_either_way(world: World) -> None:
    assert refs(world, sort="name", order="desc") == list(reversed(ROLL))
    assert refs(world, sort="ref", order="desc") == list(reversed(ROLL))
    assert refs(world, sort="year_group") == ["C-D", "C-A", "C-E", "C-B", "C-C"]
    assert refs(world, sort="year_group", order="desc") == ["C-C", "C-B", "C-E", "C-A", "C-D"]
    # those without a school, attendance or PEP come last whichever the order
    assert refs(world, sort="school") == ["C-B", "C-D", "C-A", "C-E", "C-C"]
    assert refs(world, sort="school", order="desc") == ["C-E", "C-A", "C-D", "C-B", "C-C"]
    assert refs(world, sort="attendance") == ["C-C", "C-B", "C-A", "C-D", "C-E"]
    assert refs(world, sort="attendance", order="desc") == ["C-A", "C-B", "C-C", "C-D", "C-E"]
    assert refs(world, sort="next_pep") == ["C-A", "C-B", "C-D", "C-C", "C-E"]


def test_the_roll_is_paged_in_the_database(world: World) -> None:
    assert refs(world, size=2) == ["C-A", "C-B"]
    assert refs(world, size=2, page=2) == ["C-C", "C-D"]
    assert refs(world, size=2, page=3) == ["C-E"]
    with world.session() as session:
        page = roll_page(session, visible(session, "vsh"), Filters(), TODAY, 3, 2)
    assert (page.has_previous, page.has_next) == (True, False)


def test_a_page_takes_one_query_whatever_its_size(world: World) -> None:
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    counts = []
    for size in (1, 5):
        with world.session() as session:
            where = visible(session, "vsh")
            before = len(statements)
            event.listen(session.get_bind(), "before_cursor_execute", note)
            try:
                roll_page(session, where, Filters(sort="attendance", area=("out",)), TODAY, 1, size)
            finally:
                event.remove(session.get_bind(), "before_cursor_execute", note)
            counts.append(len(statements) - before)
    assert counts == [1, 1]


def test_each_reader_sees_only_the_children_whose_education_they_may_read(world: World) -> None:
    assert refs(world, "manager") == ROLL
    assert refs(world, "dt100002") == ["C-E"]  # a designated teacher: her school's children
    assert refs(world, "dt100002", left_care="include") == ["C-E", "C-F"]
    assert refs(world, "sw") == ["C-A", "C-C", "C-D"]  # a social worker: his caseload (C-G is 18)
    assert refs(world, "other_sw") == ["C-B", "C-E"]
    with world.session() as session:
        assert visible(session, "admissions") is None  # reads no child's education
        assert roll_page(session, None, Filters(), TODAY).items == []
        assert cohort_visible(session, "nobody", frozenset({"vsh"})) is None


def test_a_row_hidden_by_access_never_takes_a_place_on_a_page(world: World) -> None:
    # other_sw's children B and E sort between sw's by name; sw's pages of two hold only his own
    assert refs(world, "sw", size=2) == ["C-A", "C-C"]
    assert refs(world, "sw", size=2, page=2) == ["C-D"]
    with world.session() as session:
        page = roll_page(session, visible(session, "sw"), Filters(), TODAY, 1, 2)
        assert page.has_next
        assert roll_count(session, visible(session, "sw"), Filters(), TODAY) == 3


def test_an_export_reads_every_row_and_refuses_more_than_its_limit(world: World) -> None:
    with world.session() as session:
        where = visible(session, "vsh")
        total, rows = roll_rows(session, where, Filters(area=("out",)), TODAY, batch=1)
        assert (total, [r.ref for r in rows]) == (2, ["C-B", "C-C"])
        with pytest.raises(TooManyRows) as refused:
            roll_rows(session, where, Filters(), TODAY, limit=4)
        assert refused.value.status == 413 and "5 children" in refused.value.message
