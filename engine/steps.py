"""Running one step of one instance: load, advance, save with a version check, materialise.

Everything a step changes (state, human tasks, timers, audit) is flushed into
the caller's transaction; the caller's edge commits or rolls back all of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from .audit import entry
from .contracts import ClosedTask, OpenedTask
from .errors import Conflict, EngineError, InvalidData, NotFound, ProcessError
from .models import HumanTask, ProcessDefinition, ProcessInstance
from .runtime import Reached, Runtime, StepEvent, StepScriptEngine
from .state import STATE_FORMAT
from .timers import fired_by_timer, fired_due, is_timer, timer_due
from .writes import StepWrite, write_step

MAX_ENGINE_ROUNDS = 1000


@dataclass(frozen=True)
class Snapshot:
    """What the tables say about an instance: its ready user tasks, its waiting timers and message waits."""

    ready: frozenset[str] = frozenset()
    timers: tuple[tuple[str, datetime], ...] = ()
    messages: frozenset[str] = frozenset()


@dataclass
class Loaded:
    row: ProcessInstance
    workflow: BpmnWorkflow
    scripts: StepScriptEngine
    before: Snapshot = field(default_factory=Snapshot)
    audit: list[dict[str, Any]] = field(default_factory=list)
    """Audit entries of this step, written right after the instance row (the step's first write)."""
    reached: list[Reached] = field(default_factory=list)
    """Elements completed during this step, in order, for the runtime's hooks."""


class StepRunner:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    # -- loading and saving -------------------------------------------------
    def new_workflow(self, definition: ProcessDefinition, at: datetime) -> tuple[BpmnWorkflow, StepScriptEngine]:
        parsed = self.runtime.spec(definition.process_id, definition.bpmn_xml, definition.filename)
        scripts = self.runtime.script_engine(at)
        return BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=scripts), scripts

    def load(self, instance_id: int, at: datetime) -> Loaded:
        """The instance's row and workflow, fresh from the database, with the sandbox set for ``at``."""
        query = (
            select(ProcessInstance, ProcessDefinition.content_sha256)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id == instance_id)
            .execution_options(populate_existing=True)
        )
        found = self.session.execute(query).first()
        if found is None:
            raise NotFound(f"No process instance {instance_id}")
        return self.restore(found[0], found[1], at)

    def task_and_instance(self, task_id: str) -> tuple[HumanTask, ProcessInstance, str]:
        """A human task with its instance row and definition hash, in one query (the hot path)."""
        query = (
            select(HumanTask, ProcessInstance, ProcessDefinition.content_sha256)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(HumanTask.id == task_id)
            .execution_options(populate_existing=True)
        )
        found = self.session.execute(query).first()
        if found is None:
            raise NotFound(f"No task {task_id}")
        return found[0], found[1], found[2]

    def restore(self, row: ProcessInstance, content_sha256: str, at: datetime) -> Loaded:
        """Deserialize an instance row's workflow and give it the sandbox for ``at``."""
        parsed = self.runtime.cached_spec(row.process_id, content_sha256)
        if parsed is None:
            definition = self.session.get(ProcessDefinition, row.definition_id)
            assert definition is not None
            parsed = self.runtime.spec(definition.process_id, definition.bpmn_xml, definition.filename)
        workflow = self.runtime.serializer.loads(row.state, row.state_format, parsed.spec, parsed.subprocess_specs)
        scripts = self.runtime.script_engine(at)
        workflow.script_engine = scripts  # never trust the deserialized default engine
        return Loaded(row, workflow, scripts, snapshot(workflow, row.status))

    def finish(self, loaded: Loaded, at: datetime, actor: str, *, status: str | None = None,
               completed: tuple[HumanTask, str] | None = None, definition_id: int | None = None) -> int:
        """Write the step: the instance at ``version = seen + 1``, its audit, tasks, timers and message waits.

        If another step committed first, nothing is written and this is a Conflict.
        ``completed`` is the human task this step completed, and by whom. ``definition_id``: the
        instance now runs on that version (a migration). Returns how many waiting timers fired.
        """
        row, workflow = loaded.row, loaded.workflow
        new_status = status or ("completed" if workflow.completed else row.status)
        values: dict[str, Any] = {
            "state": self.runtime.serializer.dumps(workflow),
            "state_format": STATE_FORMAT,
            "updated_at": at,
            "status": new_status,
            "ended_at": row.ended_at or (at if new_status != "running" else None),
            "version": row.version + 1,
        }
        if definition_id is not None:
            values["definition_id"] = definition_id
        write = StepWrite(row.id, row.version, values, audit=list(loaded.audit))
        fired, after, deadlines = self._materialise(loaded, new_status, at, write, completed)
        with conflicts_as_409():
            written = write_step(self.session, write)
        if not written:
            raise Conflict("Someone else changed this process at the same time; nothing was saved. Reload and try again.")
        for key, value in values.items():
            set_committed_value(row, key, value)
        if completed is not None:
            for key, value in (("state", "completed"), ("completed_at", at), ("completed_by", completed[1])):
                set_committed_value(completed[0], key, value)
        loaded.audit.clear()
        loaded.before = after
        event = StepEvent(at, actor, row, self.runtime, tuple(loaded.reached),
                          tuple(OpenedTask.of(t) for t in write.opened_tasks),
                          tuple(ClosedTask.of(t) for t in write.closed_tasks), new_status, deadlines)
        loaded.reached.clear()
        self.runtime.hooks.after_step(self.session, event)
        return fired

    # -- running ------------------------------------------------------------
    def advance(self, loaded: Loaded, actor: str) -> None:
        """Run engine tasks (scripts, gateways, due timers) until only people or waits remain."""
        row, workflow = loaded.row, loaded.workflow

        def did_complete(task: Any) -> None:
            spec = task.task_spec
            if getattr(spec, "bpmn_id", None):
                loaded.reached.append(Reached(spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, task.data))
            if fired_by_timer(task):  # not an event-based gateway that caught a message
                loaded.audit.append(entry(
                    loaded.scripts.current_time, actor, "timer_fired", row,
                    task_id=str(task.id), element_id=task.task_spec.bpmn_id,
                    data={"name": task.task_spec.bpmn_name or task.task_spec.bpmn_id},
                ))

        with process_errors(row.process_id):
            for _ in range(MAX_ENGINE_ROUNDS):
                workflow.refresh_timers()
                if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                    break
                workflow.do_engine_steps(did_complete_task=did_complete)

    @staticmethod
    def run_task(loaded: Loaded, task: Any) -> None:
        """Run one ready task (a person's completed form): its scripts fail as ``advance``'s do."""
        with process_errors(loaded.row.process_id):
            task.run()

    # -- materialising ------------------------------------------------------
    def _materialise(self, loaded: Loaded, status: str, at: datetime, write: StepWrite,
                     completed: tuple[HumanTask, str] | None) -> tuple[int, Snapshot, dict[str, datetime]]:
        """Add to ``write`` the human_task and waiting_timer changes since the snapshot taken at load.

        Only the difference is written, so a step costs the same however many tasks
        and timers the database holds. Returns how many waiting timers fired, the new
        snapshot, and for each opened task that a timer opened, when that timer was due.
        """
        row, workflow, before = loaded.row, loaded.workflow, loaded.before
        running = status == "running"
        ready, waiting, listening = waits(workflow) if running else ({}, [], {})
        dues = {str(t.id): timer_due(t) for t in waiting}
        after = Snapshot(frozenset(ready), tuple((i, d) for i, d in dues.items() if d is not None),
                         frozenset(listening))
        write.ended_messages.extend(sorted(before.messages - listening.keys()))
        write.new_messages.extend(message_wait_values(row.id, listening[i], at)
                                  for i in sorted(listening.keys() - before.messages))

        done_id = completed[0].id if completed is not None else None
        if completed is not None:
            write.closed_tasks.append({"id": done_id, "state": "completed", "done_by": completed[1]})
        for task_id in sorted(before.ready - ready.keys() - {done_id}):
            write.closed_tasks.append({"id": task_id, "state": "cancelled", "done_by": None})
        opened = sorted(ready.keys() - before.ready)
        write.opened_tasks.extend(task_values(row, ready[i], dues, at) for i in opened)
        deadlines = {i: due for i in opened if (due := _deadline_passed(ready[i])) is not None}

        still = {(task_id, due) for task_id, due in dues.items() if due is not None}
        fired = 0
        for task_id, due in sorted(set(before.timers) - still):
            task = workflow.get_task_from_id(UUID(task_id))
            did_fire = status != "cancelled" and task is not None and (
                fired_by_timer(task) or dues.get(task_id) not in (None, due))
            fired += did_fire
            write.ended_timers.append({"task_id": task_id, "state": "fired" if did_fire else "cancelled"})
        for task_id, due in sorted(still - set(before.timers)):
            spec = workflow.get_task_from_id(UUID(task_id)).task_spec
            write.new_timers.append({"instance_id": row.id, "task_id": task_id, "element_id": spec.bpmn_id,
                                     "name": spec.bpmn_name or spec.bpmn_id, "due_at": due, "state": "waiting"})
        return fired, after, deadlines


