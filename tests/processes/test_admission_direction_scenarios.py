"""The admission_direction process, run on the real engine and database with a moving clock:
who gets which task when, through the s97A direction, the ESFA route for an academy, the
LA admitting as its own admission authority, and a school that cannot be directed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.errors import InvalidData
from engine.runtime import StepEvent

from .conftest import Scenario

PID = "admission_direction"
REQUESTED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday, the harness's default clock

MAINTAINED_SCHOOL = {
    "school_urn": "100001",
    "school_name": "St Anne's Voluntary Aided Primary",
    "school_type": "maintained",
    "la_is_admission_authority": False,
    "permanently_excluded_from_school": False,
}
COMMUNITY_SCHOOL_FACTS = {
    "school_name": "Brook Lane Community Primary",
    "school_type": "maintained",
    "la_is_admission_authority": True,
    "permanently_excluded_from_school": False,
}
FOUNDATION_SCHOOL_FACTS = {
    "school_name": "Hillside Foundation School",
    "school_type": "maintained",
    "la_is_admission_authority": False,
    "permanently_excluded_from_school": False,
}


def at(day: str, time: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}:00+00:00")


def start(scenario: Scenario, requested_at: datetime = REQUESTED_AT, **overrides: Any) -> int:
    """Start a direction for C-1001 at a voluntary-aided school, with the council's default settings."""
    scenario.deploy(PID)
    if requested_at > scenario.clock.now():
        scenario.at(requested_at)
    data = {
        "child_ref": "C-1001",
        "child_name": "Amira Khan",
        **MAINTAINED_SCHOOL,
        "requested_at": requested_at.isoformat(),
        "chase_working_days": 5,
        "esfa_outcome_working_days": 20,
        **overrides,
    }
    return scenario.start(PID, "C-1001", data)


def on_day(scenario: Scenario, day: str) -> None:
    """Move the clock on to 09:00 on ``day`` if it is not there yet: a step records what has happened."""
    if at(day) > scenario.clock.now():
        scenario.at(at(day))


def consult(scenario: Scenario, iid: int, consulted_on: str) -> None:
    on_day(scenario, consulted_on)
    scenario.complete(iid, "consult_admission_authority", {
        "consulted_on": consulted_on, "consultation_method": "email",
        "admission_authority_contact": "Chair of governors",
    })


def serve(scenario: Scenario, iid: int, served_on: str) -> None:
    on_day(scenario, served_on)
    scenario.complete(iid, "serve_direction_notice", {
        "served_on": served_on, "notice_to_admission_authority": True,
        "notice_to_headteacher": True, "notice_to_governing_body": True,
    })


def on_roll(admitted_on: str) -> dict[str, Any]:
    return {"admitted_on": admitted_on, "confirmed_with_school": True}


def timer_due(scenario: Scenario, iid: int, element_id: str) -> datetime:
    [due] = [due for element, due in scenario.timers(iid) if element == element_id]
    return due if due.tzinfo else due.replace(tzinfo=UTC)


class ReachedLog:
    """The elements each step reached, as the integrator's ``after_step`` hook sees them."""

    def __init__(self) -> None:
        self.by_instance: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)

    def __call__(self, session: Any, event: StepEvent) -> None:
        self.by_instance[event.instance.id].extend((r.element_id, dict(r.data)) for r in event.reached)

    def ids(self, iid: int) -> list[str]:
        return [element for element, _ in self.by_instance[iid]]

    def data_at(self, iid: int, element_id: str) -> dict[str, Any]:
        [data] = [data for element, data in self.by_instance[iid] if element == element_id]
        return data


@pytest.fixture
def log(scenario: Scenario) -> ReachedLog:
    recorder = ReachedLog()
    scenario.facts.after_step = recorder  # type: ignore[method-assign]
    return recorder


def direct_to_serving(scenario: Scenario, iid: int, consulted_on: str = "2026-12-01") -> None:
    consult(scenario, iid, consulted_on)
    scenario.at(at("2026-12-08"))
    scenario.complete(iid, "consider_representations", {"direction_decision": "direct"})


# --- the s97A direction of a maintained school ----------------------------------------------------


