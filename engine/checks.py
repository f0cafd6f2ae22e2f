"""What a BPMN file must satisfy before it is deployed, beyond the BPMN schema.

:func:`executable_process_ids` picks the processes of a file to deploy, and
:func:`check_spec` refuses a parsed process, naming file, element and problem, if

- a task a person completes (user task, manual task, plain ``task``) is in no lane,
  so no role could be given it (see :func:`human_task_kind`);
- any script or expression the engine would run is refused by the sandbox
  (:func:`engine.sandbox.check_source`): scripts, pre- and post-scripts, gateway
  conditions, timer, conditional-event, message, signal, error and escalation
  expressions, message correlation expressions, loop conditions, multi-instance
  cardinality and completion conditions, service-task parameters and an ad hoc
  subprocess's completion condition;
- a multi-instance collection or item is not a plain data name.

Everything here runs at deploy, so a refused construct never reaches a running instance.
See docs/modelling.md.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from typing import Any, NamedTuple

from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

from .errors import DeploymentError, ScriptRefused
from .sandbox import check_source

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}

SCRIPT, EXPRESSION, DATA_NAME = "exec", "eval", "name"


class Source(NamedTuple):
    """Something in a task spec the engine runs or uses as a name: what it is, its text, its kind."""

    what: str
    text: Any
    kind: str = EXPRESSION


# -- which processes of a file run -----------------------------------------------------------------

def executable_process_ids(bpmn_xml: str, filename: str) -> list[str]:
    """The ids of the processes of a file to deploy, or DeploymentError saying why there are none.

    The processes marked ``isExecutable="true"``; if none is, the file's one process that
    has no ``isExecutable`` attribute (BPMN makes it optional). A process marked
    ``isExecutable="false"`` is never deployed.
    """
    root = etree.fromstring(bpmn_xml.encode("utf-8"))
    processes = [(str(p.get("id")), p.get("isExecutable")) for p in root.findall("bpmn:process", BPMN_NS)]
    marked = [pid for pid, flag in processes if flag == "true"]  # as SpiffWorkflow reads it
    if marked:
        return marked
    unmarked = [pid for pid, flag in processes if flag is None]
    if len(unmarked) == 1:
        return unmarked
    if not unmarked:
        raise DeploymentError(f'{filename}: no executable process (isExecutable="true") found')
    names = ", ".join(f"'{pid}'" for pid in unmarked)
    raise DeploymentError(
        f"{filename}: no executable process: the processes {names} have no isExecutable attribute, "
        'so mark the one to run isExecutable="true"'
    )


# -- human tasks -------------------------------------------------------------------------------------

def human_task_kind(task_spec: Any) -> str | None:
    """What a person does at this task spec ("user task", "manual task", "task"), or None if the
    engine runs it. A human task opens in the inbox for its lane's role (``engine.steps.bound_role``)."""
    if not getattr(task_spec, "manual", False):
        return None
    if isinstance(task_spec, UserTask):
        return "user task"
    if isinstance(task_spec, ManualTask):
        return "manual task"
    if isinstance(task_spec, NoneTask):
        return "task"
    return "human task"


# -- the checks --------------------------------------------------------------------------------------

def check_spec(spec: Any, filename: str) -> None:
    """Refuse a parsed process (or subprocess) spec with a one-line DeploymentError naming file,
    element and problem; return quietly if it may be deployed."""
    if isinstance(spec, AdHocSubprocessSpec):
        _check(filename, str(spec.name), Source("completion condition", spec.completion_condition))
    for task_spec in spec.task_specs.values():
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        kind = human_task_kind(task_spec)
        if kind is not None and not task_spec.lane:
            raise DeploymentError(f"{filename}: element '{element}': {kind} is not in a lane, so no role may do it")
        for source in sources(task_spec):
            _check(filename, element, source)


def _check(filename: str, element: str, source: Source) -> None:
    if source.text is None:
        return
    if source.kind == DATA_NAME:
        name = source.text
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise DeploymentError(
                f"{filename}: element '{element}': {source.what}: '{name}' is not a data name "
                "(letters, digits and underscores, not starting with an underscore)"
            )
        return
    try:
        check_source(str(source.text), source.kind)
    except ScriptRefused as refused:
        raise DeploymentError(f"{filename}: element '{element}': {source.what}: {refused.message}") from None


def sources(task_spec: Any) -> list[Source]:
    """Every script, expression and data name of one task spec that the engine runs or uses."""
    found: list[Source] = []
    script = getattr(task_spec, "script", None)
    if isinstance(script, str):
        found.append(Source("script", script, SCRIPT))
    for attr in ("prescript", "postscript"):
        extra = getattr(task_spec, attr, None)
        if isinstance(extra, str) and extra.strip():
            found.append(Source(attr, extra, SCRIPT))
    for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
        if condition is not None and condition.args:
            found.append(Source("condition", condition.args[0]))
    found.extend(_event_sources(getattr(task_spec, "event_definition", None)))
    found.extend(_loop_sources(task_spec))
    for name, parameter in (getattr(task_spec, "operation_params", None) or {}).items():
        if isinstance(parameter, dict):
            found.append(Source(f"service task parameter '{name}'", parameter.get("value")))
    return [source for source in found if source.text is not None]


_PAYLOADS: tuple[tuple[type[Any], str], ...] = (
    (MessageEventDefinition, "message payload"),
    (SignalEventDefinition, "signal payload"),
    (ErrorEventDefinition, "error payload"),
    (EscalationEventDefinition, "escalation payload"),
)


def _event_sources(definition: Any) -> Iterator[Source]:
    if definition is None:
        return
    if isinstance(definition, MultipleEventDefinition):
        for each in definition.event_definitions:
            yield from _event_sources(each)
        return
    expression = getattr(definition, "expression", None)
    if isinstance(definition, TimerEventDefinition):
        yield Source("timer expression", expression)
    elif isinstance(definition, ConditionalEventDefinition):
        yield Source("conditional event expression", expression)
    else:
        what = next((label for cls, label in _PAYLOADS if isinstance(definition, cls)), "event expression")
        yield Source(what, expression)
    for prop in getattr(definition, "correlation_properties", None) or []:
        yield Source(f"correlation property '{prop.name}'", prop.retrieval_expression)
    for prop in getattr(definition, "process_correlations", None) or []:
        yield Source(f"process variable correlation '{prop.name}'", prop.retrieval_expression)


def _loop_sources(task_spec: Any) -> Iterator[Source]:
    if isinstance(task_spec, StandardLoopTask):
        yield Source("loop condition", task_spec.condition)
    elif isinstance(task_spec, MultiInstanceTask):
        yield Source("loop cardinality", task_spec.cardinality)
        yield Source("completion condition", task_spec.condition)
        for what, data in (("loop input collection", task_spec.data_input),
                           ("loop output collection", task_spec.data_output),
                           ("input data item", task_spec.input_item),
                           ("output data item", task_spec.output_item)):
            if data is not None:
                yield Source(what, getattr(data, "bpmn_id", None) or "", DATA_NAME)
