"""Moving running instances of a process to its newest version, where SpiffWorkflow can do so safely.

:func:`plan` is the dry run: for each running instance on an older version, whether it can move and why.
:func:`migrate` moves the movable ones, each checked again when it moves, each as its own step write
(``StepRunner.finish(definition_id=...)``: the same version check as any step, so an instance that
another step changed meanwhile is skipped as a conflict with nothing of it written), in a savepoint of
the caller's transaction, audited as ``instance_migrated``.

Safety rule: every task that is waiting, ready or started must still exist in the new version (same BPMN
id, or aligned by SpiffWorkflow's ``SpecDiff``) with the same type; every task already done must still
exist (the stored state names it); subprocesses under way must still exist. The move itself is
SpiffWorkflow's ``migrate_workflow`` (the specs are swapped and what lies ahead of each waiting task is
predicted again from the new version), after which each waiting task keeps its data and each waiting
timer its due time; a task that the new version puts behind new boundary events (a timer added on it)
is re-entered through them, keeping its id, so its holder and draft stay and the new timer waits.

Cost: :func:`plan` and :func:`migrate` deserialize each instance they look at. They are an
administrator's commands, not lists; the web page shows them a page at a time (``per_page`` at most 100).
See docs/modelling.md, "Moving running cases to a new version".
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .audit import entry
from .clock import Clock, SystemClock
from .errors import Conflict, EngineError, NotFound
from .models import HumanTask, ProcessDefinition, ProcessInstance
from .paging import Page, check_page, cut
from .runtime import ParsedProcess, Runtime
from .state import STATE_FORMAT
from .steps import Loaded, StepRunner, snapshot, task_values, waits
from .timers import TIMER_CONVERTERS, timer_due

BATCH = 200
"""Instances loaded per batch by :func:`plan` and :func:`migrate` when no page is asked for."""

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_REGISTRY = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, **TIMER_CONVERTERS})


@dataclass(frozen=True)
class Verdict:
    """Whether one running instance can move to the newest version, and why."""

    instance_id: int
    business_key: str
    from_version: int
    to_version: int
    can_move: bool
    reason: str


@dataclass
class Result:
    """What :func:`migrate` did: instances moved, refused (with the verdict) and lost to a concurrent step."""

    moved: list[Verdict] = field(default_factory=list)
    refused: list[Verdict] = field(default_factory=list)
    conflicts: list[Verdict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"moved": len(self.moved), "cannot_move": len(self.refused), "conflicts": len(self.conflicts)}


class _CannotMove(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the dry run --------------------------------------------------------------------------------------


def newest(session: Session, process_id: str) -> ProcessDefinition:
    found = session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
                            .order_by(ProcessDefinition.version.desc()).limit(1)).first()
    if found is None:
        raise NotFound(f"No process '{process_id}' has been deployed")
    return found


def _older(process_id: str, target: ProcessDefinition, from_definition_id: int | None) -> Any:
    """Running instances of the process on a version other than ``target``, oldest first (ids in SQL)."""
    query = (select(ProcessInstance.id)
             .where(ProcessInstance.process_id == process_id, ProcessInstance.status == "running",
                    ProcessInstance.definition_id != target.id)
             .order_by(ProcessInstance.id))
    if from_definition_id is not None:
        query = query.where(ProcessInstance.definition_id == from_definition_id)
    return query


def plan_page(session: Session, runtime: Runtime, process_id: str, from_definition_id: int | None = None,
              page: int = 1, per_page: int = 50, clock: Clock | None = None) -> Page[Verdict]:
    """One page of the dry run: running instances on older versions (oldest first), each loaded and judged."""
    target = newest(session, process_id)
    shown = _id_page(session, process_id, target, from_definition_id, page, per_page)
    return Page(judge(session, runtime, shown.items, target, clock), page, per_page, shown.has_next)


def plan_ids(session: Session, process_id: str, from_definition_id: int | None = None, page: int = 1,
             per_page: int = 50) -> list[int]:
    """The ids of the cases on one page of :func:`plan_page` (nothing loaded), for moving that page."""
    target = newest(session, process_id)
    return _id_page(session, process_id, target, from_definition_id, page, per_page).items


def _id_page(session: Session, process_id: str, target: ProcessDefinition, from_definition_id: int | None,
             page: int, per_page: int) -> Page[int]:
    check_page(page, per_page)
    ids = session.scalars(_older(process_id, target, from_definition_id)
                          .offset((page - 1) * per_page).limit(per_page + 1)).all()
    return cut(list(ids), page, per_page)


def plan(session: Session, runtime: Runtime, process_id: str, from_definition_id: int | None = None,
         clock: Clock | None = None) -> list[Verdict]:
    """The whole dry run, loaded :data:`BATCH` instances at a time. Changes nothing."""
    target = newest(session, process_id)
    ids = list(session.scalars(_older(process_id, target, from_definition_id)))
    verdicts: list[Verdict] = []
    for batch in _batches(ids):
        verdicts.extend(judge(session, runtime, batch, target, clock))
    return verdicts


def judge(session: Session, runtime: Runtime, instance_ids: Iterable[int], target: ProcessDefinition,
          clock: Clock | None = None) -> list[Verdict]:
    """A verdict for each instance (in the order given), each moved in memory only: nothing is written."""
    runner = StepRunner(session, runtime)
    moment = (clock or SystemClock()).now()
    verdicts = []
    for instance_id in instance_ids:
        loaded, from_version = _load(runner, instance_id, moment)
        verdicts.append(_attempt(runtime, loaded, from_version, target)[0])
        session.expunge(loaded.row)  # a dry run of thousands of cases keeps no state text in the session
    return verdicts


# -- the move -----------------------------------------------------------------------------------------


def migrate(session: Session, runtime: Runtime, clock: Clock, process_id: str, actor: str,
            instance_ids: Iterable[int] | None = None) -> Result:
    """Move every movable running instance (or those of ``instance_ids``) to the newest version.

    Each is loaded fresh, judged again, and written as one step in a savepoint: a refusal or a lost
    race leaves that instance exactly as it was. Flushes, never commits.
    """
    target = newest(session, process_id)
    if instance_ids is None:
        ids = list(session.scalars(_older(process_id, target, None)))
    else:
        ids = sorted(set(instance_ids))
    runner = StepRunner(session, runtime)
    result = Result()
    for batch in _batches(ids):
        for instance_id in batch:
            _move_one(session, runtime, runner, clock.now(), process_id, target, actor, instance_id, result)
    return result


def _move_one(session: Session, runtime: Runtime, runner: StepRunner, at: datetime, process_id: str,
              target: ProcessDefinition, actor: str, instance_id: int, result: Result) -> None:
    savepoint = session.begin_nested()
    from_version = 0
    try:
        loaded, from_version = _load(runner, instance_id, at)
        if loaded.row.process_id != process_id:
            raise NotFound(f"Process instance {instance_id} is not a case of '{process_id}'")
        verdict, workflow = _attempt(runtime, loaded, from_version, target)
        if not verdict.can_move or workflow is None:
            savepoint.rollback()
            result.refused.append(verdict)
            return
        loaded.workflow = workflow
        loaded.audit.append(entry(at, actor, "instance_migrated", loaded.row,
                                  data={"from_version": from_version, "to_version": target.version}))
        runner.finish(loaded, at, actor, definition_id=target.id)
        _refresh_open_tasks(session, loaded, at)
        savepoint.commit()
        session.expunge(loaded.row)
        result.moved.append(verdict)
    except Conflict:
        savepoint.rollback()
        row = session.get(ProcessInstance, instance_id)
        key = row.business_key if row is not None else ""
        result.conflicts.append(Verdict(instance_id, key, from_version, target.version, False,
                                        "another step changed it at the same time; it was not moved"))
    except EngineError:
        savepoint.rollback()
        raise


def _refresh_open_tasks(session: Session, loaded: Loaded, at: datetime) -> None:
    """An open task that kept its id takes its title, role and due date from the new version."""
    ready, waiting, _ = waits(loaded.workflow)
    if not ready:
        return
    dues = {str(t.id): timer_due(t) for t in waiting}
    rows = session.execute(select(HumanTask.id, HumanTask.title, HumanTask.role, HumanTask.due_at)
                           .where(HumanTask.instance_id == loaded.row.id, HumanTask.state == "open")).all()
    for task_id, title, role, due_at in rows:
        task = ready.get(task_id)
        if task is None:
            continue
        values = task_values(loaded.row, task, dues, at)
        changed = {k: values[k] for k, old in (("title", title), ("role", role), ("due_at", due_at))
                   if values[k] != old}
        if changed:
            session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.state == "open")
                            .values(**changed).execution_options(synchronize_session=False))


# -- judging and moving one workflow in memory ---------------------------------------------------------


def _load(runner: StepRunner, instance_id: int, at: datetime) -> tuple[Loaded, int]:
    loaded = runner.load(instance_id, at)
    version = runner.session.scalar(select(ProcessDefinition.version)
                                    .where(ProcessDefinition.id == loaded.row.definition_id))
    return loaded, int(version or 0)


def _attempt(runtime: Runtime, loaded: Loaded, from_version: int,
             target: ProcessDefinition) -> tuple[Verdict, BpmnWorkflow | None]:
    row = loaded.row

    def verdict(can: bool, reason: str) -> Verdict:
        return Verdict(row.id, row.business_key, from_version, target.version, can, reason)

    if row.status != "running":
        return verdict(False, f"it is {row.status}"), None
    if row.definition_id == target.id:
        return verdict(False, f"version {target.version} is the newest already"), None
    parsed = runtime.spec(target.process_id, target.bpmn_xml, target.filename)
    workflow = loaded.workflow  # moved in memory; written only if the caller finishes the step
    try:
        waits = _move(workflow, parsed, target.version)
        text = runtime.serializer.dumps(workflow)
        check = runtime.serializer.loads(text, STATE_FORMAT, parsed.spec, parsed.subprocess_specs)
        check.script_engine = loaded.scripts
        snapshot(check, "running")
    except _CannotMove as refused:
        return verdict(False, refused.reason), None
    except Exception as error:  # noqa: BLE001 - any failure of SpiffWorkflow here means "cannot move"
        return verdict(False, f"its state does not carry over to version {target.version}: {str(error)[:200]}"), None
    where = "; ".join(waits) if waits else "nothing waiting"
    return verdict(True, f"waits at {where}, which version {target.version} keeps"), workflow


def _label(spec: Any) -> str:
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    return f"'{name}' ({bpmn_id})" if name else f"'{bpmn_id}'"


def _move(workflow: BpmnWorkflow, parsed: ParsedProcess, version: int) -> list[str]:
    """Move ``workflow`` (in memory) onto the parsed new version, or raise :class:`_CannotMove` saying why.
    Returns what the workflow waits at, for the verdict."""
    parts: list[tuple[Any, Any]] = [(workflow, parsed.spec)]
    for sp in workflow.subprocesses.values():
        new_spec = parsed.subprocess_specs.get(sp.spec.name)
        if new_spec is None:
            raise _CannotMove(f"it is inside the subprocess '{sp.spec.name}', which version {version} removed")
        parts.append((sp, new_spec))
    diffs = []
    for part, new_spec in parts:
        spec_diff = SpecDiff(_REGISTRY, part.spec, new_spec)
        diffs.append((part, new_spec, spec_diff, WorkflowDiff(part, spec_diff)))
    waits = []
    for part, _new, spec_diff, _diff in diffs:
        for task in part.get_tasks(skip_subprocesses=True):
            _check_task(task, spec_diff, version)
            if task.has_state(TaskState.READY | TaskState.WAITING) and getattr(task.task_spec, "bpmn_id", None):
                if task.task_spec.manual or task.has_state(TaskState.WAITING):
                    waits.append(_label(task.task_spec))
    kept = {}
    for part, _new, _spec_diff, _wf_diff in diffs:
        for task in part.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True):
            kept[task.id] = (copy.deepcopy(task.data), copy.deepcopy(task.internal_data))
    for part, new_spec, _spec_diff, wf_diff in diffs:
        migrate_workflow(wf_diff, part, new_spec)
    for part, _new, _spec_diff, _wf_diff in diffs:
        for task in list(part.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True)):
            if task.id in kept:
                _enter_again(part, task, kept[task.id], version)
        for task in part.get_tasks(skip_subprocesses=True):
            if task.task_spec is not part.spec.task_specs.get(task.task_spec.name):
                raise _CannotMove(f"{_label(task.task_spec)} is still to come, and version {version} removed it")
    return waits


def _check_task(task: Any, spec_diff: SpecDiff, version: int) -> None:
    """The safety rule for one task of the stored tree."""
    spec = task.task_spec
    aligned = spec_diff.alignment.get(spec)
    if task.has_state(_ACTIVE):
        if aligned is None:
            raise _CannotMove(f"waits at {_label(spec)}, which version {version} removed")
        if "typename" in spec_diff.comparisons.get(spec, []):
            raise _CannotMove(f"task {_label(spec)} changed type in version {version} "
                              f"({type(spec).__name__} to {type(aligned).__name__})")
    elif task.has_state(TaskState.FINISHED_MASK) and aligned is None:
        if isinstance(spec, BoundaryEventSplit) or spec.name.endswith(".BoundaryEventJoin"):
            raise _CannotMove(f"version {version} changed the events on a task it is at or has passed "
                              f"({spec.name.rsplit('.', 1)[0]})")
        raise _CannotMove(f"it has passed {_label(spec)}, which version {version} removed")


def _enter_again(workflow: Any, task: Any, kept: tuple[dict[str, Any], dict[str, Any]], version: int) -> None:
    """After the move: give a waiting task back its data (and a timer its due time), and if the new version
    reaches it through new boundary events (a timer added on it), enter it through them, keeping its id."""
    data, internal = kept
    parent = task.parent
    if parent is not None and parent.has_state(TaskState.COMPLETED) and task.task_spec not in parent.task_spec.outputs:
        split = next((o for o in parent.task_spec.outputs
                      if isinstance(o, BoundaryEventSplit) and task.task_spec in o.outputs), None)
        if split is None:
            raise _CannotMove(f"the way into {_label(task.task_spec)} changed in version {version}")
        task_id, task_spec = task.id, task.task_spec
        workflow._remove_task(task.id)
        split_task = parent._add_child(split, TaskState.FUTURE)
        split._predict(split_task, mask=TaskState.NOT_FINISHED_MASK)
        main = next(c for c in split_task.children if c.task_spec is task_spec)
        _rename(workflow, main, task_id)
        split._update(split_task)
        split_task.run()
        task = workflow.get_task_from_id(task_id)
        task.data = data
        return
    task.data = data
    if task.has_state(TaskState.WAITING):
        task.internal_data = internal  # a waiting timer keeps the due time it was given


def _rename(workflow: Any, task: Any, new_id: Any) -> None:
    """Give a task of the tree another id (SpiffWorkflow links parents and children by id)."""
    old_id = task.id
    children = task.children
    del workflow.tasks[old_id]
    task.id = new_id
    workflow.tasks[new_id] = task
    parent = task.parent
    if parent is not None:
        parent._children[parent._children.index(old_id)] = new_id
    for child in children:
        child._parent = new_id


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]