def test_maintained_school_goes_through_every_statutory_period_to_the_child_on_roll(
        scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario)
    assert scenario.open_tasks(iid) == [("consult_admission_authority", "admissions_officer")]

    consult(scenario, iid, "2026-12-01")
    assert scenario.open_tasks(iid) == [("record_representations", "admissions_officer")]
    scenario.at(at("2026-12-07"))  # day 6: the admission authority may still make representations
    assert scenario.open_tasks(iid) == [("record_representations", "admissions_officer")]
    scenario.at(at("2026-12-08", "00:00"))  # day 7: the period has ended
    assert scenario.open_tasks(iid) == [("consider_representations", "admissions_officer")]

    scenario.complete(iid, "consider_representations", {"direction_decision": "direct"})
    assert scenario.open_tasks(iid) == [("serve_direction_notice", "admissions_officer")]
    serve(scenario, iid, "2026-12-08")
    assert scenario.open_tasks(iid) == [("record_adjudicator_referral", "admissions_officer")]

    scenario.at(at("2026-12-14", "23:59"))  # 6 days after the notice: still open to a referral
    assert scenario.open_tasks(iid) == [("record_adjudicator_referral", "admissions_officer")]
    assert "direction_in_force" not in log.ids(iid)
    scenario.at(at("2026-12-15"))  # 7 days: no referral, the direction takes effect
    assert scenario.open_tasks(iid) == [("confirm_child_on_roll", "admissions_officer")]
    assert scenario.data(iid)["direction_in_force_on"] == "2026-12-15"

    scenario.complete(iid, "confirm_child_on_roll", on_roll("2026-12-16"))
    assert scenario.status(iid) == "completed"
    end = log.data_at(iid, "child_admitted")
    assert (end["school_urn"], end["admitted_on"]) == ("100001", "2026-12-16")
    assert log.data_at(iid, "direction_in_force")["direction_in_force_on"] == "2026-12-15"


def test_the_seven_days_for_representations_are_calendar_days_even_over_christmas(
        scenario: Scenario) -> None:
    iid = start(scenario, requested_at=at("2026-12-23"))  # Wednesday; 25 and 28 Dec are bank holidays
    consult(scenario, iid, "2026-12-23")
    assert timer_due(scenario, iid, "representations_period_ended") == at("2026-12-30", "00:00")

    scenario.at(at("2026-12-29", "23:59"))
    assert scenario.open_tasks(iid) == [("record_representations", "admissions_officer")]
    scenario.at(at("2026-12-30", "00:00"))
    assert scenario.open_tasks(iid) == [("consider_representations", "admissions_officer")]


def test_notice_must_reach_all_three_and_the_referral_window_is_seven_calendar_days_over_a_weekend(
        scenario: Scenario) -> None:
    iid = start(scenario)
    direct_to_serving(scenario, iid)
    on_day(scenario, "2026-12-11")
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, "serve_direction_notice", {
            "served_on": "2026-12-11", "notice_to_admission_authority": True, "notice_to_headteacher": True,
        })
    assert set(refused.value.errors) == {"notice_to_governing_body"}
    serve(scenario, iid, "2026-12-11")  # Friday
    assert timer_due(scenario, iid, "adjudicator_window_ended") == at("2026-12-18", "00:00")


def test_early_representations_still_wait_for_the_full_seven_days_before_the_decision(
        scenario: Scenario) -> None:
    iid = start(scenario)
    consult(scenario, iid, "2026-12-01")
    scenario.at(at("2026-12-03"))
    scenario.complete(iid, "record_representations", {
        "representations_received_on": "2026-12-03",
        "representations": "The school is full in Year 4.",
        "school_agrees_to_admit": False,
    })
    assert scenario.open_tasks(iid) == []
    assert timer_due(scenario, iid, "representations_period_over") == at("2026-12-08", "00:00")

    scenario.at(at("2026-12-07", "23:59"))
    assert scenario.open_tasks(iid) == []
    scenario.at(at("2026-12-08", "00:00"))
    assert scenario.open_tasks(iid) == [("consider_representations", "admissions_officer")]
    assert scenario.data(iid)["representations"] == "The school is full in Year 4."