def task_values(row: ProcessInstance, task: Any, dues: dict[str, datetime | None], at: datetime) -> dict[str, Any]:
    spec = task.task_spec
    return {
        "id": str(task.id), "instance_id": row.id, "process_id": row.process_id,
        "business_key": row.business_key, "element_id": spec.bpmn_id,
        "title": _bound(task, "task_titles", 300) or spec.bpmn_name or spec.bpmn_id,
        "role": bound_role(task), "state": "open", "assignee": _bound(task, "task_assignees", 100),
        "due_at": _due_for(task, dues), "created_at": at,
    }


def _bound(task: Any, key: str, most: int) -> str | None:
    """A task's title or assignee bound by the process data (``task_titles`` / ``task_assignees``:
    element id -> text), as ``lane_roles`` binds a lane: e.g. a follow-up named after its PEP action."""
    bindings = task.data.get(key)
    value = bindings.get(task.task_spec.bpmn_id) if isinstance(bindings, dict) else None
    return value[:most] if isinstance(value, str) and value.strip() else None


def bound_role(task: Any) -> str | None:
    """The role that does a user task: its lane's name, unless the process data binds the lane.

    A process may carry ``lane_roles`` (lane name -> role) in its data, so one
    diagram serves councils that give a step to different roles (for example the
    Key Stage 4 approver: a nominated officer in one council, the VSH in another).
    """
    lane = task.task_spec.lane
    bindings = task.data.get("lane_roles")
    if lane is not None and isinstance(bindings, dict) and isinstance(bindings.get(lane), str):
        return str(bindings[lane])
    return lane  # type: ignore[no-any-return]


