"""The placement move, walked on the real engine and database with the clock moved:
who gets which task when, and what the records get at the end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from engine.errors import InvalidData
from engine.runtime import StepEvent

PID = "placement_move"
PRIMARY_DOB = "2015-03-14"  # Year 7 (KS3) in the 2026/27 school year
YEAR_10_DOB = "2011-11-20"  # Year 10 (KS4) in the 2026/27 school year
SW, VSH, MGR = "social_worker", "vsh", "manager"


def start_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "child_ref": "C-1001", "child_name": "Amira Khan", "date_of_birth": PRIMARY_DOB,
        "current_school_urn": "100000", "move_proposed_at": "2026-12-01T09:00:00+00:00",
        "school_place_limit_school_days": 10, "area_notice_working_days": 5,
        "lane_roles": {"ks4_approver": "nominated_officer", "dcs": "dcs"},
    }
    data.update(overrides)
    return data


PROPOSAL = {"reason": "carer_request", "reason_detail": "The carers are retiring.",
            "planned_move_date": "2027-01-04", "emergency": False,
            "childs_wishes": "Wants to keep seeing her brother."}
CARE = {"placement_type": "foster_care", "placement_start_date": "2027-01-04", "carer_name": "Mr and Mrs Ahmed",
        "distance": "in_area"}
DISTANT_CARE = dict(CARE, distance="out_of_area_distant", area_authority="Cumbria County Council")
CHANGE = {"discussion_with_designated_teacher_held": True, "designated_teacher_name": "Dana Price",
          "childs_wishes_about_school": "Happy to move if she can join the football team.",
          "outcome": "change_school"}
STAY = dict(CHANGE, outcome="stay_at_current_school", childs_wishes_about_school="Wants to stay.")
APPLY = {"school_urn": "123456", "application_date": "2026-12-01"}
OFFERED = {"place_offered": True, "start_date": "2027-01-06"}
VIEWS = {"views": "Riverside can meet her needs; a tutor for the first half term.", "supports_move": True}
APPROVE = {"decision": "approve"}
KS4_POINTS = {"childs_wishes_ascertained": True, "provision_meets_pep": True, "designated_teacher_consulted": True,
              "iro_consulted": True}
ADJOINING_CARE = dict(DISTANT_CARE, distance="out_of_area_adjoining", area_authority="Leeds City Council")
AREA_NOTIFIED = {"area_authority_notified": True, "area_authority_notified_on": "2026-12-01"}
DCS_APPROVES = dict(AREA_NOTIFIED, dcs_decision="approve")
OFFICER_APPROVES = dict(AREA_NOTIFIED, out_of_area_decision="approve")
NO = "nominated_officer"


def school_and_iro(on: str = "2026-12-01") -> dict[str, Any]:
    """The school and IRO notice form, both told on ``on``."""
    return {"school_notice_method": "email", "school_notified_to": "Dana Price, designated teacher",
            "school_notified_on": on, "iro_notice_method": "phone", "iro_notified_to": "Sam Reed",
            "iro_notified_on": on}


def area_notice(on: str = "2026-12-01") -> dict[str, Any]:
    return {"notice_sent_on": on, "area_notice_method": "email", "notified_to": "LAC team"}


class Reached:
    """The data at each element as the step hooks see it (what the records would be given)."""

    def __init__(self, scenario: Any) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        scenario.facts.after_step = self.record

    def record(self, session: Any, event: StepEvent) -> None:
        for reached in event.reached:
            self.data[reached.element_id] = dict(reached.data)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def begin(scenario: Any, proposal: dict[str, Any] | None = None, **start: Any) -> int:
    scenario.deploy(PID)
    iid: int = scenario.start(PID, start.get("child_ref", "C-1001"), start_data(**start))
    assert scenario.open_tasks(iid) == [("propose_move", SW)]
    scenario.complete(iid, "propose_move", dict(PROPOSAL, **(proposal or {})))
    return iid


def arrange(scenario: Any, iid: int, care: dict[str, Any] = CARE, school: dict[str, Any] = STAY) -> None:
    scenario.complete(iid, "confirm_care_placement", care)
    scenario.complete(iid, "discuss_school_choice", school)
    if school["outcome"] == "change_school":
        scenario.complete(iid, "apply_for_school_place", APPLY)
        scenario.complete(iid, "confirm_school_place", OFFERED)


def timer_due(scenario: Any, iid: int, element_id: str) -> datetime:
    due: datetime
    [due] = [due for element, due in scenario.timers(iid) if element == element_id]
    return due if due.tzinfo else due.replace(tzinfo=UTC)


def refused_fields(scenario: Any, iid: int, element_id: str, data: dict[str, Any]) -> set[str]:
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, element_id, data)
    return set(refused.value.errors)


# --- ordinary moves ---------------------------------------------------------------------------


def test_an_ordinary_move_arranges_both_branches_together_then_the_vsh_then_the_manager_approves(
    scenario: Any,
) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    assert scenario.open_tasks(iid) == [("confirm_care_placement", SW), ("discuss_school_choice", SW)]

    scenario.wait(days=1)
    scenario.complete(iid, "discuss_school_choice", CHANGE)
    scenario.complete(iid, "apply_for_school_place", APPLY)
    scenario.complete(iid, "confirm_school_place", OFFERED)
    assert scenario.open_tasks(iid) == [("confirm_care_placement", SW)]  # the VSH waits for both branches

    scenario.complete(iid, "confirm_care_placement", CARE)
    assert scenario.open_tasks(iid) == [("record_vsh_views", VSH)]
    assert timer_due(scenario, iid, "vsh_views_due") == at("2026-12-09T09:00")  # 5 working days

    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]  # in area: no area steps
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    assert scenario.open_tasks(iid) == [("sign_off_move", MGR)]
    scenario.complete(iid, "sign_off_move", APPROVE)

    assert scenario.status(iid) == "completed"
    end = reached.data["move_approved"]
    assert {k: end[k] for k in ("placement_type", "placement_start_date", "carer_name", "distance", "school_changed",
                                "school_urn", "start_date", "emergency", "planned_move_date")} == {
        "placement_type": "foster_care", "placement_start_date": "2027-01-04", "carer_name": "Mr and Mrs Ahmed",
        "distance": "in_area", "school_changed": True, "school_urn": "123456", "start_date": "2027-01-06",
        "emergency": False, "planned_move_date": "2027-01-04",
    }
    assert end["area_authority"] == "" and end["reason"] == "carer_request"


def test_a_child_who_stays_at_their_school_needs_no_application(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    scenario.complete(iid, "discuss_school_choice", STAY)
    assert scenario.open_tasks(iid) == [("confirm_care_placement", SW)]
    assert "school_place_deadline" not in dict(scenario.timers(iid))
    scenario.complete(iid, "confirm_care_placement", CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    scenario.complete(iid, "sign_off_move", APPROVE)
    assert "apply_for_school_place" not in {element for _, element in scenario.history(iid)}
    assert reached.data["move_approved"]["school_changed"] is False
    assert "staying_at_current_school" in reached.data


def test_the_discussion_with_the_designated_teacher_cannot_be_skipped(scenario: Any) -> None:
    iid = begin(scenario)
    fields = refused_fields(scenario, iid, "discuss_school_choice",
                            dict(CHANGE, discussion_with_designated_teacher_held=False))
    assert fields == {"discussion_with_designated_teacher_held"}
    assert ("discuss_school_choice", SW) in scenario.open_tasks(iid)


# --- emergencies --------------------------------------------------------------------------------


def test_an_emergency_move_confirms_the_care_placement_first_and_then_runs_the_education_against_the_limit(
    scenario: Any,
) -> None:
    iid = begin(scenario, {"emergency": True, "planned_move_date": "2026-12-01"}, date_of_birth=YEAR_10_DOB)
    assert scenario.open_tasks(iid) == [("confirm_care_placement", SW)]
    assert scenario.timers(iid) == []

    scenario.wait(days=1)  # Wednesday 2 December: the placement began yesterday
    scenario.complete(iid, "confirm_care_placement", dict(CARE, placement_start_date="2026-12-01"))
    assert scenario.open_tasks(iid) == [("discuss_school_choice", SW)]
    # 10 school days from the day the child moved, not from today
    assert timer_due(scenario, iid, "school_place_deadline") == at("2026-12-15T00:00")

    scenario.complete(iid, "discuss_school_choice", STAY)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    # a Year 10 child, but emergency moves need no KS4 approval (reg. 10(2))
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]


def test_an_emergency_without_a_school_place_reaches_the_manager_on_the_limit_counted_from_the_move(
    scenario: Any,
) -> None:
    iid = begin(scenario, {"emergency": True, "planned_move_date": "2026-12-01"})
    scenario.complete(iid, "confirm_care_placement", dict(CARE, placement_start_date="2026-12-01"))
    scenario.at(at("2026-12-14T23:59"))
    assert ("escalate_no_school_place", MGR) not in scenario.open_tasks(iid)
    scenario.at(at("2026-12-15T00:00"))
    assert scenario.open_tasks(iid) == [("discuss_school_choice", SW), ("escalate_no_school_place", MGR)]


# --- Key Stage 4 ----------------------------------------------------------------------------------


def test_a_ks4_move_needs_the_nominated_officer_before_sign_off(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario, date_of_birth=YEAR_10_DOB)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("approve_ks4_move", "nominated_officer")]
    fields = refused_fields(scenario, iid, "approve_ks4_move",
                            dict(KS4_POINTS, iro_consulted=False, ks4_decision="approve"))
    assert fields == {"iro_consulted"}
    scenario.complete(iid, "approve_ks4_move", dict(KS4_POINTS, ks4_decision="approve"))
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    assert scenario.open_tasks(iid) == [("sign_off_move", MGR)]
    scenario.complete(iid, "sign_off_move", APPROVE)
    assert "move_approved" in reached.data


def test_a_council_that_makes_the_vsh_its_ks4_approver_gives_the_vsh_the_approval(scenario: Any) -> None:
    iid = begin(scenario, date_of_birth=YEAR_10_DOB, lane_roles={"ks4_approver": "vsh", "dcs": "dcs"})
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("approve_ks4_move", VSH)]


def test_a_refused_ks4_move_ends_refused_without_a_sign_off(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario, date_of_birth=YEAR_10_DOB)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    refusal = dict(KS4_POINTS, provision_meets_pep=False, ks4_decision="refuse")
    assert refused_fields(scenario, iid, "approve_ks4_move", refusal) == {"ks4_refusal_reason"}
    scenario.complete(iid, "approve_ks4_move", dict(refusal, ks4_refusal_reason="Mock exams in three weeks."))
    assert scenario.status(iid) == "completed"
    assert "move_refused" in reached.data and "sign_off_move" not in reached.data


# --- distant out-of-area placements (reg. 11) -------------------------------------------------------


def test_a_distant_placement_still_needs_the_dcs_after_the_area_authority_is_told_then_the_notices(
    scenario: Any,
) -> None:
    iid = begin(scenario)
    arrange(scenario, iid, care=DISTANT_CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("approve_distant_placement", "dcs")]  # not the nominated officer
    assert refused_fields(scenario, iid, "approve_distant_placement",
                          {"dcs_decision": "approve", "area_authority_notified": False}) == {"area_authority_notified"}
    scenario.complete(iid, "approve_distant_placement", DCS_APPROVES)
    # reg. 13: the area authority, the school and the IRO, each by the placement start date (Monday 4 January)
    assert scenario.open_tasks(iid) == [("notify_area_authority", SW), ("notify_school_and_iro", SW)]
    for task in ("notify_area_authority", "notify_school_and_iro"):
        assert scenario.task(iid, task).due_at.replace(tzinfo=UTC) == at("2027-01-05T00:00"), task
    scenario.complete(iid, "notify_area_authority", area_notice())
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]  # the sign-off waits for every notice
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    assert scenario.open_tasks(iid) == [("sign_off_move", MGR)]


def test_a_late_emergency_notice_reaches_a_manager_after_five_working_days_not_counting_christmas(
    scenario: Any,
) -> None:
    scenario.at(at("2026-12-21T09:00"))  # Monday; 25, 28 December are bank holidays
    iid = begin(scenario, {"emergency": True, "planned_move_date": "2026-12-21"},
                move_proposed_at="2026-12-21T09:00:00+00:00")
    arrange(scenario, iid, care=dict(DISTANT_CARE, placement_start_date="2026-12-21"))
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_distant_placement", dict(DCS_APPROVES, area_authority_notified_on="2026-12-21"))
    scenario.complete(iid, "notify_school_and_iro", school_and_iro("2026-12-21"))
    # working days 22, 23, 24, 29, 30 December: the fifth ends at midnight on the 31st
    scenario.at(at("2026-12-30T23:59"))
    assert scenario.open_tasks(iid) == [("notify_area_authority", SW)]
    scenario.at(at("2026-12-31T00:00"))
    assert scenario.open_tasks(iid) == [("area_notice_overdue", MGR), ("notify_area_authority", SW)]
    scenario.complete(iid, "area_notice_overdue", {"action_taken": "Team manager phoned Cumbria today."})
    scenario.complete(iid, "notify_area_authority", area_notice("2026-12-31"))
    scenario.complete(iid, "sign_off_move", APPROVE)
    assert scenario.status(iid) == "completed"


def test_a_refused_distant_placement_ends_refused(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    arrange(scenario, iid, care=DISTANT_CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_distant_placement", {"dcs_decision": "refuse", "dcs_refusal_reason": "Too far.",
                                                         "area_authority_notified": False})
    assert scenario.status(iid) == "completed"
    assert "move_refused" in reached.data and "notify_area_authority" not in reached.data
    assert scenario.open_tasks(iid) == [] and scenario.timers(iid) == []  # and no notice of a refused placement


# --- the VSH's views and the sign-off ---------------------------------------------------------------


def test_there_is_no_sign_off_while_the_vsh_views_are_missing_and_empty_views_are_refused(scenario: Any) -> None:
    iid = begin(scenario)
    arrange(scenario, iid)
    assert scenario.open_tasks(iid) == [("record_vsh_views", VSH)]
    assert refused_fields(scenario, iid, "record_vsh_views", dict(VIEWS, views="  ")) == {"views"}
    assert refused_fields(scenario, iid, "record_vsh_views", {"supports_move": True}) == {"views"}
    assert scenario.open_tasks(iid) == [("record_vsh_views", VSH)]


def test_a_refused_sign_off_needs_a_reason_and_ends_refused(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    assert refused_fields(scenario, iid, "sign_off_move", {"decision": "refuse"}) == {"sign_off_reason"}
    scenario.complete(iid, "sign_off_move", {"decision": "refuse", "sign_off_reason": "No school place yet."})
    assert scenario.status(iid) == "completed"
    assert "move_refused" in reached.data and "move_approved" not in reached.data
    assert reached.data["move_refused"]["reason"] == "carer_request"  # the move's reason survives


# --- no school place ------------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "due"), [(10, "2027-01-13T09:00"), (20, "2027-01-27T09:00")])
def test_no_school_place_within_the_councils_limit_in_school_days_asks_a_manager_on_that_school_day(
    scenario: Any, limit: int, due: str,
) -> None:
    scenario.at(at("2026-12-14T09:00"))  # the Christmas holiday and the INSET day on 5 January do not count
    iid = begin(scenario, move_proposed_at="2026-12-14T09:00:00+00:00", school_place_limit_school_days=limit)
    scenario.complete(iid, "discuss_school_choice", CHANGE)
    assert timer_due(scenario, iid, "school_place_deadline") == at(due)
    scenario.at(at(due).replace(hour=8, minute=59))
    assert ("escalate_no_school_place", MGR) not in scenario.open_tasks(iid)
    scenario.at(at(due))
    assert scenario.open_tasks(iid) == [
        ("apply_for_school_place", SW), ("confirm_care_placement", SW), ("escalate_no_school_place", MGR),
    ]


def test_a_direction_needs_the_school_to_direct_to_and_the_move_goes_on(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    scenario.complete(iid, "discuss_school_choice", CHANGE)
    scenario.at(at("2026-12-15T09:00"))
    direction = {"decision": "start_direction", "notes": "Consult the school today."}
    assert refused_fields(scenario, iid, "escalate_no_school_place", direction) == {"direction_school_urn"}
    assert refused_fields(scenario, iid, "escalate_no_school_place",
                          dict(direction, direction_school_urn="12345")) == {"direction_school_urn"}
    scenario.complete(iid, "escalate_no_school_place", dict(direction, direction_school_urn="654321"))
    assert reached.data["escalate_no_school_place"]["direction_school_urn"] == "654321"
    assert scenario.open_tasks(iid) == [("apply_for_school_place", SW), ("confirm_care_placement", SW)]
    scenario.complete(iid, "apply_for_school_place", dict(APPLY, school_urn="654321"))
    scenario.complete(iid, "confirm_school_place", OFFERED)
    scenario.complete(iid, "confirm_care_placement", CARE)
    assert scenario.open_tasks(iid) == [("record_vsh_views", VSH)]


def test_a_refused_school_place_loops_back_to_another_application(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    scenario.complete(iid, "discuss_school_choice", CHANGE)
    scenario.complete(iid, "apply_for_school_place", APPLY)
    assert refused_fields(scenario, iid, "confirm_school_place", {"place_offered": True}) == {"start_date"}
    assert refused_fields(scenario, iid, "confirm_school_place", {"place_offered": False}) == {"refusal_reason"}
    scenario.complete(iid, "confirm_school_place", {"place_offered": False, "refusal_reason": "Year 7 is full."})
    assert scenario.open_tasks(iid) == [("apply_for_school_place", SW), ("confirm_care_placement", SW)]
    scenario.complete(iid, "apply_for_school_place", dict(APPLY, school_urn="222222"))
    scenario.complete(iid, "confirm_school_place", OFFERED)
    scenario.complete(iid, "confirm_care_placement", CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    scenario.complete(iid, "sign_off_move", APPROVE)
    end = reached.data["move_approved"]
    assert (end["school_urn"], end["start_date"], end["place_offered"]) == ("222222", "2027-01-06", True)


# --- cancellation ---------------------------------------------------------------------------------


def test_the_placement_cancelled_message_ends_the_move_and_closes_its_tasks_and_timers(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    scenario.complete(iid, "discuss_school_choice", CHANGE)
    scenario.at(at("2026-12-15T09:00"))
    assert len(scenario.open_tasks(iid)) == 3
    scenario.message(iid, "placement_cancelled", {"reason": "The carers can keep her after all."})
    assert scenario.open_tasks(iid) == []
    assert scenario.timers(iid) == []
    assert scenario.status(iid) == "completed"
    assert reached.data["move_cancelled"]["cancellation"] == {"reason": "The carers can keep her after all."}


# --- reg. 11 approval of every out-of-area placement, and the reg. 13 notices -------------------------


def test_an_adjoining_placement_needs_the_nominated_officer_who_cannot_approve_before_the_area_is_notified(
    scenario: Any,
) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    arrange(scenario, iid, care=ADJOINING_CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("approve_out_of_area_placement", NO)]  # not the DCS: it adjoins
    approve = {"out_of_area_decision": "approve"}
    assert refused_fields(scenario, iid, "approve_out_of_area_placement",
                          dict(approve, area_authority_notified=False)) == {"area_authority_notified"}
    assert refused_fields(scenario, iid, "approve_out_of_area_placement",
                          dict(approve, area_authority_notified=True)) == {"area_authority_notified_on"}
    # Tuesday 1 December: a notice dated tomorrow is not a notice given before today's approval
    assert refused_fields(scenario, iid, "approve_out_of_area_placement",
                          dict(OFFICER_APPROVES, area_authority_notified_on="2026-12-02")) == {
        "area_authority_notified_on"}
    assert scenario.open_tasks(iid) == [("approve_out_of_area_placement", NO)]  # nothing was applied

    scenario.complete(iid, "approve_out_of_area_placement", dict(OFFICER_APPROVES,
                                                                 area_authority_notified_on="2026-11-30"))
    assert reached.data["approve_out_of_area_placement"]["area_authority_notified_on"] == "2026-11-30"
    assert scenario.open_tasks(iid) == [("notify_area_authority", SW), ("notify_school_and_iro", SW)]


def test_a_refused_adjoining_placement_ends_refused_without_any_notice(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    arrange(scenario, iid, care=ADJOINING_CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    refusal = {"out_of_area_decision": "refuse", "area_authority_notified": False}
    assert refused_fields(scenario, iid, "approve_out_of_area_placement", refusal) == {"out_of_area_refusal_reason"}
    scenario.complete(iid, "approve_out_of_area_placement",
                      dict(refusal, out_of_area_refusal_reason="A closer carer is available next week."))
    assert scenario.status(iid) == "completed" and scenario.open_tasks(iid) == []
    assert "move_refused" in reached.data and "notify_school_and_iro" not in reached.data


def test_a_planned_placements_school_and_iro_notice_is_due_by_its_start_and_escalates_the_next_working_day(
    scenario: Any,
) -> None:
    iid = begin(scenario)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]
    # the placement starts on Monday 4 January 2027: due by that day, overdue from 00:00 on Tuesday 5 January
    assert timer_due(scenario, iid, "school_iro_notice_due") == at("2027-01-05T00:00")
    assert "area_notice_due" not in dict(scenario.timers(iid))
    scenario.at(at("2027-01-04T23:59"))
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]
    scenario.at(at("2027-01-05T00:00"))
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW), ("school_iro_notice_overdue", MGR)]
    assert refused_fields(scenario, iid, "school_iro_notice_overdue", {"school_iro_action_taken": " "}) == {
        "school_iro_action_taken"}
    scenario.complete(iid, "school_iro_notice_overdue", {"school_iro_action_taken": "Asked the SW to email today."})
    assert refused_fields(scenario, iid, "notify_school_and_iro", school_and_iro("2027-01-06")) == {
        "school_notified_on", "iro_notified_on"}  # not in the future
    scenario.complete(iid, "notify_school_and_iro", school_and_iro("2027-01-05"))
    scenario.complete(iid, "sign_off_move", APPROVE)
    assert scenario.status(iid) == "completed"


def test_an_emergency_placements_notices_are_due_within_five_working_days_across_christmas_and_new_year(
    scenario: Any,
) -> None:
    # the child moved in an emergency on Thursday 24 December 2026; 25 and 28 December and 1 January are
    # bank holidays: working days 29, 30, 31 December, 4 and 5 January, so due by Tuesday 5 January
    scenario.at(at("2026-12-24T09:00"))
    iid = begin(scenario, {"emergency": True, "planned_move_date": "2026-12-24"},
                move_proposed_at="2026-12-24T09:00:00+00:00")
    scenario.complete(iid, "confirm_care_placement", dict(ADJOINING_CARE, placement_start_date="2026-12-24"))
    scenario.complete(iid, "discuss_school_choice", STAY)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_out_of_area_placement",
                      dict(OFFICER_APPROVES, area_authority_notified_on="2026-12-24"))
    for timer in ("school_iro_notice_due", "area_notice_due"):
        assert timer_due(scenario, iid, timer) == at("2027-01-06T00:00"), timer
    scenario.at(at("2027-01-05T23:59"))
    assert scenario.open_tasks(iid) == [("notify_area_authority", SW), ("notify_school_and_iro", SW)]
    scenario.at(at("2027-01-06T00:00"))
    assert scenario.open_tasks(iid) == [
        ("area_notice_overdue", MGR), ("notify_area_authority", SW), ("notify_school_and_iro", SW),
        ("school_iro_notice_overdue", MGR),
    ]


def test_a_council_with_a_shorter_area_notice_limit_gets_the_area_escalation_first(scenario: Any) -> None:
    scenario.at(at("2026-12-24T09:00"))
    iid = begin(scenario, {"emergency": True, "planned_move_date": "2026-12-24"},
                move_proposed_at="2026-12-24T09:00:00+00:00", area_notice_working_days=3)
    scenario.complete(iid, "confirm_care_placement", dict(ADJOINING_CARE, placement_start_date="2026-12-24"))
    scenario.complete(iid, "discuss_school_choice", STAY)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_out_of_area_placement",
                      dict(OFFICER_APPROVES, area_authority_notified_on="2026-12-24"))
    assert timer_due(scenario, iid, "area_notice_due") == at("2027-01-01T00:00")  # 29, 30, 31 December
    assert timer_due(scenario, iid, "school_iro_notice_due") == at("2027-01-06T00:00")  # the law's 5, fixed


def test_an_adjoining_placement_notifies_the_area_authority_by_its_start_or_a_manager_is_asked(
    scenario: Any,
) -> None:
    reached = Reached(scenario)
    iid = begin(scenario)
    arrange(scenario, iid, care=ADJOINING_CARE)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_out_of_area_placement", OFFICER_APPROVES)
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    assert scenario.task(iid, "notify_area_authority").due_at.replace(tzinfo=UTC) == at("2027-01-05T00:00")
    scenario.at(at("2027-01-04T23:59"))
    assert scenario.open_tasks(iid) == [("notify_area_authority", SW)]
    scenario.at(at("2027-01-05T00:00"))
    assert scenario.open_tasks(iid) == [("area_notice_overdue", MGR), ("notify_area_authority", SW)]
    scenario.complete(iid, "notify_area_authority", area_notice("2027-01-05"))
    assert scenario.open_tasks(iid) == [("area_notice_overdue", MGR), ("sign_off_move", MGR)]
    scenario.complete(iid, "sign_off_move", APPROVE)
    end = reached.data["move_approved"]
    assert (end["notice_sent_on"], end["school_notified_on"], end["iro_notified_on"]) == (
        "2027-01-05", "2026-12-01", "2026-12-01")
    assert end["area_authority_notified_on"] == "2026-12-01"


def test_an_in_area_placement_needs_none_of_the_area_steps(scenario: Any) -> None:
    reached = Reached(scenario)
    iid = begin(scenario, date_of_birth=YEAR_10_DOB)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    scenario.complete(iid, "approve_ks4_move", dict(KS4_POINTS, ks4_decision="approve"))
    assert scenario.open_tasks(iid) == [("notify_school_and_iro", SW)]
    assert [element for element, _ in scenario.timers(iid)] == ["school_iro_notice_due"]
    scenario.complete(iid, "notify_school_and_iro", school_and_iro())
    scenario.complete(iid, "sign_off_move", APPROVE)
    area_steps = {"approve_out_of_area_placement", "approve_distant_placement", "notify_area_authority",
                  "area_notice_due", "area_notice_overdue"}
    assert area_steps & set(reached.data) == set()
    assert area_steps & {element for _, element in scenario.history(iid)} == set()
    assert "move_approved" in reached.data


def test_a_child_with_no_school_or_provider_needs_only_the_iro_told(scenario: Any) -> None:
    iid = begin(scenario)
    arrange(scenario, iid)
    scenario.complete(iid, "record_vsh_views", VIEWS)
    iro_only = dict(school_and_iro(), school_notice_method="no_provider", school_notified_to="",
                    school_notified_on=None)
    scenario.complete(iid, "notify_school_and_iro", iro_only)
    assert scenario.open_tasks(iid) == [("sign_off_move", MGR)]
