"""The casework hooks over a process that is not about a child (a council's own generic process)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.records import UnrecordedKey
from engine.clock import FrozenClock
from engine.service import WorkflowService

from .world import World

REVIEW = Path(__file__).resolve().parent.parent / "engine" / "bpmn" / "review.bpmn"


def test_work_opened_for_a_key_with_no_child_record_is_noted_and_reached_by_the_la_wide_roles_by_role(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    with world.session() as session:
        service = WorkflowService(session, clock, world.runtime)
        service.deploy_file(REVIEW)
        service.start("review", "GENERIC-1", {"started_at": clock.now().isoformat()}, world.actors["manager"])
    with world.session() as session:
        assert session.scalars(select(UnrecordedKey.business_key)).all() == ["GENERIC-1"]
        access = world.runtime.access
        assert access.may_see(session, world.actors["manager"], "GENERIC-1")
        assert access.may_see(session, world.actors["vsh"], "GENERIC-1")
        assert not access.may_see(session, world.actors["sw"], "GENERIC-1")
        assert not access.may_see(session, world.actors["manager"], "GENERIC-2")  # nothing opened for it
