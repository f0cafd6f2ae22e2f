"""The way an instance has come through its process, for the diagram on the instance page (web/instances.py); no Flask, no domain.

The audit trail records the steps a process stops at (a task completed, a timer fired, a message
received) and the tables say where it waits now (open tasks, waiting timers, message waits): these are
the **anchors**, kept to the steps the reader reads. Between two anchors the engine runs what does not
wait (gateways, scripts, throw events) without recording it, so a flow is marked only when it lies on a
path from a passed anchor to another anchor through elements that do not wait. An element that waits and
is not an anchor (a task not reached, or one the reader may not read) stops a path, so nothing is marked
beyond what the reader reads.

The BPMN alone cannot say which way a gateway went when its ways meet again (a planned move and an
emergency one both reach the same task), so the instance's own task tree (:func:`trail`, loaded for the
one instance shown, never saved) narrows the paths to the steps that really ran. Without it, a gateway
that leads straight to two end events cannot say which was reached: then no end event is marked.

Read with lxml (no entities, no network), parsed once per definition version and process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.util.task import TaskState

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"

PASS_THROUGH = frozenset({
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
    "scriptTask", "serviceTask", "sendTask", "businessRuleTask", "task", "intermediateThrowEvent",
    "endEvent", "startEvent", "subProcess", "transaction",
})
"""Elements the engine runs through without waiting (a start event inside a subprocess is entered from it)."""

FLOW_NODES = PASS_THROUGH | {
    "userTask", "manualTask", "receiveTask", "callActivity", "intermediateCatchEvent", "boundaryEvent",
}
CONTAINERS = frozenset({"subProcess", "transaction"})


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str


@dataclass
class Graph:
    """One process of a BPMN document: its flow nodes (id -> kind), flows, and how subprocesses nest."""

    kinds: dict[str, str] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)
    """The process's own start events without an event definition (where every instance begins)."""
    ends: list[str] = field(default_factory=list)
    """The process's own end events (not those inside a subprocess)."""
    entries: list[tuple[str, str]] = field(default_factory=list)
    """(subprocess, its start event) and (an end event inside it, the subprocess's exit): how a path goes in
    and out. A subprocess is two nodes, so that a path never runs from its end back to its start."""
    catchers: dict[str, list[str]] = field(default_factory=dict)
    """A message's name -> the events and receive tasks that catch it."""


