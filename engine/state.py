"""Stored workflow state: SpiffWorkflow's serialization, without the spec.

The spec (the parsed BPMN) is the same for every instance of a definition
version, so it is parsed once per process and cached by the runtime; each
instance stores only its task tree and data. The stored document carries
SpiffWorkflow's serializer version (migrated by SpiffWorkflow on load) and our
own ``state_format`` column, with a migration per format version below.

The day the stored shape changes: bump :data:`STATE_FORMAT` to ``n + 1``, add
``MIGRATIONS[n]`` (a function from a format-``n`` document to a format-``n + 1``
one), keep the golden files of ``tests/engine/golden/`` as they are (they are the
old format now, and their test proves the migration) and add new ones at the new
format (``python -m tests.engine.golden.cases``). See docs/engine.md, "Stored state".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .errors import EngineError
from .timers import TIMER_CONVERTERS

STATE_FORMAT = 1
"""Our envelope version. Bump it, and add a migration below, when the stored shape changes."""

Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
"""``format n -> function(dict in format n) -> dict in format n + 1``. None yet: format 1 is the first."""

_specs: ContextVar[tuple[Any, dict[str, Any]]] = ContextVar("vsw_specs")


class StateFormatError(EngineError):
    """Stored state this code cannot read: a format with no migration, or newer than the code."""

    status = 500


def migrate(document: dict[str, Any], state_format: int, *, current: int | None = None,
            migrations: Mapping[int, Migration] | None = None) -> dict[str, Any]:
    """Bring a stored document from ``state_format`` up to ``current`` (today's format), one format at a time."""
    target = STATE_FORMAT if current is None else current
    steps = MIGRATIONS if migrations is None else migrations
    if state_format > target:
        raise StateFormatError(
            f"stored state is in format {state_format}, newer than this code's format {target}: run the newer code")
    for version in range(state_format, target):
        step = steps.get(version)
        if step is None:
            raise StateFormatError(
                f"stored state is in format {state_format}, and there is no migration from format {version} "
                f"to {version + 1} (engine.state.MIGRATIONS)")
        document = step(document)
    return document


def connect_loop_merges(spec: Any) -> None:
    """Connect each loop or multi-instance task to the completion of its child, once, when a spec is parsed.

    SpiffWorkflow makes this connection when a loop creates its first child, or when it
    deserializes a spec. We store no spec: we parse it, once per process, so without this a
    multi-instance whose children were created in another process (another web worker, the
    scheduler, or before a restart) never merges them and never completes.
    """
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> Any:
        spec, subprocess_specs = _specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Turns a running workflow into stored text and back, given its spec.

    SpiffWorkflow's serializer registry (its Spiff configuration) with two entries of
    ours: the workflow converter that leaves the spec out, and the clocked timers (an
    event-based gateway stores the timer event it caught in its task's ``internal_data``).
    """

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpeclessWorkflowConverter
        config.update(TIMER_CONVERTERS)
        self._spiff = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return str(self._spiff.serialize_json(workflow))

    def loads(self, text: str, state_format: int, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = migrate(json.loads(text), state_format)
        self._spiff.migrate(dct)
        token = _specs.set((spec, subprocess_specs))
        try:
            workflow: BpmnWorkflow = self._spiff.from_dict(dct)
        finally:
            _specs.reset(token)
        return workflow
