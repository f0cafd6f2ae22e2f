"""The pep_review process walked with the real engine, database, forms and calendar:
who gets which task when, as the clock moves (initial, termly and school-change PEPs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from casework.schoolyear import pep_stage
from casework.terms import default_term_calendar
from engine.calendar import BusinessCalendar, due_by_day
from engine.errors import InvalidData

PID = "pep_review"
CALENDAR = BusinessCalendar(default_term_calendar())
TODAY = date(2026, 12, 1)  # the scenario clock starts on Tuesday 2026-12-01 09:00 UTC
STAGE_TASKS = {
    "early_years": "complete_pep_early_years",
    "school_age": "complete_pep_school_age",
    "post_16": "complete_pep_post_16",
}
ACTION = {"description": "Book a maths tutor", "owner": "Ms Patel, designated teacher", "due_date": "2026-12-10"}
STAGE_FORMS: dict[str, dict[str, Any]] = {
    "early_years": {
        "meeting_date": "2026-11-30", "setting_name": "Little Acorns", "hours_attended": 15, "key_person": "Jo",
        "communication_and_language": "Two-word phrases.", "physical_development": "Climbs well.",
        "personal_social_emotional": "Settling.", "early_years_pupil_premium_use": "Speech group.",
        "targets": "Three-word phrases by spring.", "actions": [ACTION],
    },
    "school_age": {
        "meeting_date": "2026-11-30", "school_name": "Riverside Primary", "school_year_group": 5,
        "attendance_percent": 91.5,
        "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
        "sen_support_status": "none", "pupil_premium_plus_spend": 300,
        "pupil_premium_plus_purpose": "Maths tutoring.", "targets": "Times tables to 12 by February.",
        "actions": [ACTION],
    },
    "post_16": {
        "meeting_date": "2026-11-30", "provider_name": "City College", "course": "Level 2 plumbing", "attendance_percent": 88,
        "progress_summary": "On track.", "careers_advice": "Apprenticeship route in the pathway plan.",
        "bursary_16_19": True, "targets": "Pass unit 3.", "actions": [ACTION],
    },
}
CONTRIBUTION = {"care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
                "carers_support": "Reading every night."}
VIEWS = {"childs_views": "I like maths but not spelling."}


def start_data(stage: str = "school_age", **changes: Any) -> dict[str, Any]:
    data = {
        "child_ref": "C-1001", "child_name": "Amy Jones", "date_of_birth": "2016-05-01", "pep_id": 7,
        "pep_kind": "termly", "stage": stage, "due_at": "2026-12-11T17:00:00+00:00",
        "academic_year": "2026/27", "term": "autumn", "send_decision_weeks": 6,
        "action_escalation_working_days": 0,
    }
    return {**data, **changes}


def moment(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def record(scenario: Any) -> dict[str, Mapping[str, Any]]:
    """The task data each element had when it was last reached, as the domain's after_step hook sees it."""
    seen: dict[str, Mapping[str, Any]] = {}

    def after_step(session: Any, event: Any) -> None:
        seen.update({reached.element_id: dict(reached.data) for reached in event.reached})

    scenario.facts.after_step = after_step
    return seen


def submit(scenario: Any, iid: int, stage: str = "school_age", **form: Any) -> None:
    scenario.complete(iid, STAGE_TASKS[stage], {**STAGE_FORMS[stage], **form})
    scenario.complete(iid, "social_worker_contribution", CONTRIBUTION)
    scenario.complete(iid, "record_childs_views", VIEWS)


def open_ids(scenario: Any, iid: int) -> list[str]:
    return [element for element, _ in scenario.open_tasks(iid)]


def complete_action_due(scenario: Any, iid: int, due: datetime, data: dict[str, Any]) -> None:
    """Complete the one open confirm_action_done task whose escalation is due at ``due``."""
    with scenario.service() as svc:
        [task] = [t for t in svc.instance_tasks(iid) if t.element_id == "confirm_action_done"
                  and t.state == "open" and t.due_at is not None and t.due_at.replace(tzinfo=UTC) == due]
        svc.complete(task.id, data, scenario.actors["social_worker"])


