"""Dates are checked against reality (issue 12): each date field's window, with messages naming the limit.

The engine gives each form it checks the validation context ``{"today", "data"}``; here the forms are
loaded in that context directly, as ``engine.service.WorkflowService.validate`` does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from marshmallow import Schema, ValidationError
from marshmallow.experimental.context import Context

from processes.forms._pep_sections import ActionSchema
from processes.forms.admission_direction import ConfirmChildOnRoll, ConsultAdmissionAuthority
from processes.forms.placement_move import ApplyForSchoolPlace, ConfirmSchoolPlace, ProposeMove

TODAY = dt.date(2026, 12, 1)
BORN = {"date_of_birth": "2009-03-14"}


def errors(schema: Schema, data: dict[str, Any], process: dict[str, Any] | None = None) -> dict[str, Any]:
    with Context({"today": TODAY, "data": process or {}}):
        try:
            schema.load(data, partial=True)
        except ValidationError as error:
            return dict(error.messages) if isinstance(error.messages, dict) else {}
    return {}


def test_a_planned_move_before_the_childs_birth_is_refused_naming_the_date_of_birth() -> None:
    assert errors(ProposeMove(), {"planned_move_date": "1990-01-01"}, BORN) == {"planned_move_date": [
        "Planned move date must be on or after 14 March 2009 (the child's date of birth)"]}


def test_a_planned_move_years_in_the_past_or_future_is_refused() -> None:
    assert errors(ProposeMove(), {"planned_move_date": "2020-01-01"}, BORN) == {
        "planned_move_date": ["Planned move date must be within 1 year of today"]}
    assert errors(ProposeMove(), {"planned_move_date": "2030-01-01"}, BORN) == {
        "planned_move_date": ["Planned move date must be within 2 years of today"]}


def test_a_plausible_planned_move_passes() -> None:
    assert errors(ProposeMove(), {"planned_move_date": "2027-01-15"}, BORN) == {}


def test_a_school_start_in_1900_is_refused() -> None:
    assert errors(ConfirmSchoolPlace(), {"start_date": "1900-01-01"}, BORN) == {"start_date": [
        "Start date must be on or after 14 March 2009 (the child's date of birth)"]}
    assert errors(ConfirmChildOnRoll(), {"admitted_on": "1900-01-01"}) == {
        "admitted_on": ["Date the child starts must be within 1 year of today"]}


def test_an_application_dated_2030_is_refused_and_one_last_week_passes() -> None:
    assert errors(ApplyForSchoolPlace(), {"application_date": "2030-01-01"}) == {
        "application_date": ["Application date must be today or in the past"]}
    assert errors(ApplyForSchoolPlace(), {"application_date": "2026-12-02"}) == {  # tomorrow
        "application_date": ["Application date must be today or in the past"]}
    assert errors(ApplyForSchoolPlace(), {"application_date": "2026-11-24"}) == {}


def test_a_consultation_years_ago_is_refused() -> None:
    assert errors(ConsultAdmissionAuthority(), {"consulted_on": "2020-01-01"}) == {
        "consulted_on": ["Consulted on must be within 2 years of today"]}


def test_an_action_due_in_2020_or_years_ahead_is_refused_and_one_next_month_passes() -> None:
    action = {"description": "Tutor", "owner": "Ms Patel"}
    assert errors(ActionSchema(), {**action, "due_date": "2020-01-01"}) == {
        "due_date": ["Action due date must be today or in the future"]}
    assert errors(ActionSchema(), {**action, "due_date": "2029-01-01"}) == {
        "due_date": ["Action due date must be within 2 years of today"]}
    assert errors(ActionSchema(), {**action, "due_date": "2027-01-04"}) == {}


def test_without_a_validation_context_only_the_real_date_is_checked() -> None:
    assert ProposeMove().load({"planned_move_date": "1990-01-01"}, partial=True)["planned_move_date"] \
        == dt.date(1990, 1, 1)


@pytest.mark.parametrize("typed", ["£1,200.50", "1200.5", "1,200.5", " £ 1200.50 "])
def test_pupil_premium_plus_spend_is_read_as_people_type_it(typed: str) -> None:
    from processes.forms.pep_review import CompleteSchoolAgePep
    loaded = CompleteSchoolAgePep().load({"pupil_premium_plus_spend": typed}, partial=True)
    assert loaded["pupil_premium_plus_spend"] == 1200.5
