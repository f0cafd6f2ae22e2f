"""The operator's counts: running cases per version, and what waits at each element, against a known world."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from engine.errors import InvalidData, NotFound, ProcessError
from engine.incidents import record_step_failure
from engine.models import HumanTask, ProcessDefinition
from engine.operations import (
    ElementCount,
    element_counts,
    instance_facts,
    running_by_version,
    waiting_at,
)
from tests.engine.conftest import BPMN, MANAGER, SOCIAL_WORKER, Harness

DRAFT = {"summary": "All well", "meeting_date": "2026-11-30", "attendance_percent": 95}


def versions(factory: sessionmaker[Session]) -> dict[int, int]:
    with factory() as session:
        rows = session.execute(select(ProcessDefinition.version, ProcessDefinition.id)
                               .where(ProcessDefinition.process_id == "review"))
        return {version: definition_id for version, definition_id in rows}


@pytest.fixture
def world(wf: Harness, factory: sessionmaker[Session], clock: FrozenClock) -> dict[str, list[int]]:
    """Version 1: five cases, two of them past their draft (waiting for approval), one cancelled. Version 2
    (the same process, renamed): three cases at their draft, one with a failed step."""
    ids: dict[str, list[int]] = {"v1": [], "v2": []}
    started = {"started_at": clock.now().isoformat()}
    with wf() as svc:
        ids["v1"] = [svc.start("review", f"C-{n}", started, SOCIAL_WORKER).id for n in range(1, 6)]
    for instance_id in ids["v1"][:2]:
        with wf() as svc:
            (task,) = svc.instance_tasks(instance_id)
            svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        svc.cancel(ids["v1"][4], MANAGER, "Duplicate case")
    text = (BPMN / "review.bpmn").read_text().replace('name="Test review"', 'name="Test review (v2)"')
    with wf() as svc:
        svc.deploy_text(text, "review.bpmn")
        ids["v2"] = [svc.start("review", f"D-{n}", started, SOCIAL_WORKER).id for n in range(1, 4)]
    with factory() as session:
        task_id = session.scalars(select(HumanTask.id).where(HumanTask.instance_id == ids["v2"][0])).one()
    assert record_step_failure(factory, ProcessError("The process 'review' failed: boom"), clock.now(),
                               actor="sam", task_id=task_id)
    return ids


def test_running_cases_are_counted_per_process_and_version_in_one_grouped_query(
    world: dict[str, list[int]], factory: sessionmaker[Session]
) -> None:
    with factory() as session:
        rows = running_by_version(session)
    assert [(r.process_id, r.version, r.running, r.name) for r in rows] == [
        ("review", 2, 3, "Test review (v2)"), ("review", 1, 4, "Test review")]
    assert rows[0].definition_id == versions(factory)[2]


def test_the_counts_per_element_match_the_known_world_for_the_whole_process(
    world: dict[str, list[int]], factory: sessionmaker[Session]
) -> None:
    with factory() as session:
        counts = element_counts(session, "review")
    # 2 v1 + 3 v2 cases at the draft, each with its boundary timer; 2 waiting for approval; one failed step
    assert counts == {
        "draft": ElementCount(tasks=5, timers=0, messages=0, incidents=1),
        "draft_due": ElementCount(timers=5),
        "approve": ElementCount(tasks=2),
    }
    assert counts["draft"].total == 6


def test_the_counts_of_one_version_leave_out_the_other_versions_cases(
    world: dict[str, list[int]], factory: sessionmaker[Session]
) -> None:
    ids = versions(factory)
    with factory() as session:
        first, second = element_counts(session, "review", ids[1]), element_counts(session, "review", ids[2])
        other = element_counts(session, "no_such_process")
    assert first == {"draft": ElementCount(tasks=2), "draft_due": ElementCount(timers=2),
                     "approve": ElementCount(tasks=2)}
    assert second == {"draft": ElementCount(tasks=3, incidents=1), "draft_due": ElementCount(timers=3)}
    assert other == {}


def test_the_cases_waiting_at_an_element_are_paged_longest_waiting_first(
    world: dict[str, list[int]], wf: Harness, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    ids = versions(factory)
    with factory() as session:
        first = waiting_at(session, ids[2], "draft", page=1, size=2)
        second = waiting_at(session, ids[2], "draft", page=2, size=2)
        timers = waiting_at(session, ids[1], "draft_due")
        nothing = waiting_at(session, ids[1], "chase")
    assert [w.instance_id for w in first.items + second.items] == world["v2"]
    assert first.has_next and not second.has_next
    assert {(w.kind, w.business_key, w.holder) for w in first.items} == {("task", "D-1", None),
                                                                         ("task", "D-2", None)}
    assert first.items[0].since == clock.now()
    assert [(w.kind, w.since) for w in timers.items] == [("timer", None), ("timer", None)]
    assert all(w.due_at is not None and w.due_at > clock.now() + timedelta(days=5) for w in timers.items)
    assert nothing.items == []
    with factory() as session, pytest.raises(InvalidData):
        waiting_at(session, ids[1], "draft", page=0)


def test_an_instances_facts_are_its_tasks_timers_and_incidents_without_its_answers(
    world: dict[str, list[int]], factory: sessionmaker[Session]
) -> None:
    with factory() as session:
        facts = instance_facts(session, world["v2"][0])
        done = instance_facts(session, world["v1"][0])
        with pytest.raises(NotFound):
            instance_facts(session, 999_999)
    assert (facts.instance.business_key, facts.definition.version) == ("D-1", 2)
    assert [t.element_id for t in facts.tasks] == ["draft"] and [t.element_id for t in facts.timers] == ["draft_due"]
    [incident] = facts.incidents
    assert (incident.kind, incident.actor, incident.element_id, incident.status) == ("step", "sam", "draft", "open")
    assert [t.element_id for t in done.tasks] == ["approve"] and done.timers == [] and done.incidents == []


def test_a_timer_at_an_element_id_another_process_also_has_is_counted_only_for_its_own_process(
    world: dict[str, list[int]], wf: Harness, factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """``twin`` is the review process under another id: the same element ids, so its waits are told apart
    by their instance, not by element alone."""
    text = (BPMN / "review.bpmn").read_text().replace('id="review"', 'id="twin"').replace(
        'processRef="review"', 'processRef="twin"')
    with wf() as svc:
        svc.deploy_text(text, "twin.bpmn")
        svc.start("twin", "T-1", {"started_at": clock.now().isoformat()}, SOCIAL_WORKER)
    with factory() as session:
        review, twin = element_counts(session, "review"), element_counts(session, "twin")
    assert review["draft_due"] == ElementCount(timers=5) and review["draft"].tasks == 5
    assert twin == {"draft": ElementCount(tasks=1), "draft_due": ElementCount(timers=1)}