@pytest.mark.parametrize(
    ("date_of_birth", "stage"),
    [("2024-06-10", "early_years"), ("2016-05-01", "school_age"), ("2009-03-15", "post_16")],
)
def test_each_age_gets_the_pep_form_for_its_stage_alongside_the_social_workers_tasks(
    scenario: Any, date_of_birth: str, stage: str
) -> None:
    assert pep_stage(date_of_birth, TODAY.isoformat()) == stage  # aged 2, 10 and 17
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data(stage, date_of_birth=date_of_birth))
    assert scenario.open_tasks(iid) == sorted([
        (STAGE_TASKS[stage], "designated_teacher"),
        ("record_childs_views", "social_worker"),
        ("social_worker_contribution", "social_worker"),
    ])
    other = "early_years" if stage != "early_years" else "post_16"
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, STAGE_TASKS[stage], STAGE_FORMS[other])
    assert set(refused.value.errors) & set(STAGE_FORMS[stage]) - set(STAGE_FORMS[other])
    submit(scenario, iid, stage)
    assert scenario.open_tasks(iid) == [("quality_assure_pep", "vsh")]


def test_initial_pep_is_escalated_to_the_manager_exactly_when_ten_working_days_have_passed(scenario: Any) -> None:
    became_looked_after = moment(date(2026, 12, 3), 9)  # a Thursday: the count crosses two weekends
    due = CALENDAR.add_working_days(became_looked_after, 10)
    assert due == moment(date(2026, 12, 17), 9)
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data(pep_kind="initial", term="", due_at=due.isoformat()))
    assert scenario.timers(iid) == [("pep_due", due)]

    scenario.at(CALENDAR.add_working_days(due, -1))
    scenario.at(due - timedelta(seconds=1))
    assert "escalate_overdue_pep" not in open_ids(scenario, iid)
    scenario.at(due)
    assert ("escalate_overdue_pep", "manager") in scenario.open_tasks(iid)
    assert "complete_pep_school_age" in open_ids(scenario, iid)  # the work stays open
    scenario.wait(days=10)
    assert open_ids(scenario, iid).count("escalate_overdue_pep") == 1
    assert scenario.history(iid).count(("timer_fired", "pep_due")) == 1


def test_pep_submitted_and_signed_off_on_time_is_never_escalated(scenario: Any) -> None:
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid)
    scenario.complete(iid, "quality_assure_pep", {"rag": "amber", "feedback": "Sharper targets next time."})
    scenario.at(moment(date(2026, 12, 12)))
    assert "escalate_overdue_pep" not in open_ids(scenario, iid)
    assert ("timer_fired", "pep_due") not in scenario.history(iid)


def test_red_pep_returns_to_the_designated_teacher_with_the_reason_and_green_completes_it(scenario: Any) -> None:
    seen = record(scenario)
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid)
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, "quality_assure_pep", {"rag": "red"})
    assert "return_reason" in refused.value.errors
    scenario.complete(iid, "quality_assure_pep", {"rag": "red", "return_reason": "The targets are not SMART."})
    assert scenario.open_tasks(iid) == [("complete_pep_school_age", "designated_teacher")]

    scenario.complete(iid, "complete_pep_school_age", {**STAGE_FORMS["school_age"], "targets": "Times tables."})
    assert seen["complete_pep_school_age"]["return_reason"] == "The targets are not SMART."
    assert scenario.open_tasks(iid) == [("quality_assure_pep", "vsh")]  # no second social-worker round
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    assert scenario.open_tasks(iid) == [("confirm_action_done", "social_worker")]
    scenario.complete(iid, "confirm_action_done", {"action_done": True})
    assert scenario.status(iid) == "completed"
    end = seen["pep_complete"]
    assert (end["rag"], end["stage"], end["targets"]) == ("green", "school_age", "Times tables.")
    assert end["childs_views"] == VIEWS["childs_views"]
    assert end["action_outcomes"] == [{**ACTION, "number": 1, "done": True, "notes": ""}]