def test_a_school_that_agrees_during_the_representations_period_needs_no_direction(
        scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario)
    consult(scenario, iid, "2026-12-01")
    on_day(scenario, "2026-12-02")
    scenario.complete(iid, "record_representations", {
        "representations_received_on": "2026-12-02", "school_agrees_to_admit": True,
    })
    assert scenario.open_tasks(iid) == [("confirm_child_on_roll", "admissions_officer")]
    on_day(scenario, "2026-12-07")
    scenario.complete(iid, "confirm_child_on_roll", on_roll("2026-12-07"))
    assert scenario.status(iid) == "completed"
    assert "consider_representations" not in log.ids(iid)
    assert "serve_direction_notice" not in log.ids(iid)


def test_withdrawing_the_direction_ends_at_direction_withdrawn_with_the_reason(scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario)
    consult(scenario, iid, "2026-12-01")
    scenario.at(at("2026-12-08"))
    scenario.complete(iid, "consider_representations", {
        "direction_decision": "withdraw", "decision_reason": "The child's new placement is elsewhere.",
    })
    assert scenario.status(iid) == "completed"
    assert "direction_withdrawn" in log.ids(iid)
    assert scenario.data(iid)["decision_reason"] == "The child's new placement is elsewhere."


def test_a_referral_upheld_by_the_adjudicator_puts_the_direction_in_force_on_the_decision_date(
        scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario)
    direct_to_serving(scenario, iid)
    serve(scenario, iid, "2026-12-08")
    on_day(scenario, "2026-12-10")
    scenario.complete(iid, "record_adjudicator_referral", {"referred_on": "2026-12-10"})
    assert scenario.open_tasks(iid) == [("record_adjudicator_decision", "admissions_officer")]

    scenario.at(at("2026-12-15"))  # the 7-day window no longer decides anything
    assert scenario.open_tasks(iid) == [("record_adjudicator_decision", "admissions_officer")]
    assert "direction_in_force" not in log.ids(iid)

    on_day(scenario, "2026-12-16")
    scenario.complete(iid, "record_adjudicator_decision", {
        "adjudicator_outcome": "upheld", "adjudicator_decided_on": "2026-12-16",
    })
    assert scenario.open_tasks(iid) == [("confirm_child_on_roll", "admissions_officer")]
    assert scenario.data(iid)["direction_in_force_on"] == "2026-12-16"
    assert "direction_in_force" in log.ids(iid)


def test_a_referral_not_upheld_asks_the_manager_who_can_send_the_officer_to_another_school(
        scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario)
    direct_to_serving(scenario, iid)
    serve(scenario, iid, "2026-12-08")
    on_day(scenario, "2026-12-10")
    scenario.complete(iid, "record_adjudicator_referral", {"referred_on": "2026-12-10"})
    on_day(scenario, "2026-12-16")
    scenario.complete(iid, "record_adjudicator_decision", {
        "adjudicator_outcome": "not_upheld", "adjudicator_decided_on": "2026-12-16",
    })
    assert scenario.open_tasks(iid) == [("decide_after_adjudicator", "manager")]
    assert "direction_in_force" not in log.ids(iid)

    scenario.facts.by_element["choose_another_school"] = COMMUNITY_SCHOOL_FACTS
    scenario.complete(iid, "decide_after_adjudicator", {"next_step": "another_school"})
    assert scenario.open_tasks(iid) == [("choose_another_school", "admissions_officer")]
    scenario.complete(iid, "choose_another_school", {"school_urn": "100002"})
    assert scenario.open_tasks(iid) == [("admit_child", "admissions_officer")]


def test_the_adjudicator_referral_reminds_the_manager_after_the_chase_period(scenario: Scenario) -> None:
    iid = start(scenario)
    direct_to_serving(scenario, iid)
    serve(scenario, iid, "2026-12-08")
    on_day(scenario, "2026-12-10")
    scenario.complete(iid, "record_adjudicator_referral", {"referred_on": "2026-12-10"})
    # Thursday 10 Dec + 5 working days = Thursday 17 Dec
    assert timer_due(scenario, iid, "adjudicator_decision_awaited") == at("2026-12-17", "00:00")
    scenario.at(at("2026-12-17"))
    assert scenario.open_tasks(iid) == [
        ("escalate_adjudicator_decision_awaited", "manager"),
        ("record_adjudicator_decision", "admissions_officer"),
    ]


# --- a school that cannot be directed ---------------------------------------------------------


