"""What is particular to placement_move.bpmn and its forms: the lanes of its tasks, the
rules written on its timers and gateways, that no path reaches the sign-off without
the VSH's views, and that its forms refuse bad input naming the field. The checks
every BPMN file must pass are in test_process_files.py; the walks are in
test_placement_move_scenarios.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from lxml import etree
from marshmallow import Schema, ValidationError
from marshmallow.experimental.context import Context

from processes import PROCESS_DIR
from processes.forms import FORMS
from processes.forms.placement_move import (
    ApplyForSchoolPlace,
    ApproveDistantPlacement,
    ApproveKs4Move,
    ApproveOutOfAreaPlacement,
    ConfirmCarePlacement,
    EscalateNoSchoolPlace,
    NotifyAreaAuthority,
    NotifySchoolAndIro,
    ProposeMove,
)

PROCESS_ID = "placement_move"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
DOC = etree.parse(str(PROCESS_DIR / "placement_move.bpmn"))
EXPECTED_LANES = {
    "propose_move": "social_worker", "confirm_care_placement": "social_worker",
    "discuss_school_choice": "social_worker", "apply_for_school_place": "social_worker",
    "confirm_school_place": "social_worker", "notify_area_authority": "social_worker",
    "escalate_no_school_place": "manager", "area_notice_overdue": "manager", "sign_off_move": "manager",
    "record_vsh_views": "vsh", "approve_ks4_move": "ks4_approver", "approve_distant_placement": "dcs",
    "approve_out_of_area_placement": "nominated_officer", "notify_school_and_iro": "social_worker",
    "school_iro_notice_overdue": "manager",
}
AREA_NOTIFIED = {"area_authority_notified": True, "area_authority_notified_on": "2026-11-30"}
FORM_DATA: dict[str, dict[str, Any]] = {
    "propose_move": {"reason": "placement_breakdown", "planned_move_date": "2027-01-04",
                     "childs_wishes": "Wants to stay near her brother."},
    "confirm_care_placement": {"placement_type": "foster_care", "placement_start_date": "2027-01-04",
                               "carer_name": "Mr and Mrs Ahmed", "distance": "in_area"},
    "discuss_school_choice": {"discussion_with_designated_teacher_held": True, "designated_teacher_name": "D Price",
                              "childs_wishes_about_school": "Stay.", "outcome": "stay_at_current_school"},
    "apply_for_school_place": {"school_urn": "123456", "application_date": "2026-12-02"},
    "confirm_school_place": {"place_offered": True, "start_date": "2027-01-06"},
    "escalate_no_school_place": {"decision": "alternative_provision"},
    "record_vsh_views": {"views": "Supports it.", "supports_move": True},
    "approve_ks4_move": {"childs_wishes_ascertained": True, "provision_meets_pep": True,
                         "designated_teacher_consulted": True, "iro_consulted": True, "ks4_decision": "approve"},
    "approve_distant_placement": dict(AREA_NOTIFIED, dcs_decision="approve"),
    "approve_out_of_area_placement": dict(AREA_NOTIFIED, out_of_area_decision="approve"),
    "notify_area_authority": {"notice_sent_on": "2026-12-01", "area_notice_method": "email",
                              "notified_to": "LAC team"},
    "notify_school_and_iro": {"school_notice_method": "email", "school_notified_to": "Dana Price, designated teacher",
                              "school_notified_on": "2026-12-01", "iro_notice_method": "phone",
                              "iro_notified_to": "Sam Reed", "iro_notified_on": "2026-12-01"},
    "school_iro_notice_overdue": {"school_iro_action_taken": "Emailed both today."},
    "area_notice_overdue": {"action_taken": "Phoned them."},
    "sign_off_move": {"decision": "approve"},
}


def element(element_id: str) -> etree._Element:
    found = DOC.find(f".//*[@id='{element_id}']")
    assert found is not None, element_id
    return found


def flow_condition(flow_id: str) -> str | None:
    text: str | None = element(flow_id).findtext("bpmn:conditionExpression", namespaces=NS)
    return text


def refused(schema: type[Schema], data: dict[str, Any], today: date | None = None) -> set[str]:
    """The fields ``schema`` refuses ``data`` on; with ``today``, checked as the engine checks it that day."""
    with pytest.raises(ValidationError) as error:
        if today is None:
            schema().load(data)
        else:
            with Context({"today": today, "data": {}}):
                schema().load(data)
    return set(error.value.messages)


def successors() -> dict[str, set[str]]:
    """Who follows whom: sequence flows, a host to its boundary events, a subprocess to its start."""
    graph: dict[str, set[str]] = {}
    for flow in DOC.iterfind(".//bpmn:sequenceFlow", NS):
        graph.setdefault(flow.get("sourceRef"), set()).add(flow.get("targetRef"))
    for boundary in DOC.iterfind(".//bpmn:boundaryEvent", NS):
        graph.setdefault(boundary.get("attachedToRef"), set()).add(boundary.get("id"))
    for sub in DOC.iterfind(".//bpmn:subProcess", NS):
        for start in sub.iterfind("bpmn:startEvent", NS):
            graph.setdefault(sub.get("id"), set()).add(start.get("id"))
    return graph


def reachable(without: str | None = None) -> set[str]:
    graph, seen, todo = successors(), {"move_needed"}, ["move_needed"]
    while todo:
        for nxt in graph.get(todo.pop(), set()) - seen - {without}:
            seen.add(nxt)
            todo.append(nxt)
    return seen


# --- the diagram -----------------------------------------------------------------------------


def test_each_user_task_is_in_the_lane_of_the_role_that_does_it() -> None:
    lanes = {ref.text: ref.getparent().get("name") for ref in DOC.iterfind(".//bpmn:flowNodeRef", NS)}
    assert {task.get("id"): lanes[task.get("id")] for task in DOC.iterfind(".//bpmn:userTask", NS)} == EXPECTED_LANES
    assert set(FORMS[PROCESS_ID]) == set(EXPECTED_LANES)


def test_no_path_reaches_the_approvals_or_the_sign_off_without_the_vsh_views() -> None:
    approvals = {"sign_off_move", "approve_ks4_move", "approve_out_of_area_placement", "approve_distant_placement",
                 "move_approved"}
    assert approvals <= reachable()
    assert approvals & reachable(without="record_vsh_views") == set()


def test_no_path_reaches_the_sign_off_without_the_notices_of_the_placement() -> None:
    assert {"notify_school_and_iro", "notify_area_authority", "sign_off_move"} <= reachable()
    assert {"sign_off_move", "move_approved"} & reachable(without="notices_join") == set()
    # the join waits for both branches: the school and IRO notice, and the area notice (or none, in area)
    join = element("notices_join")
    assert etree.QName(join).localname == "parallelGateway"
    assert {element(f.text or "").get("sourceRef") for f in join.iterfind("bpmn:incoming", NS)} == {
        "notify_school_and_iro", "area_notice_done"}
    # the area notice comes after the reg. 11 approval, which records that the area authority was told first
    assert "notify_area_authority" not in reachable(without="approvals_done")


def test_the_school_place_limit_is_counted_in_school_days_from_the_proposal_or_the_emergency() -> None:
    timer = element("school_place_deadline")
    assert (timer.get("cancelActivity"), timer.get("attachedToRef")) == ("false", "arrange_education")
    assert timer.findtext(".//bpmn:timeDate", namespaces=NS) == (
        "add_school_days(placement_start_date if emergency else move_proposed_at, school_place_limit_school_days)"
    )


def test_the_area_notice_is_due_by_the_start_or_within_the_councils_working_days_in_an_emergency() -> None:
    timer = element("area_notice_due")
    assert (timer.get("cancelActivity"), timer.get("attachedToRef")) == ("false", "notify_area_authority")
    assert timer.findtext(".//bpmn:timeDate", namespaces=NS) == (
        "add_calendar_days(add_working_days(placement_start_date, area_notice_working_days), 1) "
        "if emergency else add_calendar_days(placement_start_date, 1)"
    )
    assert flow_condition("flow_area_notice_needed") == "distance != 'in_area'"
    assert element("area_notice_rule").get("default") == "flow_no_area_notice"


def test_the_school_and_iro_notice_is_due_by_the_start_or_within_five_working_days_in_an_emergency() -> None:
    timer = element("school_iro_notice_due")
    assert (timer.get("cancelActivity"), timer.get("attachedToRef")) == ("false", "notify_school_and_iro")
    assert timer.findtext(".//bpmn:timeDate", namespaces=NS) == (
        "add_calendar_days(add_working_days(placement_start_date, 5), 1) "
        "if emergency else add_calendar_days(placement_start_date, 1)"
    )
    assert element("vsh_views_due").findtext(".//bpmn:timeDate", namespaces=NS) == "add_working_days(arranged_at, 5)"


def test_the_approval_rules_read_key_stage_4_outside_emergencies_and_distance() -> None:
    assert flow_condition("flow_ks4_move") == "key_stage(date_of_birth, planned_move_date) == 'KS4' and not emergency"
    assert flow_condition("flow_distant") == "distance == 'out_of_area_distant'"
    assert flow_condition("flow_adjoining") == "distance == 'out_of_area_adjoining'"
    assert element("ks4_rule").get("default") == "flow_not_ks4"
    assert element("distance_rule").get("default") == "flow_in_area"
    refusals = {f.get("id") for f in DOC.iterfind(".//bpmn:sequenceFlow[@targetRef='move_refused']", NS)}
    assert refusals == {"flow_ks4_refused", "flow_out_of_area_refused", "flow_dcs_refused", "flow_refused"}


def test_the_cancellation_message_interrupts_the_whole_arrangement() -> None:
    boundary = element("placement_cancelled")
    assert boundary.get("attachedToRef") == "arrange_move" and boundary.get("cancelActivity") != "false"
    assert boundary.findtext(".//{*}messageVariable") == "cancellation"
    assert element("message_placement_cancelled").get("name") == "placement_cancelled"


# --- the forms -------------------------------------------------------------------------------


def test_every_form_loads_its_example_data_and_every_field_has_a_label() -> None:
    for task_id, schema in FORMS[PROCESS_ID].items():
        assert schema().load(FORM_DATA[task_id]), task_id
        for name, field in schema().fields.items():
            assert field.metadata.get("label"), (task_id, name)


def test_no_form_offers_a_fair_access_protocol() -> None:
    offered = [value for schema in FORMS[PROCESS_ID].values() for field in schema().fields.values()
               for value, label in field.metadata.get("choices", [])]
    assert "start_direction" in offered
    assert not [v for v in offered if "fair" in v.lower()]


def test_the_proposal_refuses_missing_or_blank_wishes_naming_the_field() -> None:
    assert refused(ProposeMove, dict(FORM_DATA["propose_move"], childs_wishes="   ")) == {"childs_wishes"}
    data = {k: v for k, v in FORM_DATA["propose_move"].items() if k != "childs_wishes"}
    assert refused(ProposeMove, data) == {"childs_wishes"}
    assert refused(ProposeMove, dict(FORM_DATA["propose_move"], planned_move_date="next week")) == {"planned_move_date"}


def test_an_out_of_area_placement_must_name_the_area_authority() -> None:
    out_of_area = dict(FORM_DATA["confirm_care_placement"], distance="out_of_area_adjoining")
    assert refused(ConfirmCarePlacement, out_of_area) == {"area_authority"}
    assert ConfirmCarePlacement().load(dict(out_of_area, area_authority="Leeds"))["area_authority"] == "Leeds"
    assert refused(ConfirmCarePlacement, dict(out_of_area, distance="far")) == {"distance"}


def test_a_school_application_refuses_a_five_digit_urn() -> None:
    assert refused(ApplyForSchoolPlace, dict(FORM_DATA["apply_for_school_place"], school_urn="12345")) == {"school_urn"}


def test_a_direction_needs_a_six_digit_urn_and_other_next_steps_do_not() -> None:
    assert refused(EscalateNoSchoolPlace, {"decision": "start_direction"}) == {"direction_school_urn"}
    assert refused(EscalateNoSchoolPlace, {"decision": "fair_access_protocol"}) == {"decision"}
    assert EscalateNoSchoolPlace().load({"decision": "continue_negotiation"})["direction_school_urn"] is None


def test_the_ks4_approver_cannot_approve_unless_every_reg_10_point_is_met_but_may_refuse() -> None:
    unmet = dict(FORM_DATA["approve_ks4_move"], designated_teacher_consulted=False, iro_consulted=False)
    assert refused(ApproveKs4Move, unmet) == {"designated_teacher_consulted", "iro_consulted"}
    refusal = dict(unmet, ks4_decision="refuse", ks4_refusal_reason="The IRO was not consulted.")
    assert ApproveKs4Move().load(refusal)["ks4_decision"] == "refuse"


def test_a_dcs_refusal_needs_a_reason_and_a_notice_needs_its_recipient() -> None:
    assert refused(ApproveDistantPlacement, dict(AREA_NOTIFIED, dcs_decision="refuse")) == {"dcs_refusal_reason"}
    assert refused(NotifyAreaAuthority, {"notice_sent_on": "2026-12-01", "area_notice_method": "email"}) == {
        "notified_to"}
    assert refused(NotifyAreaAuthority, dict(FORM_DATA["notify_area_authority"], area_notice_method="fax")) == {
        "area_notice_method"}


@pytest.mark.parametrize("schema", [ApproveOutOfAreaPlacement, ApproveDistantPlacement])
def test_neither_out_of_area_approval_is_given_before_the_area_authority_is_notified(schema: type[Schema]) -> None:
    decision = "dcs_decision" if schema is ApproveDistantPlacement else "out_of_area_decision"
    approve = {decision: "approve"}
    assert refused(schema, dict(approve, area_authority_notified=False)) == {"area_authority_notified"}
    assert refused(schema, approve) == {"area_authority_notified"}
    assert refused(schema, dict(approve, area_authority_notified=True)) == {"area_authority_notified_on"}
    tomorrow = dict(AREA_NOTIFIED, area_authority_notified_on="2026-12-02", **approve)
    assert refused(schema, tomorrow, today=date(2026, 12, 1)) == {"area_authority_notified_on"}
    with Context({"today": date(2026, 12, 2), "data": {}}):
        assert schema().load(tomorrow)[decision] == "approve"  # notified the same day as the approval
    refusal = {decision: "refuse", "area_authority_notified": False,
               decision.replace("decision", "refusal_reason"): "Too far from her school."}
    assert schema().load(refusal)[decision] == "refuse"  # a refusal needs no notice


def test_the_school_and_iro_notice_names_who_how_and_when_unless_the_child_has_no_school() -> None:
    data = FORM_DATA["notify_school_and_iro"]
    assert refused(NotifySchoolAndIro, dict(data, school_notified_to=" ", school_notified_on=None)) == {
        "school_notified_to", "school_notified_on"}
    assert refused(NotifySchoolAndIro, dict(data, iro_notified_to="")) == {"iro_notified_to"}
    assert refused(NotifySchoolAndIro, {k: v for k, v in data.items() if k != "iro_notified_on"}) == {
        "iro_notified_on"}
    assert refused(NotifySchoolAndIro, dict(data, iro_notified_on="2026-12-02"), today=date(2026, 12, 1)) == {
        "iro_notified_on"}
    no_school = dict(data, school_notice_method="no_provider", school_notified_to="", school_notified_on=None)
    assert NotifySchoolAndIro().load(no_school)["school_notified_on"] is None