def test_each_overdue_action_is_escalated_and_an_action_done_on_time_is_not(scenario: Any) -> None:
    late = {"description": "Speech and language referral", "owner": "Social worker", "due_date": "2026-12-10"}
    on_time = {"description": "Buy a reading scheme", "owner": "Carer", "due_date": "2026-12-18"}
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid, actions=[late, on_time])
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    late_due, on_time_due = moment(date(2026, 12, 11)), moment(date(2026, 12, 21))  # next working day
    assert sorted(due for element, due in scenario.timers(iid) if element == "action_overdue") == [
        late_due, on_time_due]
    complete_action_due(scenario, iid, on_time_due, {"action_done": True})

    scenario.at(late_due - timedelta(seconds=1))
    assert "escalate_overdue_action" not in open_ids(scenario, iid)
    scenario.at(late_due)
    assert scenario.open_tasks(iid) == [("confirm_action_done", "social_worker"),
                                        ("escalate_overdue_action", "manager")]
    scenario.at(on_time_due + timedelta(days=7))
    assert open_ids(scenario, iid).count("escalate_overdue_action") == 1
    scenario.complete(iid, "escalate_overdue_action", {"escalation_notes": "Chased the SALT service."})
    complete_action_due(scenario, iid, late_due, {"action_done": True})
    assert scenario.status(iid) == "completed"


def test_the_council_can_allow_working_days_of_grace_before_an_overdue_action_is_escalated(scenario: Any) -> None:
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data(action_escalation_working_days=2))
    submit(scenario, iid)  # one action due Thursday 2026-12-10
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    assert scenario.timers(iid) == [("action_overdue", moment(date(2026, 12, 15)))]
    scenario.at(moment(date(2026, 12, 14), 23))
    assert "escalate_overdue_action" not in open_ids(scenario, iid)
    scenario.at(moment(date(2026, 12, 15)))
    assert ("escalate_overdue_action", "manager") in scenario.open_tasks(iid)


def test_suspected_sen_is_referred_at_once_and_the_six_week_decision_is_tracked(scenario: Any) -> None:
    seen = record(scenario)
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, "complete_pep_school_age", {**STAGE_FORMS["school_age"],
                                                           "suspected_unidentified_sen": True})
    assert "sen_concern" in refused.value.errors
    submit(scenario, iid, suspected_unidentified_sen=True, sen_concern="Struggles to follow instructions.")
    assert scenario.open_tasks(iid) == [("quality_assure_pep", "vsh"), ("refer_to_send", "designated_teacher")]
    scenario.complete(iid, "refer_to_send", {"referred_on": "2026-12-01", "referral_summary": "Request for EHC needs "
                                             "assessment: language."})
    # referred on Tuesday 1 December: due by Tuesday 12 January 2027, the last day of the 6 weeks;
    # overdue from 00:00 on the 13th
    decision_due = moment(date(2027, 1, 13))
    assert due_by_day(decision_due) == date(2027, 1, 12)
    assert scenario.task(iid, "send_decision").due_at.replace(tzinfo=UTC) == decision_due
    assert ("send_decision", "sen_officer") in scenario.open_tasks(iid)

    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    scenario.complete(iid, "confirm_action_done", {"action_done": True})
    assert scenario.status(iid) == "running"  # QA done, the SEN decision is not
    assert scenario.open_tasks(iid) == [("send_decision", "sen_officer")]
    scenario.at(decision_due - timedelta(seconds=1))
    assert "escalate_send_decision_overdue" not in open_ids(scenario, iid)
    scenario.at(decision_due)
    assert ("escalate_send_decision_overdue", "manager") in scenario.open_tasks(iid)
    scenario.complete(iid, "send_decision", {"ehc_assessment_decision": "assess", "decided_on": "2027-01-13"})
    # the decision resolves the cause: the manager's open escalation task closes with it
    assert scenario.status(iid) == "completed"
    end = seen["pep_complete"]
    assert (end["rag"], end["ehc_assessment_decision"], end["sen_referral_raised"]) == ("green", "assess", True)
    assert end["sen_concern"] == "Struggles to follow instructions."


