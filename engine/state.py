"""Stored workflow state: SpiffWorkflow's serialization, without the spec.

The spec (the parsed BPMN) is the same for every instance of a definition
version, so it is parsed once per process and cached by the runtime; each
instance stores only its task tree and data. The stored document carries
SpiffWorkflow's serializer version (migrated by SpiffWorkflow on load) and our
own ``state_format`` column, with a migration per format version below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

STATE_FORMAT = 1
"""Our envelope version. Bump it, and add a migration below, when the stored shape changes."""

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""``format n -> function(dict) -> dict in format n+1``."""

_specs: ContextVar[tuple[Any, dict[str, Any]]] = ContextVar("vsw_specs")


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
    """Turns a running workflow into stored text and back, given its spec."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpeclessWorkflowConverter
        self._spiff = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return str(self._spiff.serialize_json(workflow))

    def loads(self, text: str, state_format: int, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = json.loads(text)
        for version in range(state_format, STATE_FORMAT):
            dct = MIGRATIONS[version](dct)
        self._spiff.migrate(dct)
        token = _specs.set((spec, subprocess_specs))
        try:
            workflow: BpmnWorkflow = self._spiff.from_dict(dct)
        finally:
            _specs.reset(token)
        return workflow
