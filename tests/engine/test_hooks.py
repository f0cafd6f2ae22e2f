"""The runtime's hooks: server-side facts added to a completed task's data, the
after-step hook inside the step's transaction, lane-role binding from process
data, and extra script functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.errors import Forbidden, InvalidData
from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.runtime import Actor, NoHooks, Runtime, StepEvent
from tests.engine.conftest import MANAGER, SOCIAL_WORKER, TERMS_2026_27, Harness
from tests.engine.forms import FORMS

DRAFT = {"summary": "Settled well", "meeting_date": "2026-12-03", "attendance_percent": 96}


class Recording(NoHooks):
    """Hooks that add a fact, optionally refuse, and record every step they see."""

    def __init__(self) -> None:
        self.events: list[StepEvent] = []
        self.refuse_summary: str | None = None
        self.fail_after: str | None = None

    def facts(self, session: Session, task: Any, data: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.refuse_summary is not None and data.get("summary") == self.refuse_summary:
            raise InvalidData({"summary": ["is not allowed by the records"]})
        return {"looked_up": f"fact for {task.business_key}"}

    def after_step(self, session: Session, event: StepEvent) -> None:
        self.events.append(event)
        if self.fail_after and self.fail_after in event.reached_ids():
            raise InvalidData({"records": ["cannot be updated"]})


@pytest.fixture
def hooks() -> Recording:
    return Recording()


@pytest.fixture
def hooked(factory: sessionmaker[Session], clock: FrozenClock, hooks: Recording) -> Harness:
    runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(TERMS_2026_27), hooks=hooks,
                      functions={"shout": lambda text: str(text).upper()})
    harness = Harness(factory, clock, runtime)
    harness.deploy("review.bpmn")
    return harness


def start(wf: Harness, data: dict[str, Any] | None = None) -> int:
    with wf() as svc:
        return svc.start("review", "C-1", {"started_at": wf.clock.now().isoformat(), **(data or {})},
                         SOCIAL_WORKER).id


def open_task(wf: Harness, element_id: str) -> HumanTask:
    with wf() as svc:
        [task] = [t for t in svc.tasks(business_key="C-1") if t.element_id == element_id]
        svc.session.expunge(task)
        return task


def test_facts_from_the_hooks_are_merged_into_the_task_data_and_audited(hooked: Harness) -> None:
    instance_id = start(hooked)
    with hooked() as svc:
        svc.complete(open_task(hooked, "draft").id, DRAFT, SOCIAL_WORKER)
    with hooked() as svc:
        data: dict[str, Any] = svc.instance_data(instance_id) or {}
        assert data["looked_up"] == "fact for C-1"
        [done] = [e for e in svc.history(instance_id) if e.action == "task_completed"]
        assert (done.data or {})["facts"] == {"looked_up": "fact for C-1"}


def test_facts_hook_refusing_the_data_names_the_field_and_changes_nothing(hooked: Harness, hooks: Recording) -> None:
    start(hooked)
    hooks.refuse_summary = "Settled well"
    task = open_task(hooked, "draft")
    with pytest.raises(InvalidData) as refused, hooked() as svc:
        svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    assert refused.value.errors == {"summary": ["is not allowed by the records"]}
    assert open_task(hooked, "draft").state == "open"


def test_after_step_sees_each_step_with_the_elements_it_reached_and_the_tasks_it_opened(
    hooked: Harness, hooks: Recording
) -> None:
    start(hooked)
    with hooked() as svc:
        svc.complete(open_task(hooked, "draft").id, DRAFT, SOCIAL_WORKER)
    started, completed = hooks.events
    assert [t.element_id for t in started.opened_tasks] == ["draft"]
    assert completed.actor == SOCIAL_WORKER.user_id
    assert completed.reached_ids()[:2] == ["draft", "stamp"]
    assert (completed.data_at("stamp") or {})["drafted_at"] == hooked.clock.now().isoformat()
    assert [t.element_id for t in completed.opened_tasks] == ["approve"]
    assert [t.state for t in completed.closed_tasks] == ["completed"]
    assert completed.status == "running"


def test_a_failing_after_step_hook_rolls_the_whole_step_back(
    hooked: Harness, hooks: Recording, factory: sessionmaker[Session]
) -> None:
    instance_id = start(hooked)
    hooks.fail_after = "stamp"
    task = open_task(hooked, "draft")
    with factory() as session:
        audits_before = session.scalar(select(func.count()).select_from(AuditEvent))
        version_before = session.get(ProcessInstance, instance_id).version  # type: ignore[union-attr]
    with pytest.raises(InvalidData), hooked() as svc:
        svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audits_before
        assert session.get(ProcessInstance, instance_id).version == version_before  # type: ignore[union-attr]
    assert open_task(hooked, "draft").state == "open"


def test_process_data_can_bind_a_lane_to_another_role(hooked: Harness) -> None:
    start(hooked, {"lane_roles": {"manager": "vsh"}})
    with hooked() as svc:
        svc.complete(open_task(hooked, "draft").id, DRAFT, SOCIAL_WORKER)
    approve = open_task(hooked, "approve")
    assert approve.role == "vsh"
    with pytest.raises(Forbidden), hooked() as svc:
        svc.complete(approve.id, {"decision": "approve"}, MANAGER)
    with hooked() as svc:
        svc.complete(approve.id, {"decision": "approve"}, Actor("val", frozenset({"vsh"})))


def test_extra_functions_given_to_the_runtime_can_be_called_in_scripts(hooked: Harness) -> None:
    with hooked() as svc:
        scripts = svc.runtime.script_engine(hooked.clock.now())
        assert scripts.environment.evaluate("shout(child)", {"child": "pep"}) == "PEP"


def test_a_task_opened_by_a_timer_tells_the_hooks_when_the_deadline_passed_however_late_the_pump_runs(
    hooked: Harness, hooks: Recording
) -> None:
    from datetime import timedelta

    from engine.timer_pump import fire_due_timers

    hooked.deploy("timers.bpmn")
    begin = hooked.clock.now()
    with hooked() as svc:
        svc.start("timers", "C-1", {"begin_at": begin.isoformat()}, SOCIAL_WORKER)
    for days in (1, 3):  # the start timer fires, then the two-day wait: "respond" opens, due in 5 days
        hooked.clock.set(begin + timedelta(days=days))
        assert fire_due_timers(hooked.factory, hooked.runtime, hooked.clock).fired == 1
    hooked.clock.set(begin + timedelta(days=4))  # the daily reminder (a cycle) opens a nudge
    assert fire_due_timers(hooked.factory, hooked.runtime, hooked.clock).fired == 1
    hooked.clock.set(begin + timedelta(days=11))  # the scheduler was down for three days past the deadline
    fire_due_timers(hooked.factory, hooked.runtime, hooked.clock)
    escalate = open_task(hooked, "escalate")
    [event] = [e for e in hooks.events if any(t.id == escalate.id for t in e.opened_tasks)]
    assert event.at == begin + timedelta(days=11)
    assert event.deadlines[escalate.id] == begin + timedelta(days=8)
    nudges = [t.id for e in hooks.events for t in e.opened_tasks if t.element_id == "nudge"]
    assert nudges and not any(n in e.deadlines for e in hooks.events for n in nudges)  # a cycle has no one deadline