def test_a_school_that_permanently_excluded_the_child_is_never_consulted(
        scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario, permanently_excluded_from_school=True)
    assert scenario.open_tasks(iid) == [("choose_another_school", "admissions_officer")]
    assert scenario.timers(iid) == []
    assert "consult_admission_authority" not in log.ids(iid)

    scenario.wait(days=2)
    scenario.facts.by_element["choose_another_school"] = FOUNDATION_SCHOOL_FACTS
    scenario.complete(iid, "choose_another_school", {"school_urn": "100003", "notes": "Near the carers."})
    assert scenario.open_tasks(iid) == [("consult_admission_authority", "admissions_officer")]
    data = scenario.data(iid)
    assert (data["school_urn"], data["school_name"]) == ("100003", "Hillside Foundation School")
    # the chase period for the new school counts from when it was chosen (Thu 3 Dec + 5 working days)
    assert timer_due(scenario, iid, "consultation_overdue") == at("2026-12-10")
    assert log.ids(iid).count("route") == 2


def test_an_independent_school_cannot_be_directed_either(scenario: Scenario) -> None:
    iid = start(scenario, school_type="independent")
    assert scenario.open_tasks(iid) == [("choose_another_school", "admissions_officer")]


# --- the LA as admission authority ------------------------------------------------------------


def test_where_the_la_is_the_admission_authority_it_admits_without_consultation(scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario, la_is_admission_authority=True)
    assert scenario.open_tasks(iid) == [("admit_child", "admissions_officer")]
    scenario.complete(iid, "admit_child", on_roll("2026-12-03"))
    assert scenario.status(iid) == "completed"
    assert "child_admitted" in log.ids(iid)
    assert "consult_admission_authority" not in log.ids(iid)
    assert scenario.data(iid)["admitted_on"] == "2026-12-03"


# --- the academy route -------------------------------------------------------------------------


def test_an_academy_goes_to_the_esfa_and_a_direction_leads_to_the_child_on_roll(scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario, school_type="academy")
    assert scenario.open_tasks(iid) == [("request_esfa_direction", "admissions_officer")]
    scenario.complete(iid, "request_esfa_direction", {"esfa_requested_on": "2026-12-01"})
    assert scenario.open_tasks(iid) == [("record_esfa_outcome", "admissions_officer")]

    on_day(scenario, "2026-12-10")
    scenario.complete(iid, "record_esfa_outcome", {"esfa_outcome": "directed", "esfa_outcome_on": "2026-12-10"})
    assert scenario.open_tasks(iid) == [("confirm_child_on_roll", "admissions_officer")]
    on_day(scenario, "2026-12-14")
    scenario.complete(iid, "confirm_child_on_roll", on_roll("2026-12-14"))
    assert scenario.status(iid) == "completed"
    assert "consult_admission_authority" not in log.ids(iid)


def test_an_overdue_esfa_outcome_escalates_after_twenty_working_days_not_counting_christmas(
        scenario: Scenario) -> None:
    iid = start(scenario, school_type="academy")
    scenario.complete(iid, "request_esfa_direction", {"esfa_requested_on": "2026-12-01"})
    # 20 working days after Tue 1 Dec, skipping weekends, 25 Dec and 28 Dec (Boxing Day substitute)
    assert timer_due(scenario, iid, "esfa_outcome_overdue") == at("2026-12-31", "00:00")

    scenario.at(at("2026-12-30", "23:59"))
    assert scenario.open_tasks(iid) == [("record_esfa_outcome", "admissions_officer")]
    scenario.at(at("2026-12-31"))
    assert scenario.open_tasks(iid) == [
        ("escalate_esfa_outcome_overdue", "manager"), ("record_esfa_outcome", "admissions_officer"),
    ]
    scenario.complete(iid, "escalate_esfa_outcome_overdue", {
        "escalation_action": "chased", "escalation_notes": "Called the ESFA case officer; reply by 8 Jan.",
    })
    assert scenario.open_tasks(iid) == [("record_esfa_outcome", "admissions_officer")]


