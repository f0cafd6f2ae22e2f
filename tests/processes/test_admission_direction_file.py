"""The admission_direction BPMN file and its forms: it validates and draws, its lanes, forms
and documentation line up, the statutory 7-day periods are in the diagram as calendar days,
the route gateway sends every school down exactly one path, and no form anywhere offers a
Fair Access Protocol for a looked-after child."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from marshmallow import Schema, ValidationError, fields
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.sandbox import SAFE_BUILTINS, check_source
from processes import PROCESS_DIR
from processes.forms import FORMS

PID = "admission_direction"
BPMN_FILE = PROCESS_DIR / f"{PID}.bpmn"
DOC_FILE = Path(__file__).resolve().parents[2] / "docs" / "processes.md"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODE_TAGS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                  "boundaryEvent", "userTask", "scriptTask", "exclusiveGateway", "parallelGateway")
START_DATA = ("child_ref", "child_name", "school_urn", "school_name", "school_type", "la_is_admission_authority",
              "permanently_excluded_from_school", "requested_at", "chase_working_days",
              "esfa_outcome_working_days")
ESCALATION_TIMERS = {
    "admission_stalled": "escalate_admission_stalled",
    "consultation_overdue": "escalate_consultation_overdue",
    "decision_overdue": "escalate_decision_overdue",
    "notice_overdue": "escalate_notice_not_served",
    "adjudicator_decision_awaited": "escalate_adjudicator_decision_awaited",
    "child_not_on_roll": "escalate_child_not_on_roll",
    "esfa_request_not_sent": "escalate_esfa_request_not_sent",
    "esfa_outcome_overdue": "escalate_esfa_outcome_overdue",
}
ROUTES = {
    "flow_cannot_direct": "choose_another_school",
    "flow_la_admits": "admit_child",
    "flow_academy": "request_esfa_direction",
    "flow_direct_maintained": "consult_admission_authority",
}


def document() -> etree._ElementTree:
    return etree.parse(str(BPMN_FILE))


def element(element_id: str) -> Any:
    found = document().find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def user_tasks() -> dict[str, Any]:
    return {t.get("id"): t for t in document().iterfind(".//bpmn:userTask", NS)}


def lane_of() -> dict[str, str]:
    return {ref.text: ref.getparent().get("name") for ref in document().iterfind(".//bpmn:flowNodeRef", NS)}


def bounds(element_id: str) -> tuple[float, float, float, float]:
    shape = document().find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']", NS)
    b = shape.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def timer_text(event_id: str) -> str:
    return str(element(event_id).findtext(".//bpmn:timeDate", namespaces=NS))


# --- the file ----------------------------------------------------------------------------------


def test_file_validates_against_the_bpmn_schema_and_parses() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    assert parser.get_spec(PID).description == "School admission by direction"


def test_every_flow_node_is_drawn_inside_its_lane_and_every_flow_has_an_edge() -> None:
    doc = document()
    nodes = {n.get("id") for tag in FLOW_NODE_TAGS for n in doc.iterfind(f".//bpmn:{tag}", NS)}
    flows = {f.get("id") for f in doc.iterfind(".//bpmn:sequenceFlow", NS)}
    edges = {e.get("bpmnElement"): e for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert flows <= set(edges)
    assert all(len(edges[f].findall("di:waypoint", NS)) >= 2 for f in flows)
    lanes = {lane.get("name"): bounds(lane.get("id")) for lane in doc.iterfind(".//bpmn:lane", NS)}
    for node in nodes:
        x, y, w, h = bounds(node)
        _, lane_y, _, lane_h = lanes[lane_of()[node]]
        assert lane_y <= y and y + h <= lane_y + lane_h, node


def test_no_two_shapes_overlap() -> None:
    doc = document()
    attached = {b.get("id") for b in doc.iterfind(".//bpmn:boundaryEvent", NS)}
    ids = sorted({n.get("id") for tag in FLOW_NODE_TAGS for n in doc.iterfind(f".//bpmn:{tag}", NS)} - attached)
    boxes = {i: bounds(i) for i in ids}
    for a, b in itertools.combinations(ids, 2):
        ax, ay, aw, ah = boxes[a]
        bx, by, bw, bh = boxes[b]
        assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)


def test_every_user_task_is_in_a_role_lane_has_a_form_and_states_its_rule() -> None:
    tasks = user_tasks()
    assert set(FORMS[PID]) == set(tasks)
    assert {lane.get("name") for lane in document().iterfind(".//bpmn:lane", NS)} == {
        "admissions_officer", "manager"}
    for task_id, task in tasks.items():
        assert lane_of()[task_id] in {"admissions_officer", "manager"}, task_id
        assert (task.findtext("bpmn:documentation", namespaces=NS) or "").strip(), task_id


def test_the_engine_sees_the_escalations_and_decisions_in_the_managers_lane() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    lanes = {t.bpmn_id: t.lane for t in parser.get_spec(PID).task_specs.values() if t.manual}
    manager = {task for task, lane in lanes.items() if lane == "manager"}
    assert manager == set(ESCALATION_TIMERS.values()) | {"decide_after_adjudicator", "decide_after_esfa_declined"}
    assert lanes == {task: lane_of()[task] for task in lanes}


def test_the_process_documentation_states_the_start_data_and_why_there_is_no_fair_access_protocol() -> None:
    text = document().findtext(".//bpmn:process/bpmn:documentation", namespaces=NS) or ""
    for name in START_DATA:
        assert name in text, name
    assert "Fair Access Protocols are never used" in text
    assert "in a timely way rather than delay" in text


# --- the statutory periods and the council's deadlines ----------------------------------------


@pytest.mark.parametrize(("event_id", "expression"), [
    ("representations_period_ended", "add_calendar_days(consulted_on, 7)"),
    ("representations_period_over", "add_calendar_days(consulted_on, 7)"),
    ("adjudicator_window_ended", "add_calendar_days(served_on, 7)"),
])
def test_the_statutory_seven_day_periods_are_calendar_days_in_the_diagram(event_id: str, expression: str) -> None:
    assert timer_text(event_id) == expression
    assert element(event_id).get("cancelActivity") in (None, "true")


def test_each_escalation_timer_leaves_its_step_open_reads_the_councils_setting_and_asks_a_manager() -> None:
    flows = {f.get("sourceRef"): f.get("targetRef") for f in document().iterfind(".//bpmn:sequenceFlow", NS)}
    for timer, task in ESCALATION_TIMERS.items():
        assert element(timer).get("cancelActivity") == "false", timer
        text = timer_text(timer)
        assert text.startswith("add_working_days(") and "_working_days)" in text, timer
        assert flows[timer] == task and lane_of()[task] == "manager", timer
    assert timer_text("esfa_outcome_overdue") == "add_working_days(esfa_requested_on, esfa_outcome_working_days)"


def _route(facts: dict[str, Any]) -> list[str]:
    conditions = {
        f.get("id"): f.findtext("bpmn:conditionExpression", namespaces=NS)
        for f in document().iterfind(".//bpmn:sequenceFlow[@sourceRef='route']", NS)
    }
    assert set(conditions) == set(ROUTES) and all(conditions.values())
    return sorted(ROUTES[f] for f, text in conditions.items()
                  if eval(check_source(str(text), "eval"), {"__builtins__": dict(SAFE_BUILTINS)}, facts))


@pytest.mark.parametrize(("school_type", "la_admits", "excluded"), list(itertools.product(
    ("maintained", "academy", "independent", "la_special"), (True, False), (True, False))))
def test_the_route_gateway_sends_every_school_down_exactly_one_path(
        school_type: str, la_admits: bool, excluded: bool) -> None:
    facts = {"school_type": school_type, "la_is_admission_authority": la_admits,
             "permanently_excluded_from_school": excluded}
    [path] = _route(facts)
    if excluded or school_type == "independent":
        assert path == "choose_another_school"
    elif school_type == "academy":
        assert path == "request_esfa_direction"
    else:
        assert path == ("admit_child" if la_admits else "consult_admission_authority")


# --- the forms -----------------------------------------------------------------------------------


def _choice_texts(schema: type[Schema]) -> list[str]:
    texts = []
    for field in schema().fields.values():
        for value, label in field.metadata.get("choices", []):
            texts += [str(value), str(label)]
        texts += [str(c) for c in getattr(field.validate, "choices", []) or []]
        for validator in field.validators:
            texts += [str(c) for c in getattr(validator, "choices", []) or []]
    return texts


def test_no_form_of_any_process_offers_a_fair_access_protocol_for_a_looked_after_child() -> None:
    offered = [
        (process, task, text)
        for process, forms in FORMS.items()
        for task, schema in forms.items()
        for text in _choice_texts(schema)
        if "fair access" in text.lower().replace("_", " ") or "fap" == text.lower()
    ]
    assert offered == []
    assert "direct" in _choice_texts(FORMS[PID]["consider_representations"])  # the scan reads choices


def test_serving_notice_without_all_three_recipients_names_each_missing_one() -> None:
    schema = FORMS[PID]["serve_direction_notice"]
    with pytest.raises(ValidationError) as refused:
        schema().load({"served_on": "2026-12-08", "notice_to_admission_authority": True,
                       "notice_to_headteacher": False})
    assert set(refused.value.messages) == {"notice_to_headteacher", "notice_to_governing_body"}


@pytest.mark.parametrize(("task", "data", "field"), [
    ("choose_another_school", {"school_urn": "12345"}, "school_urn"),
    ("consult_admission_authority", {"consulted_on": "yesterday", "consultation_method": "email",
                                     "admission_authority_contact": "Clerk"}, "consulted_on"),
    ("consult_admission_authority", {"consulted_on": "2026-12-01", "consultation_method": "fax",
                                     "admission_authority_contact": "Clerk"}, "consultation_method"),
    ("record_representations", {"representations_received_on": "2026-12-02",
                                "school_agrees_to_admit": False}, "representations"),
    ("consider_representations", {"direction_decision": "withdraw"}, "decision_reason"),
    ("record_esfa_outcome", {"esfa_outcome": "declined", "esfa_outcome_on": "2026-12-10"}, "notes"),
    ("admit_child", {"admitted_on": "2026-12-03", "confirmed_with_school": False}, "confirmed_with_school"),
    ("escalate_notice_not_served", {"escalation_action": "chased"}, "escalation_notes"),
    ("decide_after_adjudicator", {"next_step": "close"}, "next_step_notes"),
])
def test_bad_input_is_refused_naming_the_field(task: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        FORMS[PID][task]().load(data)
    assert set(refused.value.messages) == {field}


def test_every_field_has_a_label_and_dates_load_as_dates() -> None:
    for task, schema in FORMS[PID].items():
        for name, field in schema().fields.items():
            assert field.metadata.get("label"), (task, name)
            assert isinstance(field, (fields.String, fields.Date, fields.Boolean)), (task, name)
    loaded = FORMS[PID]["serve_direction_notice"]().load({
        "served_on": "2026-12-08", "notice_to_admission_authority": True, "notice_to_headteacher": True,
        "notice_to_governing_body": True})
    assert loaded["served_on"].isoformat() == "2026-12-08"


def test_the_process_page_lists_every_user_task() -> None:
    text = DOC_FILE.read_text(encoding="utf-8")
    for task_id in user_tasks():
        assert f"`{task_id}`" in text, task_id
