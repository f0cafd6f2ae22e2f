"""Moving running instances to a process's newest version: the dry run, the move, and what it keeps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import migration
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import NotFound
from engine.models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, TimerRow
from engine.runtime import Runtime
from engine.steps import StepRunner
from tests.engine.conftest import BPMN, MANAGER, SOCIAL_WORKER, Harness

V2 = (BPMN / "migration_v2.bpmn").read_text()


@pytest.fixture
def mig(factory: sessionmaker[Session], clock: FrozenClock, runtime: Runtime) -> Harness:
    harness = Harness(factory, clock, runtime)
    harness.deploy("migration_v1.bpmn")
    return harness


def start(h: Harness, key: str) -> int:
    with h() as svc:
        return svc.start("migration", key, {}, SOCIAL_WORKER).id


def open_task(h: Harness, instance_id: int) -> HumanTask:
    with h() as svc:
        [task] = [t for t in svc.instance_tasks(instance_id) if t.state == "open"]
        return task


def complete(h: Harness, instance_id: int, actor: Any = None) -> HumanTask:
    task = open_task(h, instance_id)
    with h() as svc:
        svc.complete(task.id, {}, actor or (SOCIAL_WORKER if task.role == "social_worker" else MANAGER))
    return task


def two_cases(h: Harness) -> tuple[int, int]:
    """One case waiting at 'gather' and one at 'review' (claimed by the manager)."""
    at_gather, at_review = start(h, "child-1"), start(h, "child-2")
    complete(h, at_review)
    with h() as svc:
        svc.claim(open_task(h, at_review).id, MANAGER)
    return at_gather, at_review


def dry_run(h: Harness) -> dict[int, migration.Verdict]:
    with unit_of_work(h.factory) as session:
        return {v.instance_id: v for v in migration.plan(session, h.runtime, "migration", clock=h.clock)}


def move(h: Harness, ids: list[int] | None = None) -> migration.Result:
    with unit_of_work(h.factory) as session:
        return migration.migrate(session, h.runtime, h.clock, "migration", "alex", ids)


def definition_version(h: Harness, instance_id: int) -> int:
    with unit_of_work(h.factory) as session:
        return session.scalars(select(ProcessDefinition.version).join(
            ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.id == instance_id)).one()


def test_the_dry_run_says_every_case_can_move_to_a_version_that_keeps_its_waiting_tasks(mig: Harness) -> None:
    at_gather, at_review = two_cases(mig)
    mig.deploy("migration_v2.bpmn")
    verdicts = dry_run(mig)
    assert set(verdicts) == {at_gather, at_review}
    assert all(v.can_move and (v.from_version, v.to_version) == (1, 2) for v in verdicts.values())
    assert "'Review the case' (review)" in verdicts[at_review].reason
    assert verdicts[at_gather].business_key == "child-1"
    assert definition_version(mig, at_gather) == 1  # a dry run changes nothing


def test_moved_cases_keep_their_tasks_ids_and_holders_gain_the_new_timer_and_run_on_the_new_version(
        mig: Harness) -> None:
    at_gather, at_review = two_cases(mig)
    gather, review = open_task(mig, at_gather), open_task(mig, at_review)
    mig.deploy("migration_v2.bpmn")
    result = move(mig)
    assert result.counts() == {"moved": 2, "cannot_move": 0, "conflicts": 0}
    assert definition_version(mig, at_gather) == definition_version(mig, at_review) == 2

    renamed, held = open_task(mig, at_gather), open_task(mig, at_review)
    assert renamed.id == gather.id and renamed.title == "Gather the evidence"  # the new label
    assert held.id == review.id and held.assignee == "mo"
    assert held.due_at == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # the boundary timer v2 added: P5D
    with mig() as svc:
        [timer] = svc.waiting_timers(at_review)
        assert (timer.element_id, timer.due_at) == ("review_due", held.due_at)
        assert svc.waiting_timers(at_gather) == []
        audit = [e for e in svc.history(at_review) if e.action == "instance_migrated"]
    assert [(e.actor, e.data) for e in audit] == [("alex", {"from_version": 1, "to_version": 2})]

    complete(mig, at_review)  # review -> sign_off, the step v2 added after it
    assert open_task(mig, at_review).element_id == "sign_off"
    complete(mig, at_review)
    complete(mig, at_gather)
    assert open_task(mig, at_gather).element_id == "review"
    with mig() as svc:
        assert svc.instance(at_review).status == "completed"
        assert [t.element_id for t in svc.waiting_timers(at_gather)] == ["review_due"]


def test_a_case_waiting_at_a_task_the_new_version_removed_cannot_move_and_keeps_running_on_its_version(
        mig: Harness) -> None:
    at_gather, at_review = two_cases(mig)
    mig.deploy("migration_removed.bpmn")
    verdicts = dry_run(mig)
    assert verdicts[at_gather].can_move
    assert not verdicts[at_review].can_move
    assert verdicts[at_review].reason == "waits at 'Review the case' (review), which version 2 removed"

    result = move(mig)
    assert [v.instance_id for v in result.moved] == [at_gather]
    assert [v.reason for v in result.refused] == [verdicts[at_review].reason]
    assert definition_version(mig, at_review) == 1
    complete(mig, at_review)  # still runs on version 1
    complete(mig, at_gather)  # version 2 ends after 'gather'
    with mig() as svc:
        assert svc.instance(at_review).status == "completed"
        assert svc.instance(at_gather).status == "completed"


def test_a_waiting_timer_keeps_its_due_time_when_its_case_moves(mig: Harness) -> None:
    mig.deploy("migration_v2.bpmn")
    case = start(mig, "child-1")
    complete(mig, case)
    with mig() as svc:
        [before] = svc.waiting_timers(case)
        svc.deploy_text(V2.replace("Chase the review", "Chase the late review"), "migration_v3.bpmn")
    mig.clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    assert move(mig).counts()["moved"] == 1
    with mig() as svc:
        [after] = svc.waiting_timers(case)
        assert (after.id, after.due_at) == (before.id, before.due_at)
        assert open_task(mig, case).due_at == before.due_at
    mig.clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    with mig() as svc:
        assert svc.fire_instance_timers(case, mig.clock.now()) == 1
        assert "Chase the late review" in [t.title for t in svc.instance_tasks(case)]


def test_a_case_already_on_the_newest_version_is_refused_saying_so(mig: Harness) -> None:
    mig.deploy("migration_v2.bpmn")
    case = start(mig, "child-1")
    result = move(mig, [case])
    assert [v.reason for v in result.refused] == ["version 2 is the newest already"]
    with unit_of_work(mig.factory) as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_migrated")).all() == []


def test_a_step_that_wins_a_race_with_the_move_is_a_reported_conflict_and_nothing_of_the_move_is_written(
        mig: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    at_gather, at_review = two_cases(mig)
    mig.deploy("migration_v2.bpmn")
    load = StepRunner.load

    def load_then_race(self: StepRunner, instance_id: int, at: datetime) -> Any:
        loaded = load(self, instance_id, at)
        if instance_id == at_review:  # someone completes the review between our read and our write
            complete(mig, at_review)
        return loaded

    monkeypatch.setattr(StepRunner, "load", load_then_race)
    result = move(mig)
    monkeypatch.undo()
    assert [v.instance_id for v in result.moved] == [at_gather]
    assert [v.instance_id for v in result.conflicts] == [at_review]
    assert "at the same time" in result.conflicts[0].reason
    assert (result.conflicts[0].from_version, result.conflicts[0].to_version) == (1, 2)
    assert definition_version(mig, at_review) == 1
    with mig() as svc:
        assert svc.instance(at_review).status == "completed"
        assert [e for e in svc.history(at_review) if e.action == "instance_migrated"] == []
        assert svc.waiting_timers(at_review) == []
    with unit_of_work(mig.factory) as session:
        assert session.scalars(select(TimerRow).where(TimerRow.instance_id == at_review)).all() == []


def test_the_dry_run_comes_a_page_at_a_time_oldest_case_first(mig: Harness) -> None:
    cases = [start(mig, f"child-{n}") for n in range(3)]
    mig.deploy("migration_v2.bpmn")
    with unit_of_work(mig.factory) as session:
        first = migration.plan_page(session, mig.runtime, "migration", page=1, per_page=2, clock=mig.clock)
        second = migration.plan_page(session, mig.runtime, "migration", page=2, per_page=2, clock=mig.clock)
    assert [v.instance_id for v in first.items] == cases[:2] and first.has_next
    assert [v.instance_id for v in second.items] == cases[2:] and not second.has_next


def test_the_dry_run_of_a_process_never_deployed_is_not_found(mig: Harness) -> None:
    with pytest.raises(NotFound, match="nope"), unit_of_work(mig.factory) as session:
        migration.plan(session, mig.runtime, "nope")


V1 = (BPMN / "migration_v1.bpmn").read_text()


def test_a_waiting_task_whose_type_changed_cannot_move_and_the_reason_names_both_types(mig: Harness) -> None:
    _, at_review = two_cases(mig)
    scripted = V1.replace(
        '<bpmn:userTask id="review" name="Review the case"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>',
        '<bpmn:scriptTask id="review" name="Review the case"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:script>reviewed = True</bpmn:script></bpmn:scriptTask>')
    assert scripted != V1
    with mig() as svc:
        svc.deploy_text(scripted, "migration_scripted.bpmn")
    verdict = dry_run(mig)[at_review]
    assert not verdict.can_move
    assert verdict.reason == "task 'Review the case' (review) changed type in version 2 (UserTask to ScriptTask)"


def test_a_case_that_has_passed_a_task_the_new_version_removed_cannot_move(mig: Harness) -> None:
    at_gather, at_review = two_cases(mig)
    skipped = (V1.replace('<bpmn:userTask id="gather" name="Gather the facts"><bpmn:incoming>f1</bpmn:incoming>'
                          '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>\n', "")
               .replace('<bpmn:flowNodeRef>gather</bpmn:flowNodeRef>\n', "")
               .replace('<bpmn:sequenceFlow id="f2" sourceRef="gather" targetRef="review" />\n', "")
               .replace('targetRef="gather"', 'targetRef="review"').replace("<bpmn:incoming>f2</bpmn:incoming>",
                                                                             "<bpmn:incoming>f1</bpmn:incoming>"))
    assert "gather" not in skipped
    with mig() as svc:
        svc.deploy_text(skipped, "migration_skipped.bpmn")
    verdicts = dry_run(mig)
    assert verdicts[at_gather].reason == "waits at 'Gather the facts' (gather), which version 2 removed"
    assert verdicts[at_review].reason == "it has passed 'Gather the facts' (gather), which version 2 removed"
    assert move(mig).counts() == {"moved": 0, "cannot_move": 2, "conflicts": 0}


def test_a_waiting_task_moved_to_another_lane_goes_to_that_lanes_role_and_keeps_its_id(mig: Harness) -> None:
    case = start(mig, "child-1")
    before = open_task(mig, case)
    assert before.role == "social_worker"
    relaned = (V1.replace("        <bpmn:flowNodeRef>gather</bpmn:flowNodeRef>\n", "")
               .replace("        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>\n",
                        "        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>\n"
                        "        <bpmn:flowNodeRef>gather</bpmn:flowNodeRef>\n"))
    with mig() as svc:
        svc.deploy_text(relaned, "migration_relaned.bpmn")
    assert move(mig).counts()["moved"] == 1
    after = open_task(mig, case)
    assert (after.id, after.role) == (before.id, "manager")