def test_without_a_sen_concern_no_referral_is_made_and_the_pep_completes_after_its_actions(scenario: Any) -> None:
    seen = record(scenario)
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid)
    assert scenario.open_tasks(iid) == [("quality_assure_pep", "vsh")]
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    scenario.complete(iid, "confirm_action_done", {"action_done": False, "action_notes": "Tutor not needed now."})
    assert scenario.status(iid) == "completed"
    assert seen["pep_complete"]["sen_referral_raised"] is False
    assert "refer_to_send" not in [element for _, element in scenario.history(iid)]


def test_a_termly_review_for_a_school_age_child_walks_to_completion(scenario: Any) -> None:
    seen = record(scenario)
    scenario.deploy(PID)
    # spring 2027's first half ends on Friday 12 February (half term 15-19 February)
    iid = scenario.start(PID, "C-1001", start_data(term="spring", due_at="2027-02-12T17:00:00+00:00"))
    submit(scenario, iid)
    scenario.complete(iid, "quality_assure_pep", {"rag": "green", "feedback": "Good."})
    scenario.complete(iid, "confirm_action_done", {"action_done": True, "action_notes": "Tutor booked."})
    assert scenario.status(iid) == "completed"
    assert [element for action, element in scenario.history(iid) if action == "timer_fired"] == []
    assert (seen["pep_complete"]["pep_kind"], seen["pep_complete"]["term"]) == ("termly", "spring")


def test_a_school_change_pep_is_due_ten_working_days_after_the_move_skipping_bank_holidays(scenario: Any) -> None:
    moved = moment(date(2026, 12, 14), 9)
    due = CALENDAR.add_working_days(moved, 10)
    assert due == moment(date(2026, 12, 30), 9)  # 25 and 28 December are bank holidays
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data(pep_kind="school_change", term="", due_at=due.isoformat()))
    assert scenario.timers(iid) == [("pep_due", due)]
    scenario.at(due - timedelta(seconds=1))
    assert "escalate_overdue_pep" not in open_ids(scenario, iid)
    scenario.at(due)
    assert ("escalate_overdue_pep", "manager") in scenario.open_tasks(iid)


def test_a_sen_concern_first_raised_when_revising_a_red_pep_is_referred_once(scenario: Any) -> None:
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid)
    scenario.complete(iid, "quality_assure_pep", {"rag": "red", "return_reason": "Screen for SEN: reading."})
    concern = {"suspected_unidentified_sen": True, "sen_concern": "Reading age three years behind."}
    scenario.complete(iid, "complete_pep_school_age", {**STAGE_FORMS["school_age"], **concern})
    assert scenario.open_tasks(iid) == [("quality_assure_pep", "vsh"), ("refer_to_send", "designated_teacher")]
    scenario.complete(iid, "quality_assure_pep", {"rag": "red", "return_reason": "Add an action for reading."})
    scenario.complete(iid, "complete_pep_school_age", {**STAGE_FORMS["school_age"], **concern})
    assert open_ids(scenario, iid).count("refer_to_send") == 1


READING = {"description": "Weekly reading with the TA", "owner": "Ms Patel", "due_date": "2027-01-12"}
READING_NAMED = "Weekly reading with the TA (owner Ms Patel, due 12 January 2027)"


