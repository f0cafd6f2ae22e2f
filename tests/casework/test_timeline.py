"""casework/timeline.py: a child's timeline, newest first, paged in SQL, each entry only for its readers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.escalations import Escalations
from casework.need_to_know import ESCALATION_READ_AS, READERS, NeedToKnow
from casework.processes import RULES
from casework.records import Child
from casework.timeline import ESCALATION, PEP, PLACEMENT, PROCESS, SCHOOL, Event, timeline
from engine.clock import FrozenClock
from engine.paging import Page
from engine.service import WorkflowService
from tests.casework.records_support import LA
from tests.casework.world import World
from tests.web import case_fixtures

world = case_fixtures.world
NO_SCHOOL_PLACE = ("placement_move", "escalate_no_school_place")


def at(world: World, text: str) -> None:
    """Move the clock without firing timers (the PEP's own timer would raise an escalation)."""
    assert isinstance(world.clock, FrozenClock)
    world.clock.set(datetime.fromisoformat(text).replace(tzinfo=UTC))


@pytest.fixture
def lived(world: World) -> World:
    """Ethan (C-1): two placements (20 and 27 November), his initial PEP and its review (1 December, 9am),
    then a placement move (2 December), a change of school (3 December), an admission direction
    (4 December) and an escalation of the move (5 December)."""
    at(world, "2026-12-02T10:00")
    with world.casework() as casework:
        move = casework.start_move("C-1", world.actors["sw"]).id
    at(world, "2026-12-03T10:00")
    with world.casework() as casework:
        casework.children.change_school("C-1", "100003", "admissions")
    at(world, "2026-12-04T10:00")
    with world.casework() as casework:
        casework.start_direction("C-1", "100003", world.actors["manager"])
    at(world, "2026-12-05T10:00")
    with world.session() as session:
        Escalations(session).raise_for(
            rule=RULES[NO_SCHOOL_PLACE], child_ref="C-1", la_code=LA, since=world.clock.now(),
            raised_at=world.clock.now(), process_id="placement_move", instance_id=move, task_id=None, detail={})
    return world


@pytest.fixture
def session(lived: World) -> Iterator[Session]:
    with lived.session() as session:
        yield session


def read_as(session: Session, lived: World, username: str, page: int = 1, size: int = 25) -> Page[Event]:
    actor = lived.actors[username]
    child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
    reader = NeedToKnow(session, lived.runtime.access.scope(session, actor)).reader("C-1")
    return timeline(session, reader, child, page, size)


def shown(page: Page[Event]) -> list[tuple[str, str]]:
    return [(e.kind, e.subject) for e in page.items]


def escalation_for(role: str) -> list[tuple[str, str]]:
    kind = RULES[NO_SCHOOL_PLACE].kind
    return [(ESCALATION, RULES[NO_SCHOOL_PLACE].label)] if role in READERS[ESCALATION_READ_AS[kind]] else []


def test_the_social_worker_sees_everything_newest_first_with_the_pep_standing_for_its_review(
    session: Session, lived: World
) -> None:
    page = read_as(session, lived, "sw")
    assert shown(page) == [
        *escalation_for("social_worker"),
        (PROCESS, "School admission by direction"),
        (SCHOOL, ""),
        (PROCESS, "Care placement move"),
        (PEP, "initial"),
        (PLACEMENT, "foster_care"),
        (PLACEMENT, "kinship_care"),
    ]
    school = next(e for e in page.items if e.kind == SCHOOL)
    assert school.facts == {"from": "Riverside Primary (URN 100001)", "to": "Hillcrest Academy (URN 100003)"}
    pep = next(e for e in page.items if e.kind == PEP)
    assert pep.pep_id is not None and pep.instance_id is not None and pep.state == "not_started"
    assert [e.state for e in page.items if e.kind == PROCESS] == ["running", "running"]
    assert not page.has_next


def test_the_timeline_is_cut_into_pages_in_the_database_in_the_same_order(session: Session, lived: World) -> None:
    everything = shown(read_as(session, lived, "sw"))
    pages = [read_as(session, lived, "sw", number, 3) for number in (1, 2, 3)]
    assert [p.has_next for p in pages] == [True, True, False]
    assert [item for p in pages for item in shown(p)] == everything
    assert read_as(session, lived, "sw", 4, 3).items == []


def test_an_admissions_officer_sees_the_school_side_only_no_placement_and_no_pep(
    session: Session, lived: World
) -> None:
    assert shown(read_as(session, lived, "admissions")) == [
        *escalation_for("admissions_officer"),
        (PROCESS, "School admission by direction"),
        (SCHOOL, ""),
        (PROCESS, "Care placement move"),
    ]


def test_a_director_who_reads_no_pep_sees_the_review_as_a_process_and_the_placements(
    session: Session, lived: World
) -> None:
    kinds = shown(read_as(session, lived, "dcs"))
    assert (PROCESS, "Personal Education Plan review") in kinds and (PEP, "initial") not in kinds
    assert [k for k in kinds if k[0] == PLACEMENT] == [(PLACEMENT, "foster_care"), (PLACEMENT, "kinship_care")]


def test_a_social_worker_not_on_the_case_sees_nothing(session: Session, lived: World) -> None:
    page = read_as(session, lived, "other_sw")
    assert page.items == [] and not page.has_next


def test_a_cancelled_process_and_the_pep_of_a_cancelled_review_say_why_they_were_cancelled(lived: World) -> None:
    with lived.session() as session:
        pep = next(e for e in read_as(session, lived, "sw").items if e.kind == PEP)
        move = next(e for e in read_as(session, lived, "sw").items if e.subject == "Care placement move")
        service = WorkflowService(session, lived.clock, lived.runtime)
        assert pep.instance_id is not None and move.instance_id is not None
        service.cancel(pep.instance_id, lived.actors["manager"], "Opened twice by mistake")
        service.cancel(move.instance_id, lived.actors["manager"], "The carers withdrew")
    with lived.session() as session:
        page = read_as(session, lived, "sw")
    cancelled = {(e.kind, e.subject): (e.state, e.facts.get("cancelled_reason")) for e in page.items
                 if e.kind in (PEP, PROCESS)}
    assert cancelled[PEP, "initial"] == ("cancelled", "Opened twice by mistake")
    assert cancelled[PROCESS, "Care placement move"] == ("cancelled", "The carers withdrew")
    assert cancelled[PROCESS, "School admission by direction"] == ("running", None)