def snapshot(workflow: BpmnWorkflow, status: str) -> Snapshot:
    if status != "running":
        return Snapshot()
    ready, waiting, listening = waits(workflow)
    timers = tuple((str(t.id), due) for t in waiting if (due := timer_due(t)) is not None)
    return Snapshot(frozenset(ready), timers, frozenset(listening))


def waits(workflow: BpmnWorkflow) -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
    """The ready user tasks (by id), the waiting timer tasks and the tasks waiting for a message (by id),
    in one walk of the task tree."""
    ready: dict[str, Any] = {}
    waiting: list[Any] = []
    listening: dict[str, Any] = {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.state == TaskState.READY:
            if task.task_spec.manual:
                ready[str(task.id)] = task
        else:
            if _is_timer_task(task):
                waiting.append(task)
            if _messages_of(task):  # an event-based gateway waits for a date and a message at once
                listening[str(task.id)] = task
    return ready, waiting, listening


def _messages_of(task: Any) -> list[str]:
    """The names of the BPMN messages a waiting task would catch (none: it waits for no message)."""
    definition = getattr(task.task_spec, "event_definition", None)
    found = getattr(definition, "event_definitions", None) or [definition]
    return [str(d.name) for d in found if isinstance(d, MessageEventDefinition)]


def message_waits(workflow: BpmnWorkflow) -> list[Any]:
    """The tasks of a running workflow that wait for a BPMN message."""
    return list(waits(workflow)[2].values())


def message_wait_values(instance_id: int, task: Any, at: datetime) -> dict[str, Any]:
    """The ``waiting_message`` row of a task that waits for a message."""
    spec = task.task_spec
    parent = task.parent
    return {"instance_id": instance_id, "task_id": str(task.id), "element_id": spec.bpmn_id,
            "name": (spec.bpmn_name or spec.bpmn_id)[:300], "message": ", ".join(_messages_of(task))[:200],
            "boundary": parent is not None and isinstance(parent.task_spec, BoundaryEventSplit), "since": at}


def _is_timer_task(task: Any) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    return definition is not None and is_timer(definition)


def _deadline_passed(task: Any) -> datetime | None:
    """When the timer that opened this user task was due, if one did (a boundary or intermediate
    timer just before it, with only gateways or scripts between)."""
    parent = task.parent
    for _ in range(10):
        if parent is None or parent.task_spec.manual:
            return None
        if _is_timer_task(parent):
            return fired_due(parent)
        parent = parent.parent
    return None


def _due_for(task: Any, dues: dict[str, datetime | None]) -> datetime | None:
    """A user task is due when the earliest timer on its boundary is (waiting, or fired without
    cancelling it), or else on the boundary of the embedded subprocess it runs in (a PEP's parts
    are due when the whole PEP is, even once it is overdue)."""
    for _ in range(20):  # subprocesses nest; never loop forever on a malformed tree
        parent = task.parent
        if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
            # a waiting timer, or one that already fired without cancelling the task: the task is overdue
            times = [dues.get(str(sibling.id)) or fired_due(sibling) for sibling in parent.children
                     if sibling is not task and _is_timer_task(sibling)]
            found = [t for t in times if t is not None]
            if found:
                return min(found)
        outer_id = getattr(task.workflow, "parent_task_id", None)
        if outer_id is None:
            return None
        outer = task.workflow.top_workflow.get_task_from_id(outer_id)
        if outer is None:
            return None
        task = outer
    return None


@contextmanager
def process_errors(process_id: str) -> Iterator[None]:
    """A script or an expression of the process that fails (SpiffWorkflow's errors, or Python's own in a
    script) is a :class:`ProcessError` naming the process; the engine's own errors pass as they are."""
    try:
        yield
    except EngineError:
        raise
    except (SpiffWorkflowException, ValueError, TypeError, KeyError) as error:
        raise ProcessError(f"The process '{process_id}' failed: {error}") from None


@contextmanager
def conflicts_as_409() -> Iterator[None]:
    """Turn a lost race (stale version, SQLite busy snapshot, PostgreSQL deadlock) into a Conflict."""
    try:
        yield
    except StaleDataError:
        raise Conflict("Someone else changed this process at the same time; nothing was saved. Reload and try again.") from None
    except OperationalError as error:
        if "locked" in str(error).lower() or "busy" in str(error).lower():
            raise Conflict("The database was busy with a change to the same process; nothing was saved. Try again.") from None
        raise
    except DBAPIError as error:
        code = getattr(getattr(error, "orig", None), "sqlstate", None)
        if code in ("40001", "40P01", "55P03"):
            raise Conflict("A concurrent change to the same process won; nothing was saved. Try again.") from None
        raise


def flush(session: Session) -> None:
    """Flush, turning a lost race into a Conflict the caller can report as 409."""
    with conflicts_as_409():
        session.flush()


def json_safe(data: dict[str, Any], field: str = "data") -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(data))
    except (TypeError, ValueError) as error:
        raise InvalidData({field: [f"must be plain JSON data: {error}"]}) from None
    return loaded
