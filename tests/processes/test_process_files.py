"""Every BPMN file in ``processes/``: it validates, opens cleanly in a modeller (every
element drawn, nothing overlapping), its user tasks line up with lanes and forms, and
the engine deploys it (which checks every expression through the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from casework.schoolyear import SCRIPT_FUNCTIONS
from casework.terms import default_term_calendar
from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.runtime import Runtime
from engine.service import WorkflowService
from processes import PROCESS_DIR
from processes.forms import FORMS

BPMN_FILES = sorted(PROCESS_DIR.glob("*.bpmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_TAGS = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway",
)
CONTAINER_TAGS = ("subProcess", "lane", "participant")

files = pytest.mark.parametrize("path", BPMN_FILES, ids=[p.stem for p in BPMN_FILES])


def document(path: Path) -> etree._ElementTree:
    return etree.parse(str(path))


def ids(doc: etree._ElementTree, *tags: str) -> set[str]:
    return {str(e.get("id")) for tag in tags for e in doc.iterfind(f".//bpmn:{tag}", NS)}


def lane_of(doc: etree._ElementTree) -> dict[str, str]:
    return {str(ref.text): str(ref.getparent().get("name")) for ref in doc.iterfind(".//bpmn:flowNodeRef", NS)}


def runtime() -> Runtime:
    return Runtime(forms=FORMS, calendar=BusinessCalendar(default_term_calendar()), functions=SCRIPT_FUNCTIONS)


def test_the_process_directory_holds_the_placement_move() -> None:
    assert PROCESS_DIR / "placement_move.bpmn" in BPMN_FILES


@files
def test_file_validates_against_the_bpmn_schema_with_one_executable_process_named_after_it(path: Path) -> None:
    parsed = runtime().parse(path.read_text(encoding="utf-8"), path.name)  # XSD validation, then parse
    executable = [p.get("id") for p in document(path).iterfind("bpmn:process", NS) if p.get("isExecutable") == "true"]
    assert executable == [path.stem]
    assert set(parsed) == {path.stem}


@files
def test_every_flow_node_lane_and_participant_has_a_shape_and_every_flow_an_edge(path: Path) -> None:
    doc = document(path)
    shapes = {s.get("bpmnElement") for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = ids(doc, *FLOW_NODE_TAGS)
    assert nodes
    assert nodes - shapes == set()
    assert ids(doc, "lane", "participant") - shapes == set()
    assert ids(doc, "sequenceFlow") - set(edges) == set()
    for flow_id, edge in edges.items():
        assert len(edge.findall("di:waypoint", NS)) >= 2, flow_id


@files
def test_no_two_tasks_events_or_gateways_overlap_in_the_diagram(path: Path) -> None:
    doc = document(path)
    skipped = ids(doc, *CONTAINER_TAGS) | ids(doc, "boundaryEvent")
    boxes = {}
    for shape in doc.iterfind(".//bpmndi:BPMNShape", NS):
        if shape.get("bpmnElement") in skipped:
            continue
        b = shape.find("dc:Bounds", NS)
        boxes[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    names = sorted(boxes)
    for i, a in enumerate(names):
        ax, ay, aw, ah = boxes[a]
        for b in names[i + 1:]:
            bx, by, bw, bh = boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)


@files
def test_every_shape_in_a_lane_is_drawn_inside_that_lanes_band(path: Path) -> None:
    doc = document(path)
    bounds = {
        s.get("bpmnElement"): tuple(float(s.find("dc:Bounds", NS).get(k)) for k in ("x", "y", "width", "height"))
        for s in doc.iterfind(".//bpmndi:BPMNShape", NS)
    }
    for lane in doc.iterfind(".//bpmn:lane", NS):
        _, top, _, height = bounds[lane.get("id")]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            _, y, _, h = bounds[ref.text]
            middle = y + h / 2
            assert top <= middle <= top + height, (lane.get("name"), ref.text)


@files
def test_every_user_task_is_in_a_lane_has_documentation_and_a_form_and_every_form_a_task(path: Path) -> None:
    doc = document(path)
    lanes = lane_of(doc)
    user_tasks = {task.get("id"): task for task in doc.iterfind(".//bpmn:userTask", NS)}
    forms = FORMS.get(path.stem, {})
    for task_id, task in user_tasks.items():
        assert task_id in lanes, f"{task_id} is in no lane"
        assert (task.findtext("bpmn:documentation", namespaces=NS) or "").strip(), f"{task_id} has no documentation"
        assert task_id in forms, f"{task_id} has no form in processes/forms/{path.stem}.py"
    assert set(forms) == set(user_tasks)


@files
def test_no_embedded_subprocess_is_listed_in_a_lane(path: Path) -> None:
    doc = document(path)
    assert ids(doc, "subProcess") & set(lane_of(doc)) == set()


@files
def test_the_engine_sees_each_user_task_in_the_lane_it_is_drawn_in(path: Path) -> None:
    process = runtime().parse(path.read_text(encoding="utf-8"), path.name)[path.stem]
    specs = [process.spec, *process.subprocess_specs.values()]
    seen = {t.bpmn_id: t.lane for spec in specs for t in spec.task_specs.values() if t.manual}
    drawn = lane_of(document(path))
    assert seen == {task_id: drawn[task_id] for task_id in seen}


@files
def test_the_engine_deploys_the_file(path: Path, factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        definitions = WorkflowService(session, clock, runtime()).deploy_file(path)
    assert [(d.process_id, d.version) for d in definitions] == [(path.stem, 1)]
