"""A remembered dashboard is reused only while nothing it sums has changed, and is then a fresh one's equal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework import cohort_cache
from casework.cohort import Dashboard, cohort_condition, dashboard
from casework.cohort_cache import remembered_dashboard
from casework.data_version import version
from casework.escalations import Escalation
from casework.records import Child, Pep
from casework.school_data import Suspension
from engine.clock import FrozenClock
from engine.runtime import Actor
from tests.casework.cohort_world import NOW, cohort_world
from tests.casework.world import World

TODAY = date(2026, 12, 1)


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    return cohort_world(factory, clock)


def remembered_and_fresh(world: World, who: str = "vsh", roles: frozenset[str] = frozenset({"vsh"}),
                         period: str | None = None) -> tuple[Dashboard, Dashboard]:
    with world.session() as session:
        viewer = cohort_condition(session, Actor(who, roles))
        assert viewer is not None
        kept = remembered_dashboard(session, viewer, period, TODAY)
        fresh = dashboard(session, viewer.children, period, TODAY, la_code=viewer.la_code,
                          escalation_kinds=viewer.escalation_kinds)
    return kept, fresh


def child_id(world: World, ref: str) -> int:
    with world.session() as session:
        return session.scalars(select(Child.id).where(Child.ref == ref)).one()


def test_the_same_dashboard_is_reused_while_nothing_is_written(world: World) -> None:
    first, _ = remembered_and_fresh(world)
    again, fresh = remembered_and_fresh(world)
    assert again is first and again == fresh
    other_term, fresh_other = remembered_and_fresh(world, period="2025/26 summer")
    assert other_term is not first and other_term == fresh_other


def write_an_object(session: Session, ids: dict[str, int]) -> None:
    session.add(Suspension(child_id=ids["A03"], kind="suspension", school_urn="100002", starts_on=date(2026, 11, 3),
                           days=2.0, reason="PD", recorded_at=NOW, recorded_by="vsh"))


def bulk_insert(session: Session, ids: dict[str, int]) -> None:
    session.execute(insert(Suspension), [{"child_id": ids["A04"], "kind": "permanent_exclusion",
                                          "school_urn": "100002", "starts_on": date(2026, 11, 4), "days": 0.0,
                                          "reason": "PA", "recorded_at": NOW, "recorded_by": "import"}])


def update_statement(session: Session, ids: dict[str, int]) -> None:
    session.execute(update(Pep).where(Pep.child_id == ids["A05"]).values(rag="red", status="complete",
                                                                         completed_at=NOW))


def change_a_child(session: Session, ids: dict[str, int]) -> None:
    child = session.get(Child, ids["A06"])
    assert child is not None
    child.sen_status = "ehc_plan"


def close_escalations(session: Session, ids: dict[str, int]) -> None:
    session.execute(delete(Escalation))


WRITES: list[Callable[[Session, dict[str, int]], None]] = [
    write_an_object, bulk_insert, update_statement, change_a_child, close_escalations]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_after_each_kind_of_write_the_dashboard_is_computed_again_and_is_a_fresh_ones_equal(
    world: World, write: Callable[[Session, dict[str, int]], None]
) -> None:
    before, _ = remembered_and_fresh(world)
    ids = {ref: child_id(world, ref) for ref in ("A03", "A04", "A05", "A06")}
    with world.session() as session:
        write(session, ids)
    after, fresh = remembered_and_fresh(world)
    assert after is not before and after == fresh
    assert after != before  # each write changes a figure the dashboard shows


def test_a_rolled_back_write_leaves_the_version_and_the_remembered_dashboard(world: World) -> None:
    before, _ = remembered_and_fresh(world)
    with world.factory() as session:
        start = version(session)
    with pytest.raises(RuntimeError), world.session() as session:
        session.execute(delete(Suspension))
        raise RuntimeError("the request failed")
    with world.factory() as session:
        assert version(session) == start
    after, _ = remembered_and_fresh(world)
    assert after is before


def test_a_write_to_records_the_dashboard_does_not_sum_keeps_the_version(world: World) -> None:
    from casework.records import audit_change

    with world.factory() as session:
        start = version(session)
    with world.session() as session:
        audit_change(session, NOW, "vsh", "roll.exported", None, {"rows": 1})
    with world.factory() as session:
        assert version(session) == start


def test_each_viewer_has_their_own_dashboard(world: World) -> None:
    vsh, _ = remembered_and_fresh(world)
    worker, fresh = remembered_and_fresh(world, "sw", frozenset({"social_worker"}))
    assert worker == fresh and worker.total.children < vsh.total.children


def test_another_database_never_reuses_this_ones_dashboards(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = remembered_and_fresh(world)
    real = version

    def elsewhere(session: Session) -> Any:
        found = real(session)
        assert found is not None
        return ("another database", found[1])

    monkeypatch.setattr(cohort_cache, "version", elsewhere)
    again, fresh = remembered_and_fresh(world)
    assert again is not first and again == fresh
