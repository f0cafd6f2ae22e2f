"""The web app wired the way production runs it (shipped processes, case access policy, domain hooks)
over a small authority (tests/casework/world.py), with children, staff and an administrator."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from tests.casework.records_support import LA, PASSWORD, add_child, add_user
from tests.casework.world import World
from tests.hashing import FAST_HASHER
from web import create_app

__all__ = ["LA", "PASSWORD", "build_world", "build_app"]


def build_world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    """Schools 100001-100005 with their designated teachers ``dt<urn>``; staff ``sw``, ``other_sw``,
    ``vsh``, ``manager``, ``admin`` and ``sw_dt`` (a social worker who is also the designated teacher at
    100001); and three children:

    * C-1 Ethan Walsh: ``sw``'s, at Riverside Primary (100001), in foster care, with an initial PEP
      (and its ``pep_review`` process) opened when he was recorded.
    * C-2 Amy Khan: ``other_sw``'s, at St Anne's VA High (100002).
    * C-3 Leo Brown: ``sw``'s, at St Anne's VA High (100002).
    """
    world = World(factory, clock)
    with world.session() as session:
        add_user(session, clock, "admin", ["admin"])
        add_user(session, clock, "sw_dt", ["social_worker", "designated_teacher"], school_urn="100001")
    with world.casework() as casework:
        casework.add_child(ref="C-1", first_name="Ethan", last_name="Walsh", date_of_birth="2016-03-14",
                           legal_status="C2", looked_after_since="2026-11-20", la_code=LA, social_worker="sw",
                           school_urn="100001", upn="P207000016049")
        casework.children.record_placement(
            "C-1", placement_type="kinship_care", carer_name="Aunt May", starts_on="2026-11-20",
            distance="in_area")
        casework.children.record_placement(
            "C-1", placement_type="foster_care", carer_name="Mr and Mrs Ahmed", starts_on="2026-11-27",
            distance="out_of_area_adjoining", area_authority="Leeds")
    with world.session() as session:
        add_child(session, clock, ref="C-2", first_name="Amy", last_name="Khan", date_of_birth="2012-05-02",
                  school_urn="100002", social_worker="other_sw")
        add_child(session, clock, ref="C-3", first_name="Leo", last_name="Brown", date_of_birth="2011-01-09",
                  school_urn="100002", social_worker="sw")
    return world


def build_app(db_url: str, clock: FrozenClock, world: World) -> Flask:
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": db_url,
        "VSW_CLOCK": clock,
        "VSW_RUNTIME": world.runtime,
        "VSW_PASSWORD_HASHER": FAST_HASHER,
    })

