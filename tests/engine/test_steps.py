"""One step of one instance: version checks, messages, cancel, and the sandbox after a reload."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from engine.errors import Conflict, InvalidData, ProcessError
from engine.sandbox import SandboxedScriptEngine
from engine.service import WorkflowService
from engine.timer_pump import fire_due_timers
from tests.engine.conftest import SOCIAL_WORKER, Harness

DRAFT = {"summary": "Settled well", "meeting_date": "2026-12-03", "attendance_percent": 96}


def start(wf: Harness) -> int:
    with wf() as svc:
        return svc.start("review", "child-1", {"started_at": wf.clock.now().isoformat()}, SOCIAL_WORKER).id


def test_a_step_saved_over_a_newer_version_is_a_conflict_and_nothing_of_it_is_applied(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        [task] = svc.instance_tasks(instance_id)
    # B loads the instance, then A completes the task and commits, then B tries to save its step.
    session_b = wf.factory()
    try:
        svc_b = WorkflowService(session_b, wf.clock, wf.runtime)
        loaded_b = svc_b.steps.load(instance_id, wf.clock.now())
        with wf() as svc_a:
            svc_a.complete(task.id, DRAFT, SOCIAL_WORKER)
        spiff_task = loaded_b.workflow.get_task_from_id(UUID(task.id))
        spiff_task.data.update({**DRAFT, "summary": "B's version"})
        spiff_task.run()
        with pytest.raises(Conflict):
            svc_b.steps.finish(loaded_b, wf.clock.now(), "test")
    finally:
        session_b.rollback()
        session_b.close()
    with wf() as svc:
        assert svc.instance_data(instance_id)["summary"] == "Settled well"
        assert svc.instance(instance_id).version == 3
        assert [e.action for e in svc.history(instance_id)].count("task_completed") == 1


def test_every_committed_step_increments_the_instance_version(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        v1 = svc.instance(instance_id).version
        [task] = svc.instance_tasks(instance_id)
        svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.instance(instance_id).version == v1 + 1


def test_a_message_to_a_waiting_instance_takes_its_boundary_path(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        svc.send_message(instance_id, "withdrawn", {"reason": "placement cancelled"}, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.instance(instance_id).status == "completed"
        assert [t.state for t in svc.instance_tasks(instance_id)] == ["cancelled"]
        assert svc.waiting_timers(instance_id) == []
        event = [e for e in svc.history(instance_id) if e.action == "message_received"][0]
        assert event.data == {"message": "withdrawn", "payload": {"reason": "placement cancelled"}}


def test_a_boundary_message_is_recorded_as_waited_for_while_its_task_is_open(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        [wait] = svc.waiting_messages(instance_id)
        [draft] = svc.instance_tasks(instance_id)
    assert (wait.element_id, wait.message, wait.boundary, wait.since) == ("withdrawn", "withdrawn", True,
                                                                          wf.clock.now())
    with wf() as svc:
        svc.complete(draft.id, DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.waiting_messages(instance_id) == []


def test_a_message_that_arrives_ends_the_wait_for_it(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        svc.send_message(instance_id, "withdrawn", {}, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.waiting_messages(instance_id) == []


def test_cancelling_ends_the_waits_for_messages(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        svc.cancel(instance_id, SOCIAL_WORKER, "Child returned home")
    with wf() as svc:
        assert svc.waiting_messages(instance_id) == []


def test_a_message_the_instance_is_not_waiting_for_is_a_conflict(wf: Harness) -> None:
    instance_id = start(wf)
    with pytest.raises(Conflict, match="not waiting for the message 'placement_cancelled'"), wf() as svc:
        svc.send_message(instance_id, "placement_cancelled", {}, SOCIAL_WORKER)


def test_cancelling_closes_the_open_tasks_and_timers_and_records_the_reason(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        svc.cancel(instance_id, SOCIAL_WORKER, "Child returned home")
    with wf() as svc:
        row = svc.instance(instance_id)
        assert (row.status, row.ended_at) == ("cancelled", wf.clock.now())
        assert [t.state for t in svc.instance_tasks(instance_id)] == ["cancelled"]
        assert svc.waiting_timers(instance_id) == []
        assert svc.history(instance_id)[-1].data == {"reason": "Child returned home"}
    with pytest.raises(Conflict, match="cancelled"), wf() as svc:
        svc.cancel(instance_id, SOCIAL_WORKER, "again")


def test_cancelling_without_a_reason_is_refused_naming_the_field(wf: Harness) -> None:
    instance_id = start(wf)
    with pytest.raises(InvalidData) as error, wf() as svc:
        svc.cancel(instance_id, SOCIAL_WORKER, "  ")
    assert list(error.value.errors) == ["reason"]


def test_a_reloaded_workflow_runs_its_scripts_in_the_sandbox_not_spiffs_default_engine(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        loaded = svc.steps.load(instance_id, wf.clock.now())
        assert isinstance(loaded.workflow.script_engine, SandboxedScriptEngine)
        assert loaded.workflow.script_engine.current_time == wf.clock.now()


def test_stored_state_holds_the_task_tree_but_not_the_parsed_spec(wf: Harness) -> None:
    instance_id = start(wf)
    with wf() as svc:
        state = svc.instance(instance_id).state
    assert '"tasks"' in state
    assert '"task_specs"' not in state and "Write the draft" not in state


def test_state_size_does_not_grow_with_other_instances_history(wf: Harness) -> None:
    first = start(wf)
    for _ in range(5):
        other = start(wf)
        with wf() as svc:
            [task] = svc.instance_tasks(other)
            svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    last = start(wf)
    wf.clock.advance(timedelta(days=30))
    fire_due_timers(wf.factory, wf.runtime, wf.clock)
    with wf() as svc:
        sizes = [len(svc.instance(i).state) for i in (first, last)]
    assert abs(sizes[0] - sizes[1]) < 40  # the same steps, the same size: nothing of the others


def test_a_task_whose_own_script_fails_is_a_process_error_and_nothing_of_the_step_is_saved(wf: Harness) -> None:
    wf.deploy("post_script.bpmn")
    with wf() as svc:
        instance_id = svc.start("post_script", "child-1", {}, SOCIAL_WORKER).id
        [task] = svc.instance_tasks(instance_id)
        version = svc.instance(instance_id).version
    with pytest.raises(ProcessError, match="failed"), wf() as svc:
        svc.complete(task.id, {"people": 0}, SOCIAL_WORKER)
    with wf() as svc:
        assert [t.state for t in svc.instance_tasks(instance_id)] == ["open"]
        assert svc.instance(instance_id).version == version
        svc.complete(task.id, {"people": 4}, SOCIAL_WORKER)
    with wf() as svc:
        assert svc.instance(instance_id).status == "completed"
        assert svc.instance_data(instance_id)["each"] == 25