def test_a_declined_esfa_request_goes_to_the_manager_who_may_close_it(scenario: Scenario, log: ReachedLog) -> None:
    iid = start(scenario, school_type="academy")
    scenario.complete(iid, "request_esfa_direction", {"esfa_requested_on": "2026-12-01"})
    on_day(scenario, "2026-12-10")
    scenario.complete(iid, "record_esfa_outcome", {
        "esfa_outcome": "declined", "esfa_outcome_on": "2026-12-10", "notes": "Not in the child's interest.",
    })
    assert scenario.open_tasks(iid) == [("decide_after_esfa_declined", "manager")]
    with pytest.raises(InvalidData) as refused:
        scenario.complete(iid, "decide_after_esfa_declined", {"next_step": "close"})
    assert set(refused.value.errors) == {"next_step_notes"}
    scenario.complete(iid, "decide_after_esfa_declined", {
        "next_step": "close", "next_step_notes": "Residential special school place agreed by the carers.",
    })
    assert scenario.status(iid) == "completed"
    assert "closed_without_a_place" in log.ids(iid)


# --- manager escalations when an LA-side step stalls ----------------------------------------------


def _reach_consider(scenario: Scenario, iid: int) -> None:
    consult(scenario, iid, "2026-12-01")
    scenario.at(at("2026-12-08", "00:00"))  # the 7 days for representations have ended


def _reach_serve(scenario: Scenario, iid: int) -> None:
    direct_to_serving(scenario, iid)  # decided Tue 8 Dec 09:00


def _reach_on_roll(scenario: Scenario, iid: int) -> None:
    direct_to_serving(scenario, iid)
    serve(scenario, iid, "2026-12-08")
    scenario.at(at("2026-12-15"))  # the direction takes effect; the place counts from now


Reach = Callable[[Scenario, int], None] | None
STALLS: dict[str, tuple[dict[str, Any], Reach, str, datetime, str]] = {
    # step left undone: (school, how to get there, its timer, due, the manager's task)
    "consult": ({}, None, "consultation_overdue", at("2026-12-08"), "escalate_consultation_overdue"),
    "consider": ({}, _reach_consider, "decision_overdue", at("2026-12-15", "00:00"), "escalate_decision_overdue"),
    "serve": ({}, _reach_serve, "notice_overdue", at("2026-12-15"), "escalate_notice_not_served"),
    "on_roll": ({}, _reach_on_roll, "child_not_on_roll", at("2026-12-22"), "escalate_child_not_on_roll"),
    "admit": ({"la_is_admission_authority": True}, None, "admission_stalled", at("2026-12-08"),
              "escalate_admission_stalled"),
    "esfa_request": ({"school_type": "academy"}, None, "esfa_request_not_sent", at("2026-12-08"),
                     "escalate_esfa_request_not_sent"),
}


@pytest.mark.parametrize("step", sorted(STALLS))
def test_a_stalled_la_step_reaches_a_manager_after_exactly_the_chase_period_and_stays_open(
        scenario: Scenario, step: str) -> None:
    school, reach, timer, due, escalation = STALLS[step]
    iid = start(scenario, **school)
    if reach:
        reach(scenario, iid)
    [(waiting, role)] = scenario.open_tasks(iid)
    assert timer_due(scenario, iid, timer) == due

    scenario.at(due - timedelta(minutes=1))
    assert scenario.open_tasks(iid) == [(waiting, role)]
    scenario.at(due)
    assert scenario.open_tasks(iid) == sorted([(waiting, role), (escalation, "manager")])
    scenario.complete(iid, escalation, {"escalation_action": "chased", "escalation_notes": "By Friday."})
    assert scenario.open_tasks(iid) == [(waiting, role)]


@pytest.mark.parametrize(("requested", "due"), [
    ("2026-12-03", "2026-12-10"),  # Thursday: the weekend does not count
    ("2026-12-21", "2026-12-30"),  # Monday: 25 Dec and 28 Dec (Boxing Day substitute) do not count
])
def test_the_consultation_escalation_counts_working_days_only(
        scenario: Scenario, requested: str, due: str) -> None:
    iid = start(scenario, requested_at=at(requested))
    assert timer_due(scenario, iid, "consultation_overdue") == at(due)
    scenario.at(at(due) - timedelta(minutes=1))
    assert scenario.open_tasks(iid) == [("consult_admission_authority", "admissions_officer")]
    scenario.at(at(due))
    assert ("escalate_consultation_overdue", "manager") in scenario.open_tasks(iid)


def test_the_chase_period_is_the_councils_own_setting(scenario: Scenario) -> None:
    iid = start(scenario, chase_working_days=10)
    assert timer_due(scenario, iid, "consultation_overdue") == at("2026-12-15")
