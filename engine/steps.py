"""Running one step of one instance: load, advance, save with a version check, materialise.

Everything a step changes (state, human tasks, timers, audit) is flushed into
the caller's transaction; the caller's edge commits or rolls back all of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .audit import AuditLog
from .errors import Conflict, EngineError, InvalidData, NotFound, ProcessError
from .models import HumanTask, ProcessDefinition, ProcessInstance, TimerRow
from .runtime import Runtime, StepScriptEngine
from .state import STATE_FORMAT
from .timers import is_timer, timer_due

MAX_ENGINE_ROUNDS = 1000


@dataclass
class Loaded:
    row: ProcessInstance
    workflow: BpmnWorkflow
    scripts: StepScriptEngine


class StepRunner:
    def __init__(self, session: Session, runtime: Runtime, audit: AuditLog) -> None:
        self.session = session
        self.runtime = runtime
        self.audit = audit

    # -- loading and saving -------------------------------------------------
    def new_workflow(self, definition: ProcessDefinition, at: datetime) -> tuple[BpmnWorkflow, StepScriptEngine]:
        parsed = self.runtime.spec(definition.process_id, definition.bpmn_xml, definition.filename)
        scripts = self.runtime.script_engine(at)
        return BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=scripts), scripts

    def load(self, instance_id: int, at: datetime, *, lock: bool = False) -> Loaded:
        query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
        if lock:
            query = query.with_for_update()
        row = self.session.scalars(query.execution_options(populate_existing=True)).first()
        if row is None:
            raise NotFound(f"No process instance {instance_id}")
        definition = self.session.get(ProcessDefinition, row.definition_id)
        assert definition is not None
        parsed = self.runtime.spec(definition.process_id, definition.bpmn_xml, definition.filename)
        workflow = self.runtime.serializer.loads(row.state, row.state_format, parsed.spec, parsed.subprocess_specs)
        scripts = self.runtime.script_engine(at)
        workflow.script_engine = scripts  # never trust the deserialized default engine
        return Loaded(row, workflow, scripts)

    def save(self, loaded: Loaded, at: datetime, *, status: str | None = None) -> None:
        """Write state with ``version = seen + 1``; a concurrent writer makes this a Conflict."""
        row, workflow = loaded.row, loaded.workflow
        row.state = self.runtime.serializer.dumps(workflow)
        row.state_format = STATE_FORMAT
        row.updated_at = at
        if status is not None:
            row.status = status
        elif workflow.completed:
            row.status = "completed"
        if row.status != "running" and row.ended_at is None:
            row.ended_at = at
        flush(self.session)

    # -- running ------------------------------------------------------------
    def advance(self, loaded: Loaded, actor: str) -> None:
        """Run engine tasks (scripts, gateways, due timers) until only people or waits remain."""
        row, workflow = loaded.row, loaded.workflow

        def did_complete(task: Any) -> None:
            definition = getattr(task.task_spec, "event_definition", None)
            if definition is not None and is_timer(definition):
                self.audit.record(
                    loaded.scripts.current_time, actor, "timer_fired", row,
                    task_id=str(task.id), element_id=task.task_spec.bpmn_id,
                    data={"name": task.task_spec.bpmn_name or task.task_spec.bpmn_id},
                )

        try:
            for _ in range(MAX_ENGINE_ROUNDS):
                workflow.refresh_timers()
                if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                    break
                workflow.do_engine_steps(did_complete_task=did_complete)
        except EngineError:
            raise
        except SpiffWorkflowException as error:
            raise ProcessError(f"The process '{row.process_id}' failed: {error}") from None
        except (ValueError, TypeError, KeyError) as error:
            raise ProcessError(f"The process '{row.process_id}' failed: {error}") from None

    # -- materialising ------------------------------------------------------
    def sync(self, loaded: Loaded, at: datetime) -> list[HumanTask]:
        """Bring human_task and waiting_timer rows in line with the workflow. Returns new tasks."""
        row, workflow = loaded.row, loaded.workflow
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        if row.status != "running":
            ready = {}
        waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING) if _is_timer_task(t)]
        dues = {str(t.id): timer_due(t) for t in waiting}

        open_rows = self.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == row.id, HumanTask.state == "open")
        ).all()
        for task_row in open_rows:
            if task_row.id not in ready:
                task_row.state = "cancelled"
                task_row.completed_at = at
        known = {r.id for r in open_rows}
        created = []
        for task_id, task in ready.items():
            if task_id in known:
                continue
            spec = task.task_spec
            task_row = HumanTask(
                id=task_id, instance_id=row.id, process_id=row.process_id, business_key=row.business_key,
                element_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, role=spec.lane,
                state="open", due_at=_due_for(task, dues), created_at=at,
            )
            self.session.add(task_row)
            created.append(task_row)

        timer_rows = self.session.scalars(
            select(TimerRow).where(TimerRow.instance_id == row.id, TimerRow.state == "waiting")
        ).all()
        seen = set()
        for timer in timer_rows:
            due = dues.get(timer.task_id)
            if due is not None and due == timer.due_at and row.status == "running":
                seen.add(timer.task_id)
                continue
            task = workflow.get_task_from_id(UUID(timer.task_id))
            fired = task is not None and (task.has_state(TaskState.COMPLETED) or due != timer.due_at)
            timer.state = "fired" if fired and row.status != "cancelled" else "cancelled"
            timer.fired_at = at if timer.state == "fired" else None
        for task in waiting:
            task_id, due = str(task.id), dues[str(task.id)]
            if task_id in seen or due is None or row.status != "running":
                continue
            self.session.add(TimerRow(
                instance_id=row.id, task_id=task_id, element_id=task.task_spec.bpmn_id,
                name=task.task_spec.bpmn_name or task.task_spec.bpmn_id, due_at=due, state="waiting",
            ))
        flush(self.session)
        return created


def _is_timer_task(task: Any) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    return definition is not None and is_timer(definition)


def _due_for(task: Any, dues: dict[str, datetime | None]) -> datetime | None:
    """A user task is due when the earliest timer on its boundary is."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    times = [dues.get(str(sibling.id)) for sibling in parent.children if sibling is not task]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def flush(session: Session) -> None:
    """Flush, turning a lost race into a Conflict the caller can report as 409."""
    try:
        session.flush()
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


def json_safe(data: dict[str, Any], field: str = "data") -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(data))
    except (TypeError, ValueError) as error:
        raise InvalidData({field: [f"must be plain JSON data: {error}"]}) from None
    return loaded