@dataclass(frozen=True)
class Path:
    flows: list[str]
    """The sequence flows taken, in document order."""
    through: list[str]
    """The elements passed that no entry records: the start, gateways, scripts, an end (no subprocess)."""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _parse(bpmn_xml: str) -> etree._Element | None:
    try:
        return etree.fromstring(bpmn_xml.encode("utf-8"),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return None


@lru_cache(maxsize=64)
def has_drawing(bpmn_xml: str) -> bool:
    """The document has diagram layout (BPMN DI) to draw: a plane with at least one shape (a deployed
    version never changes, so each is read once)."""
    root = _parse(bpmn_xml)
    return root is not None and root.find(f".//{{{BPMNDI}}}BPMNPlane/{{{BPMNDI}}}BPMNShape") is not None


def graph(bpmn_xml: str, process_id: str) -> Graph:
    """The flow graph of ``process_id`` in a BPMN document (empty if the document or process is not there)."""
    found = Graph()
    root = _parse(bpmn_xml)
    if root is None:
        return found
    process = next((p for p in root.iter(f"{{{BPMN}}}process") if p.get("id") == process_id), None)
    if process is None:
        return found
    messages = {str(m.get("id")): str(m.get("name") or m.get("id")) for m in root.iter(f"{{{BPMN}}}message")}
    for element in process.iter():
        kind, element_id = _local(element), element.get("id")
        if element.tag == f"{{{BPMN}}}sequenceFlow" and element_id:
            found.flows.append(Flow(element_id, str(element.get("sourceRef")), str(element.get("targetRef"))))
            continue
        if kind not in FLOW_NODES or not element_id:
            continue
        found.kinds[element_id] = kind
        parent = element.getparent()
        inside = parent is not None and _local(parent) in CONTAINERS
        definitions = [_local(d) for d in element if _local(d).endswith("EventDefinition")]
        if kind == "startEvent" and inside and parent is not None:
            found.entries.append((str(parent.get("id")), element_id))
        elif kind == "startEvent" and not definitions:
            found.starts.append(element_id)
        elif kind == "endEvent" and inside and parent is not None:
            found.entries.append((element_id, exit_of(str(parent.get("id")))))
        elif kind == "endEvent":
            found.ends.append(element_id)
        message = element.find(f"{{{BPMN}}}messageEventDefinition")
        reference = message.get("messageRef") if message is not None else element.get("messageRef")
        if reference and kind in ("intermediateCatchEvent", "boundaryEvent", "receiveTask", "startEvent"):
            found.catchers.setdefault(messages.get(reference, reference), []).append(element_id)
    return found


def exit_of(container: str) -> str:
    """The node a subprocess is left by (its own id is the node it is entered by)."""
    return f"{container}#exit"


_GRAPHS: dict[tuple[str, str], Graph] = {}


def cached_graph(content_sha256: str, bpmn_xml: str, process_id: str) -> Graph:
    """:func:`graph`, parsed once per definition version (a deployed version never changes)."""
    key = (content_sha256, process_id)
    if key not in _GRAPHS:
        if len(_GRAPHS) >= 64:
            _GRAPHS.clear()
        _GRAPHS[key] = graph(bpmn_xml, process_id)
    return _GRAPHS[key]


def _walk(start: Iterable[str], edges: dict[str, list[str]], passable: set[str]) -> set[str]:
    """Every node reached from ``start`` along ``edges``, going on only through ``passable`` nodes."""
    seen: set[str] = set()
    queue = deque(start)
    while queue:
        for following in edges.get(queue.popleft(), []):
            if following not in seen:
                seen.add(following)
                if following in passable:
                    queue.append(following)
    return seen


@dataclass(frozen=True)
class Trail:
    """What the engine's own record of an instance (its SpiffWorkflow task tree) says ran: each (element,
    element after it) a token went along, the elements that ran, and those a token waits at (a join)."""

    steps: frozenset[tuple[str, str]] = frozenset()
    ran: frozenset[str] = frozenset()
    waiting: frozenset[str] = frozenset()


def trail(workflow: Any) -> Trail:
    """The :class:`Trail` of a loaded workflow (its own tree and every subprocess's). A step is an element
    that ran followed by one a token reached: ready, waiting, run, or cancelled after it was reached (the
    branch of a join that another branch finished, a task its boundary event interrupted), but not the
    catch events an event-based gateway armed and did not take."""
    ran_mask = TaskState.COMPLETED | TaskState.STARTED
    live_mask = ran_mask | TaskState.READY | TaskState.WAITING
    steps: set[tuple[str, str]] = set()
    ran: set[str] = set()
    waiting: set[str] = set()
    for tree in [workflow, *workflow.subprocesses.values()]:
        for task in tree.get_tasks():
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element or not task.state & (live_mask | TaskState.CANCELLED):
                continue
            if task.state & live_mask:
                (ran if task.state & ran_mask else waiting).add(element)
            parent = task.parent
            while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
                parent = parent.parent  # past the engine's own specs (a boundary event's split and join)
            if parent is None or not parent.state & ran_mask:
                continue
            armed_only = task.state & TaskState.CANCELLED and isinstance(parent.task_spec, EventBasedGateway)
            if not armed_only:
                steps.add((str(parent.task_spec.bpmn_id), str(element)))
    return Trail(frozenset(steps), frozenset(ran), frozenset(waiting))


def taken(found: Graph, passed: Iterable[str], waiting: Iterable[str] = (), *, path: Trail | None = None,
          ended: bool = False) -> Path:
    """The flows taken between the anchors: ``passed`` (elements the reader reads that the instance has
    passed, and the start) and ``waiting`` (where it waits now: a path ends there), and the elements passed
    on the way. With the engine's ``path``, only what it says ran (exact where a gateway's choices meet
    again), and a join or gateway a token waits at counts as waiting too. Without it, ``ended``
    (the instance finished) marks an end event if only one can have been reached."""
    sources = {a for a in passed if a in found.kinds} | set(found.starts)
    containers = {n for n, kind in found.kinds.items() if kind in CONTAINERS}
    marks = sources | {a for a in waiting if a in found.kinds}
    if path is not None:  # a join or a gateway a token waits at, but not a subprocess (it is gone through)
        marks |= {n for n in path.waiting if found.kinds.get(n) in PASS_THROUGH - CONTAINERS}
    forward: dict[str, list[str]] = {}
    backward: dict[str, list[str]] = {}
    edges = [(exit_of(f.source) if f.source in containers else f.source, f.target) for f in found.flows]
    for source, target in edges + found.entries:
        forward.setdefault(source, []).append(target)
        backward.setdefault(target, []).append(source)
    passable = ({n for n, kind in found.kinds.items() if kind in PASS_THROUGH} | {exit_of(c) for c in containers}) - marks
    ahead = _walk(sources, forward, passable)
    ends = [e for e in found.ends if e in ahead and (path is None or e in path.ran)]
    if ends and (path is not None or (ended and len(ends) == 1)):
        sources |= set(ends if path is not None else ends[:1])
        marks |= sources
        passable -= marks
    behind = _walk(marks, backward, passable)
    on_path = marks | (ahead & behind & passable)
    going = sources | (on_path & passable)
    flows = [f.id for f, (source, _) in zip(found.flows, edges, strict=True)
             if source in going and f.target in on_path
             and (path is None or (f.source, f.target) in path.steps)]
    through = [n for n in found.kinds if n in on_path and found.kinds[n] in PASS_THROUGH - CONTAINERS
               and (path is None or n in path.ran)]
    return Path(flows, through)
