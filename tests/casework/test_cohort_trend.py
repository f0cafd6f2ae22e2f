"""The trend's one-pass figures are, term by term, the figures of that term computed on its own."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.cohort import cohort_condition
from casework.cohort_figures import Figures, grouped
from casework.cohort_period import parse_period, trend_terms
from casework.cohort_sql import TREND_SUMMED
from casework.cohort_trend import trend_totals
from casework.demo_cohort import Cohort, load_demo_cohort
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Actor
from tests.casework.cohort_world import build_cohort
from tests.casework.world import World
from tests.hashing import FAST_HASHER

TODAY = date(2026, 12, 1)


def trend_columns(figures: Figures) -> dict[str, Any]:
    return {name: value for name, value in asdict(figures).items() if name in TREND_SUMMED}


def each_term_alone_and_the_trend(session: Session, who: str, roles: set[str]) -> tuple[list[Any], list[Any]]:
    viewer = cohort_condition(session, Actor(who, frozenset(roles)))
    assert viewer is not None
    terms = trend_terms(session, "935", parse_period(session, "935", None, TODAY), TODAY)
    alone = [trend_columns(grouped(session, viewer.children, term, TODAY)[0]) for term in terms]
    together = [trend_columns(f) for f in trend_totals(session, viewer.children, terms, TODAY)]
    return alone, together


@pytest.mark.parametrize(("who", "roles"), [("vsh", {"vsh"}), ("sw", {"social_worker"}), ("dt100001", {"designated_teacher"})])
def test_each_term_of_the_hand_built_cohorts_trend_is_that_term_on_its_own(
    factory: sessionmaker[Session], clock: FrozenClock, who: str, roles: set[str]
) -> None:
    world = World(factory, clock)
    with world.session() as session:
        build_cohort(session, clock)
    with factory() as session:
        alone, together = each_term_alone_and_the_trend(session, who, roles)
    assert len(alone) == 4 and any(term["children"] for term in alone)
    assert together == alone


def test_each_term_of_the_demo_cohorts_trend_is_that_term_on_its_own(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    World(factory, clock)  # its VSH reads authority 935's cohort
    with unit_of_work(factory) as session:
        load_demo_cohort(session, clock, FAST_HASHER, Cohort(size=150, weeks=70))
    with factory() as session:
        alone, together = each_term_alone_and_the_trend(session, "vsh", {"vsh"})
    assert sum(term["possible"] for term in alone) > 0 and sum(term["termly_due"] for term in alone) > 0
    assert together == alone
