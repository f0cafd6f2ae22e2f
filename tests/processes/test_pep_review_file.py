"""The pep_review BPMN file and its forms: the lanes, timers and loop the statutory rules rely on,
and field-level errors for bad PEP input."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from marshmallow import Schema, ValidationError
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from processes import PROCESS_DIR
from processes.forms import FORMS
from processes.forms.pep_review import CompletePost16Pep, CompleteSchoolAgePep, QualityAssurePep

BPMN_FILE = PROCESS_DIR / "pep_review.bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
EXPECTED_LANES = {
    "complete_pep_early_years": "designated_teacher",
    "complete_pep_school_age": "designated_teacher",
    "complete_pep_post_16": "designated_teacher",
    "social_worker_contribution": "social_worker",
    "record_childs_views": "social_worker",
    "quality_assure_pep": "vsh",
    "escalate_overdue_pep": "manager",
    "refer_to_send": "designated_teacher",
    "send_decision": "sen_officer",
    "escalate_send_decision_overdue": "manager",
    "confirm_action_done": "social_worker",  # each action binds it to its owner's role (route_follow_up)
    "escalate_overdue_action": "manager",
}
SCHOOL_AGE: dict[str, Any] = {
    "meeting_date": "2026-11-30", "school_name": "Riverside Primary", "school_year_group": 5, "attendance_percent": 91.5,
    "exclusions_this_term": 0, "attainment_summary": "Working towards.", "sen_support_status": "sen_support",
    "pupil_premium_plus_spend": 300, "pupil_premium_plus_purpose": "Tutoring.", "targets": "Read daily.",
    "actions": [{"description": "Book a tutor", "owner": "Ms Patel", "due_date": "2026-12-10"}],
}


def document() -> Any:
    return etree.parse(str(BPMN_FILE))


def element(element_id: str) -> Any:
    [found] = document().xpath(f"//*[@id='{element_id}']")
    return found


def errors(schema: type[Schema], data: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        schema().load(data)
    return dict(refused.value.messages)  # type: ignore[arg-type]


def test_the_engine_sees_each_pep_task_in_the_lane_of_the_role_that_does_it() -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    specs = [parser.get_spec("pep_review"), *parser.get_subprocess_specs("pep_review").values()]
    lanes = {s.bpmn_id: s.lane for spec in specs for s in spec.task_specs.values()
             if s.bpmn_id in EXPECTED_LANES and type(s).__name__ == "UserTask"}
    assert lanes == EXPECTED_LANES
    assert set(FORMS["pep_review"]) == set(EXPECTED_LANES)


def test_the_subprocesses_are_in_no_lane_so_inner_tasks_keep_their_own_roles() -> None:
    refs = {ref.text for ref in document().iterfind(".//bpmn:flowNodeRef", NS)}
    assert not refs & {"prepare_pep", "track_actions"}


def test_the_pep_due_timer_watches_the_whole_pep_without_stopping_the_work() -> None:
    timer = element("pep_due")
    assert (timer.get("attachedToRef"), timer.get("cancelActivity")) == ("prepare_pep", "false")
    assert timer.find(".//bpmn:timeDate", NS).text == "due_at"
    for inside in ("complete_pep_school_age", "social_worker_contribution", "quality_assure_pep"):
        assert element(inside).getparent().get("id") == "prepare_pep"


def test_the_sen_decision_is_due_send_decision_weeks_after_the_referral() -> None:
    timer = element("send_decision_due")
    assert (timer.get("attachedToRef"), timer.get("cancelActivity")) == ("send_decision", "false")
    assert timer.find(".//bpmn:timeDate", NS).text == "add_calendar_days(referred_on, 7 * send_decision_weeks + 1)"
    catch = element("sen_concern_raised")
    assert (catch.get("attachedToRef"), catch.get("cancelActivity")) == ("prepare_pep", "false")


def test_every_action_is_followed_up_in_parallel_with_its_own_overdue_timer() -> None:
    loop = element("track_actions").find("bpmn:multiInstanceLoopCharacteristics", NS)
    assert loop.get("isSequential") in (None, "false")
    assert loop.find("bpmn:loopDataInputRef", NS).text == "actions"
    assert loop.find("bpmn:inputDataItem", NS).get("name") == "action"
    timer = element("action_overdue")
    assert (timer.get("attachedToRef"), timer.get("cancelActivity")) == ("confirm_action_done", "false")
    assert "action['due_date']" in timer.find(".//bpmn:timeDate", NS).text


def test_every_pep_user_task_documents_the_rule_it_encodes() -> None:
    for task_id in EXPECTED_LANES:
        text = element(task_id).find("bpmn:documentation", NS).text or ""
        assert any(source in text for source in ("Regulations", "guidance")), task_id


def test_a_school_age_pep_with_every_section_is_accepted_and_dumps_dates_as_text() -> None:
    loaded = CompleteSchoolAgePep().load(SCHOOL_AGE)
    dumped = CompleteSchoolAgePep().dump(loaded)
    assert dumped["actions"] == [{**a, "owner_user": ""} for a in SCHOOL_AGE["actions"]]
    assert dumped["suspected_unidentified_sen"] is False


def test_attendance_above_one_hundred_percent_is_refused_on_its_field() -> None:
    assert errors(CompleteSchoolAgePep, {**SCHOOL_AGE, "attendance_percent": 120}) == {
        "attendance_percent": ["Enter a percentage from 0 to 100."]}
    assert "attendance_percent" in errors(CompletePost16Pep, {"attendance_percent": -1})


def test_negative_exclusions_are_refused() -> None:
    assert "exclusions_this_term" in errors(CompleteSchoolAgePep, {**SCHOOL_AGE, "exclusions_this_term": -1})


def test_an_action_without_an_owner_is_refused_on_that_actions_owner() -> None:
    actions = [{"description": "Book a tutor", "due_date": "2026-12-10"}]
    assert errors(CompleteSchoolAgePep, {**SCHOOL_AGE, "actions": actions}) == {
        "actions": {0: {"owner": ["Say who owns this action."]}}}


def test_a_pep_without_any_action_is_refused() -> None:
    assert errors(CompleteSchoolAgePep, {**SCHOOL_AGE, "actions": []}) == {
        "actions": ["Add at least one action, with an owner and a due date."]}
    assert "actions" in errors(CompleteSchoolAgePep, {k: v for k, v in SCHOOL_AGE.items() if k != "actions"})


def test_a_red_rating_needs_the_reason_for_returning_the_pep() -> None:
    assert errors(QualityAssurePep, {"rag": "red", "return_reason": "  "}) == {
        "return_reason": ["Say why the PEP is returned, so it can be fixed."]}
    assert QualityAssurePep().load({"rag": "amber"})["return_reason"] == ""
    assert "rag" in errors(QualityAssurePep, {"rag": "purple"})
