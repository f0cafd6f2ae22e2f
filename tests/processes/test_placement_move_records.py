"""The placement move's notices reach the records (the domain's glue, casework/processes/placement_move.py):
the approved placement keeps when the area authority, the school and the IRO were told (reg. 13), and a
late school and IRO notice is an escalation a manager sees until the notice is given. Real records, the
shipped process and the domain hooks, the clock moved."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.children import ChildService
from casework.escalations import Escalation
from engine.clock import FrozenClock
from tests.casework.world import World, moment
from tests.processes.test_placement_move_scenarios import (
    ADJOINING_CARE,
    CARE,
    OFFICER_APPROVES,
    PROPOSAL,
    STAY,
    VIEWS,
    area_notice,
    school_and_iro,
)


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return World(factory, clock)


def arranged(world: World, care: dict[str, Any]) -> None:
    """C-1's move proposed, arranged (staying at school) and given the VSH's views."""
    world.child("C-1", born="2015-03-14")
    with world.casework() as casework:
        casework.start_move("C-1", world.actors["sw"])
    world.complete("C-1", "propose_move", PROPOSAL, "sw")
    world.complete("C-1", "confirm_care_placement", care, "sw")
    world.complete("C-1", "discuss_school_choice", STAY, "sw")
    world.complete("C-1", "record_vsh_views", VIEWS, "vsh")


def test_an_approved_adjoining_placement_records_when_the_area_authority_the_school_and_the_iro_were_told(
    world: World,
) -> None:
    arranged(world, ADJOINING_CARE)
    assert world.open_tasks("C-1", "placement_move") == [("approve_out_of_area_placement", "nominated_officer")]
    world.complete("C-1", "approve_out_of_area_placement", OFFICER_APPROVES, "no")
    world.at(moment("2026-12-02T10:00"))
    world.complete("C-1", "notify_area_authority", area_notice("2026-12-02"), "sw")
    world.complete("C-1", "notify_school_and_iro", dict(school_and_iro("2026-12-01"), iro_notified_on="2026-12-02"),
                   "sw")
    world.complete("C-1", "sign_off_move", {"decision": "approve"}, "manager")
    with world.session() as session:
        placement = ChildService(session, world.clock).latest_placement("C-1")
        assert placement is not None and placement.area_authority == "Leeds City Council"
        assert (placement.area_notified_on, placement.school_notified_on, placement.iro_notified_on) == (
            date(2026, 12, 2), date(2026, 12, 1), date(2026, 12, 2))


def test_an_in_area_placement_records_no_area_notice_and_no_school_date_when_the_child_has_none(
    world: World,
) -> None:
    arranged(world, CARE)
    no_school = dict(school_and_iro(), school_notice_method="no_provider", school_notified_to="",
                     school_notified_on=None)
    world.complete("C-1", "notify_school_and_iro", no_school, "sw")
    world.complete("C-1", "sign_off_move", {"decision": "approve"}, "manager")
    with world.session() as session:
        placement = ChildService(session, world.clock).latest_placement("C-1")
        assert placement is not None
        assert (placement.area_notified_on, placement.school_notified_on, placement.iro_notified_on) == (
            None, None, date(2026, 12, 1))


def test_a_late_school_and_iro_notice_is_an_escalation_until_the_notice_is_given(world: World) -> None:
    arranged(world, CARE)
    world.at(moment("2027-01-04T23:59"))
    assert world.escalations("C-1") == []
    world.at(moment("2027-01-05T00:00"))  # the placement started on Monday 4 January
    assert [kind for kind, _ in world.escalations("C-1")] == ["school_iro_not_notified"]
    with world.session() as session:
        [escalation] = session.scalars(select(Escalation).where(Escalation.child_ref == "C-1"))
        assert escalation.label == "School and IRO not notified of the placement"
        assert escalation.owner_role == "manager" and "reg. 13(2)" in escalation.reason
        assert escalation.since == moment("2027-01-05T00:00")
    assert ("school_iro_notice_overdue", "manager") in world.open_tasks("C-1", "placement_move")
    world.complete("C-1", "notify_school_and_iro", school_and_iro("2027-01-05"), "sw")
    assert world.escalations("C-1") == []
    assert [kind for kind, _ in world.escalations("C-1", state="resolved")] == ["school_iro_not_notified"]
