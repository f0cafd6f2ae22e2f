"""The placement_move BPMN file: it validates, it draws, its lanes and forms line up,
and bare SpiffWorkflow walks it the way the statutory guidance expects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from lxml import etree
from marshmallow import ValidationError
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as CoreMessageEventDefinition,
)
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from processes import PROCESS_DIR
from processes.forms import FORMS
from processes.forms.placement_move import ArrangeSchoolPlace, SignOffMove

BPMN_FILE = PROCESS_DIR / "placement_move.bpmn"
PROCESS_ID = "placement_move"
ROLES = {"social_worker", "vsh", "manager"}
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
}
FLOW_NODE_TAGS = (
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "scriptTask",
    "serviceTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
)
EXPECTED_LANES = {
    "propose_move": "social_worker",
    "confirm_care_placement": "social_worker",
    "arrange_school_place": "social_worker",
    "escalate_no_school_place": "manager",
    "record_vsh_views": "vsh",
    "sign_off_move": "manager",
}
PROPOSED_AT = "2025-01-06T09:00:00+00:00"
FAR_FUTURE = "2999-01-01T00:00:00+00:00"
LONG_AGO = "2000-01-01T00:00:00+00:00"

FORM_DATA: dict[str, dict[str, Any]] = {
    "propose_move": {
        "reason": "placement_breakdown",
        "planned_move_date": "2025-01-20",
        "emergency": False,
        "childs_wishes": "Wants to stay near her brother.",
    },
    "confirm_care_placement": {
        "placement_type": "foster_care",
        "placement_start_date": "2025-01-20",
        "in_area": True,
        "carer_name": "Mr and Mrs Ahmed",
    },
    "arrange_school_place": {
        "school_urn": "123456",
        "school_name": "Riverside Academy",
        "discussion_with_designated_teacher_held": True,
        "place_confirmed_date": "2025-01-15",
    },
    "escalate_no_school_place": {"decision": "start_direction", "notes": "Consult the school today."},
    "record_vsh_views": {"views": "Riverside can meet her needs.", "supports_move": True},
    "sign_off_move": {"decision": "approve"},
}


# --- helpers -------------------------------------------------------------------


def parse() -> SpiffBpmnParser:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser


def document() -> etree._ElementTree:
    return etree.parse(str(BPMN_FILE))


def user_task_ids() -> set[str]:
    return {node.get("id") for node in document().iterfind(".//bpmn:userTask", NS)}


def engine(deadline: Callable[..., str] = lambda *args: FAR_FUTURE) -> PythonScriptEngine:
    """A default script engine with stand-ins for the calendar functions the BPMN calls."""
    return PythonScriptEngine(
        environment=TaskDataEnvironment(
            {
                "add_school_days": deadline,
                "add_working_days": lambda *args: FAR_FUTURE,
                "now": lambda: datetime(2025, 1, 10, 12, 0, tzinfo=UTC).isoformat(),
            }
        )
    )


def start(script_engine: PythonScriptEngine | None = None) -> BpmnWorkflow:
    parser = parse()
    workflow = BpmnWorkflow(
        parser.get_spec(PROCESS_ID),
        parser.get_subprocess_specs(PROCESS_ID),
        script_engine=script_engine or engine(),
    )
    start_task = workflow.get_tasks(state=TaskState.READY)[0]
    start_task.data.update({"move_proposed_at": PROPOSED_AT, "school_place_limit_school_days": 15})
    workflow.do_engine_steps()
    return workflow


def ready(workflow: BpmnWorkflow) -> set[tuple[str, str]]:
    """The ready human tasks as (task id, lane)."""
    return {
        (t.task_spec.bpmn_id, t.task_spec.lane)
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
    }


def complete(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any] | None = None) -> None:
    [task] = [
        t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == task_id
    ]
    form = FORMS[PROCESS_ID][task_id]()
    task.data.update(form.dump(form.load(FORM_DATA[task_id] if data is None else data)))
    task.run()
    workflow.do_engine_steps()


def reached_end_events(workflow: BpmnWorkflow) -> set[str]:
    return {
        t.task_spec.bpmn_name
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if type(t.task_spec).__name__ == "EndEvent"
    }


# --- the file ------------------------------------------------------------------


def test_file_validates_against_the_bpmn_schema_and_parses_with_its_subprocess() -> None:
    parser = parse()
    spec = parser.get_spec(PROCESS_ID)
    subprocesses = parser.get_subprocess_specs(PROCESS_ID)
    assert spec.description == "Care placement move"
    assert set(subprocesses) == {"arrange_move"}


def test_every_flow_node_has_a_shape_and_every_sequence_flow_an_edge() -> None:
    doc = document()
    nodes = {n.get("id") for tag in FLOW_NODE_TAGS for n in doc.iterfind(f".//bpmn:{tag}", NS)}
    flows = {f.get("id") for f in doc.iterfind(".//bpmn:sequenceFlow", NS)}
    lanes = {lane.get("id") for lane in doc.iterfind(".//bpmn:lane", NS)}
    participants = {p.get("id") for p in doc.iterfind(".//bpmn:participant", NS)}
    shapes = {s.get("bpmnElement") for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert nodes and flows
    assert nodes | lanes | participants <= shapes
    assert flows <= edges
    for edge in doc.iterfind(".//bpmndi:BPMNEdge", NS):
        assert len(edge.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2


def test_no_two_tasks_events_or_gateways_overlap_in_the_diagram() -> None:
    doc = document()
    containers = {
        e.get("id")
        for tag in ("subProcess", "lane", "participant")
        for e in doc.iterfind(f".//bpmn:{tag}", NS)
    }
    attached = {b.get("id") for b in doc.iterfind(".//bpmn:boundaryEvent", NS)}
    boxes = {}
    for shape in doc.iterfind(".//bpmndi:BPMNShape", NS):
        element = shape.get("bpmnElement")
        if element in containers or element in attached:
            continue
        b = shape.find("dc:Bounds", NS)
        boxes[element] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    names = sorted(boxes)
    for i, a in enumerate(names):
        ax, ay, aw, ah = boxes[a]
        for b in names[i + 1 :]:
            bx, by, bw, bh = boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)


def test_every_user_task_lies_in_a_role_lane_and_has_a_form() -> None:
    doc = document()
    lane_of = {ref.text: ref.getparent().get("name") for ref in doc.iterfind(".//bpmn:flowNodeRef", NS)}
    assert {lane.get("name") for lane in doc.iterfind(".//bpmn:lane", NS)} == ROLES
    for task_id in user_task_ids():
        assert lane_of.get(task_id) in ROLES, task_id
        assert task_id in FORMS[PROCESS_ID], task_id


def test_every_form_key_names_a_real_user_task() -> None:
    assert set(FORMS[PROCESS_ID]) == user_task_ids()


def test_the_engine_sees_each_user_task_in_its_own_lane_even_inside_the_subprocess() -> None:
    # SpiffWorkflow gives every task in an embedded subprocess the subprocess's lane if
    # the subprocess itself is listed in a lane; it must not be.
    parser = parse()
    specs = [parser.get_spec(PROCESS_ID), *parser.get_subprocess_specs(PROCESS_ID).values()]
    lanes = {t.bpmn_id: t.lane for spec in specs for t in spec.task_specs.values() if t.manual}
    drawn_in = {
        ref.text: ref.getparent().get("name") for ref in document().iterfind(".//bpmn:flowNodeRef", NS)
    }
    assert lanes == {task_id: drawn_in[task_id] for task_id in lanes}
    assert lanes == EXPECTED_LANES


def test_school_place_timer_reads_the_proposal_time_and_the_councils_limit_in_school_days() -> None:
    timer = document().find(".//bpmn:boundaryEvent[@id='school_place_deadline']", NS)
    assert timer.get("cancelActivity") == "false"
    assert timer.get("attachedToRef") == "arrange_school_place"
    assert timer.findtext(".//bpmn:timeDate", namespaces=NS) == (
        "add_school_days(move_proposed_at, school_place_limit_school_days)"
    )


# --- the forms -----------------------------------------------------------------


def test_arrange_school_place_refuses_a_five_digit_urn_naming_the_field() -> None:
    data = dict(FORM_DATA["arrange_school_place"], school_urn="12345")
    with pytest.raises(ValidationError) as refused:
        ArrangeSchoolPlace().load(data)
    assert set(refused.value.messages) == {"school_urn"}


def test_arrange_school_place_refuses_a_place_without_the_designated_teacher_discussion() -> None:
    data = dict(FORM_DATA["arrange_school_place"], discussion_with_designated_teacher_held=False)
    with pytest.raises(ValidationError) as refused:
        ArrangeSchoolPlace().load(data)
    assert set(refused.value.messages) == {"discussion_with_designated_teacher_held"}


def test_sign_off_refuses_a_refusal_without_a_reason_naming_reason() -> None:
    with pytest.raises(ValidationError) as refused:
        SignOffMove().load({"decision": "refuse"})
    assert set(refused.value.messages) == {"reason"}


def test_sign_off_accepts_an_approval_without_a_reason() -> None:
    assert SignOffMove().load({"decision": "approve"})["decision"] == "approve"


def test_every_form_loads_its_example_data_and_every_field_has_a_label() -> None:
    for task_id, schema in FORMS[PROCESS_ID].items():
        loaded = schema().load(FORM_DATA[task_id])
        assert loaded, task_id
        for name, field in schema().fields.items():
            assert field.metadata.get("label"), (task_id, name)


def test_propose_move_loads_dates_as_dates() -> None:
    loaded = FORMS[PROCESS_ID]["propose_move"]().load(FORM_DATA["propose_move"])
    assert loaded["planned_move_date"] == date(2025, 1, 20)


# --- walking the process with bare SpiffWorkflow -------------------------------


def test_propose_then_both_branches_then_vsh_then_sign_off_then_approved() -> None:
    wf = start()
    assert ready(wf) == {("propose_move", "social_worker")}

    complete(wf, "propose_move")
    assert ready(wf) == {
        ("confirm_care_placement", "social_worker"),
        ("arrange_school_place", "social_worker"),
    }

    complete(wf, "confirm_care_placement")
    assert ready(wf) == {("arrange_school_place", "social_worker")}

    complete(wf, "arrange_school_place")
    assert ready(wf) == {("record_vsh_views", "vsh")}
    [vsh_task] = wf.get_tasks(state=TaskState.READY, manual=True)
    assert vsh_task.data["arranged_at"] == "2025-01-10T12:00:00+00:00"

    complete(wf, "record_vsh_views")
    assert ready(wf) == {("sign_off_move", "manager")}

    complete(wf, "sign_off_move")
    assert wf.is_completed()
    assert reached_end_events(wf) == {"Arrangements made", "Move approved"}


def test_vsh_views_are_not_asked_for_until_both_branches_are_done() -> None:
    wf = start()
    complete(wf, "propose_move")
    complete(wf, "arrange_school_place")
    assert ready(wf) == {("confirm_care_placement", "social_worker")}


def test_refusing_the_move_ends_at_move_refused() -> None:
    wf = start()
    for task_id in ("propose_move", "confirm_care_placement", "arrange_school_place", "record_vsh_views"):
        complete(wf, task_id)
    complete(wf, "sign_off_move", {"decision": "refuse", "reason": "The school cannot meet her needs."})
    assert wf.is_completed()
    assert "Move refused" in reached_end_events(wf)
    assert "Move approved" not in reached_end_events(wf)


def test_timers_wait_with_the_deadline_the_expression_returned() -> None:
    wf = start()
    complete(wf, "propose_move")
    waiting = {
        t.task_spec.bpmn_id
        for t in wf.get_tasks(state=TaskState.WAITING)
        if t.task_spec.bpmn_id == "school_place_deadline"
    }
    assert waiting == {"school_place_deadline"}
    wf.refresh_timers()
    wf.do_engine_steps()
    assert ("escalate_no_school_place", "manager") not in ready(wf)


def test_school_place_deadline_passing_asks_a_manager_while_the_school_place_stays_open() -> None:
    calls = []

    def deadline_passed(*args: Any) -> str:
        calls.append(args)
        return LONG_AGO

    wf = start(engine(deadline_passed))
    complete(wf, "propose_move")
    wf.refresh_timers()
    wf.do_engine_steps()
    assert calls and calls[0] == (PROPOSED_AT, 15)
    assert ready(wf) == {
        ("confirm_care_placement", "social_worker"),
        ("arrange_school_place", "social_worker"),
        ("escalate_no_school_place", "manager"),
    }

    complete(wf, "escalate_no_school_place")
    complete(wf, "confirm_care_placement")
    complete(wf, "arrange_school_place")
    assert ready(wf) == {("record_vsh_views", "vsh")}
    assert "Escalation handled" in reached_end_events(wf)


def test_placement_cancelled_message_cancels_both_branches_and_ends_at_move_cancelled() -> None:
    wf = start()
    complete(wf, "propose_move")
    branch_tasks = [t for t in wf.get_tasks(state=TaskState.READY, manual=True)]
    assert {t.task_spec.bpmn_id for t in branch_tasks} == {"confirm_care_placement", "arrange_school_place"}

    wf.send_event(BpmnEvent(MessageEventDefinition("placement_cancelled"), payload={"reason": "x"}))
    wf.do_engine_steps()

    assert all(t.state == TaskState.CANCELLED for t in branch_tasks)
    assert ready(wf) == set()
    assert wf.is_completed()
    assert reached_end_events(wf) == {"Move cancelled"}
    [end] = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == "move_cancelled"]
    assert end.data["cancellation"] == {"reason": "x"}


def test_a_message_built_from_the_core_bpmn_class_is_not_caught_by_a_spiff_parsed_process() -> None:
    # SpiffBpmnParser builds spiff MessageEventDefinitions and events match on the exact
    # class, so senders must use SpiffWorkflow.spiff.specs.event_definitions.
    wf = start()
    complete(wf, "propose_move")
    with pytest.raises(WorkflowException):
        wf.send_event(BpmnEvent(CoreMessageEventDefinition("placement_cancelled"), payload={}))
    assert len(ready(wf)) == 2


def test_placement_cancelled_message_also_withdraws_an_open_escalation() -> None:
    wf = start(engine(lambda *args: LONG_AGO))
    complete(wf, "propose_move")
    wf.refresh_timers()
    wf.do_engine_steps()
    assert ("escalate_no_school_place", "manager") in ready(wf)

    wf.send_event(BpmnEvent(MessageEventDefinition("placement_cancelled"), payload={"reason": "x"}))
    wf.do_engine_steps()
    assert ready(wf) == set()
    assert wf.is_completed()
    assert reached_end_events(wf) == {"Move cancelled"}


def test_the_vsh_reminder_timer_counts_five_working_days_from_when_the_move_was_arranged() -> None:
    calls = []

    def add_working_days(start: str, days: int) -> str:
        calls.append((start, days))
        return (datetime.fromisoformat(start) + timedelta(days=7)).isoformat()

    script_engine = engine()
    script_engine.environment.globals["add_working_days"] = add_working_days
    wf = start(script_engine)
    for task_id in ("propose_move", "confirm_care_placement", "arrange_school_place"):
        complete(wf, task_id)
    assert ready(wf) == {("record_vsh_views", "vsh")}
    assert calls == [("2025-01-10T12:00:00+00:00", 5)]


def test_a_half_done_move_survives_serialization_with_the_spiff_serializer_config() -> None:
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    wf = start(engine(lambda *args: LONG_AGO))
    complete(wf, "propose_move")
    wf.refresh_timers()
    wf.do_engine_steps()

    wf = serializer.deserialize_json(serializer.serialize_json(wf))
    wf.script_engine = engine()
    assert ready(wf) == {
        ("confirm_care_placement", "social_worker"),
        ("arrange_school_place", "social_worker"),
        ("escalate_no_school_place", "manager"),
    }
    for task_id in (
        "escalate_no_school_place",
        "confirm_care_placement",
        "arrange_school_place",
        "record_vsh_views",
        "sign_off_move",
    ):
        complete(wf, task_id)
    assert reached_end_events(wf) == {"Escalation handled", "Arrangements made", "Move approved"}
