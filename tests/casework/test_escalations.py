"""Escalation records: the dashboard's page and its count, scoped by the reader's access in SQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import true
from sqlalchemy.orm import Session, sessionmaker

from casework.escalations import Escalations
from casework.processes import RULES
from engine.clock import FrozenClock

from .world import World, moment


def test_the_dashboard_count_stops_at_its_limit_and_the_page_stays_longest_overdue_first(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    world = World(factory, clock)
    world.child("C-1", born="2016-03-14")
    with world.casework() as casework:
        instance = casework.start_move("C-1", world.actors["sw"])
        escalations = Escalations(casework.session)
        for n in range(7):
            escalations.raise_for(rule=RULES[("pep_review", "escalate_overdue_pep")], child_ref="C-1",
                                  la_code="935", since=moment("2026-11-20T00:00") - timedelta(days=n),
                                  raised_at=clock.now(), process_id="pep_review", instance_id=instance.id,
                                  task_id=None, detail={})
    with world.session() as session:
        escalations = Escalations(session)
        assert escalations.count(true()) == 7
        assert escalations.count(true(), up_to=5) == 5
        page = escalations.dashboard(clock.now(), world.runtime.calendar, true(), per_page=3)
        assert [o.escalation.since for o in page.items] == sorted(o.escalation.since for o in page.items)
        assert page.items[0].escalation.since == moment("2026-11-14T00:00") and page.has_next