def follow_ups(scenario: Any, iid: int) -> list[tuple[str, str | None, str | None]]:
    with scenario.service() as svc:
        return sorted((t.title, t.role, t.assignee) for t in svc.instance_tasks(iid)
                      if t.element_id == "confirm_action_done" and t.state == "open")


def test_two_identical_actions_get_two_follow_ups_each_named_with_its_number_owner_and_due_date(scenario: Any) -> None:
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid, actions=[READING, READING])
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    assert follow_ups(scenario, iid) == [(f"Confirm action {n} was done: {READING_NAMED}", "social_worker", None)
                                         for n in (1, 2)]
    assert [a["number"] for a in scenario.data(iid)["actions"]] == [1, 2]
    scenario.at(moment(date(2027, 1, 13)))  # both overdue: one manager task each, named apart
    with scenario.service() as svc:
        chases = sorted(t.title for t in svc.instance_tasks(iid)
                        if t.element_id == "escalate_overdue_action" and t.state == "open")
        [second] = [t for t in svc.instance_tasks(iid) if t.title.startswith("Confirm action 2")]
        svc.complete(second.id, {"action_done": True}, scenario.actors["social_worker"])
    assert chases == [f"PEP action {n} overdue: {READING_NAMED}" for n in (1, 2)]
    # confirming action 2 closed its follow-up and the manager's task for it, not action 1's
    with scenario.service() as svc:
        still = sorted(t.title for t in svc.instance_tasks(iid) if t.state == "open")
    assert still == [f"Confirm action 1 was done: {READING_NAMED}", f"PEP action 1 overdue: {READING_NAMED}"]


def test_a_follow_up_goes_to_the_owning_user_in_the_role_the_records_found_for_them(scenario: Any) -> None:
    scenario.facts.by_element["complete_pep_school_age"] = {
        "action_owner_roles": {"designated_teacher-1": "designated_teacher"}}
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    submit(scenario, iid, actions=[{**READING, "owner_user": "designated_teacher-1"}, READING])
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    assert follow_ups(scenario, iid) == [
        (f"Confirm action 1 was done: {READING_NAMED}", "designated_teacher", "designated_teacher-1"),
        (f"Confirm action 2 was done: {READING_NAMED}", "social_worker", None)]


def test_signing_off_a_late_pep_closes_the_managers_overdue_pep_task(scenario: Any) -> None:
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    scenario.at(moment(date(2026, 12, 11), 17))
    assert ("escalate_overdue_pep", "manager") in scenario.open_tasks(iid)
    submit(scenario, iid, actions=[READING])
    scenario.complete(iid, "quality_assure_pep", {"rag": "green"})
    assert scenario.open_tasks(iid) == [("confirm_action_done", "social_worker")]


def test_an_action_due_before_the_meeting_is_refused_naming_the_action_and_the_meeting_date(scenario: Any) -> None:
    from processes.forms.pep_review import CompleteSchoolAgePep  # loaded directly: no window of today

    form = {**STAGE_FORMS["school_age"], "meeting_date": "2026-12-03",
            "actions": [{**ACTION, "due_date": "2026-12-04"}, {**ACTION, "due_date": "2026-12-02"}]}
    with pytest.raises(ValidationError) as refused:
        CompleteSchoolAgePep().load(form)
    assert refused.value.messages == {"actions": {1: {"due_date": [
        "Action 2's due date must be on or after the meeting date, 3 December 2026"]}}}
    scenario.deploy(PID)
    iid = scenario.start(PID, "C-1001", start_data())
    for meeting, reason in (("2026-12-02", "Date of the PEP meeting must be today or in the past"),
                            ("2016-04-30", "Date of the PEP meeting must be on or after 1 May 2016 "
                                           "(the child's date of birth)")):
        with pytest.raises(InvalidData) as wrong:
            scenario.complete(iid, "complete_pep_school_age", {**STAGE_FORMS["school_age"], "meeting_date": meeting})
        assert wrong.value.errors == {"meeting_date": [reason]}
