from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.rules import (
    Authority,
    AuthorityRules,
    ensure_authority,
    initial_pep_due_on,
    lane_roles,
    rules_for,
    school_change_pep_due_on,
    set_rules,
    termly_review_due_on,
)
from casework.terms import term_on
from engine.db import unit_of_work
from engine.errors import InvalidData


def test_an_authority_with_no_rules_gets_the_defaults(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        rules = rules_for(session, "935")
    assert rules == AuthorityRules()
    assert rules.school_place_limit_school_days == 20
    assert rules.ks4_move_approver_role == "nominated_officer"
    assert rules.initial_pep_days == 10 and rules.initial_pep_day_kind == "working"
    assert rules.termly_review_window == "first_half"
    assert lane_roles(rules) == {"ks4_approver": "nominated_officer", "dcs": "dcs"}


def test_set_rules_keeps_earlier_changes_and_defaults_the_rest(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        ensure_authority(session, "935", "Demo Borough")
        set_rules(session, "935", {"school_place_limit_school_days": 10})
        set_rules(session, "935", {"ks4_move_approver_role": "vsh", "initial_pep_day_kind": "school"})
    with unit_of_work(factory) as session:
        rules = rules_for(session, "935")
        other = rules_for(session, "936")
    assert rules.school_place_limit_school_days == 10
    assert rules.ks4_move_approver_role == "vsh" and rules.initial_pep_day_kind == "school"
    assert rules.area_notice_working_days == 5
    assert lane_roles(rules)["ks4_approver"] == "vsh"
    assert other == AuthorityRules()


def test_set_rules_creates_the_authority_row_when_missing(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        set_rules(session, "201", {"termly_review_window": "whole_term"})
    with unit_of_work(factory) as session:
        authority = session.get(Authority, "201")
        assert authority is not None
        assert json.loads(authority.rules) == {"termly_review_window": "whole_term"}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"school_place_limit_school_days": 0}, "school_place_limit_school_days", "from 1 to 60"),
        ({"school_place_limit_school_days": "ten"}, "school_place_limit_school_days", "integer"),
        ({"ks4_move_approver_role": "manager"}, "ks4_move_approver_role", "nominated_officer, vsh"),
        ({"distant_placement_approver_role": "vsh"}, "distant_placement_approver_role", "reg. 11"),
        ({"area_notice_working_days": 7}, "area_notice_working_days", "at most 5 working days"),
        ({"initial_pep_day_kind": "calendar"}, "initial_pep_day_kind", "working, school"),
        ({"termly_review_window": "second_half"}, "termly_review_window", "first_half, whole_term"),
        ({"action_escalation_working_days": -1}, "action_escalation_working_days", "from 0 to 30"),
        ({"pep_colour": "blue"}, "pep_colour", "Unknown field"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field_and_the_reason(
    factory: sessionmaker[Session], changes: dict[str, object], field: str, reason: str
) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        set_rules(session, "935", changes)
    assert list(caught.value.errors) == [field]
    assert reason in " ".join(caught.value.errors[field])


def test_a_change_with_one_bad_rule_applies_none_of_it(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        set_rules(session, "935", {"school_place_limit_school_days": 15})
    with unit_of_work(factory) as session, pytest.raises(InvalidData):
        set_rules(session, "935", {"school_place_limit_school_days": 10, "termly_review_window": "never"})
    with unit_of_work(factory) as session:
        rules = rules_for(session, "935")
    assert rules.school_place_limit_school_days == 15
    assert rules.termly_review_window == "first_half"


def test_an_authority_needs_a_three_digit_la_number(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        ensure_authority(session, "LA-9", "Nowhere")
    assert "three-digit" in caught.value.errors["la_code"][0]


def test_the_initial_pep_is_due_in_working_or_school_days_as_the_authority_chooses(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        # Looked after from Friday 11 Dec 2026: 10 working days skip Christmas and Boxing Day (observed).
        working = initial_pep_due_on(session, "935", date(2026, 12, 11))
        set_rules(session, "935", {"initial_pep_days": 20, "initial_pep_day_kind": "school"})
        school = initial_pep_due_on(session, "935", date(2026, 12, 11))
    assert working == date(2026, 12, 29)
    # 20 school days: 14-18 Dec (5), spring from 6 Jan (5 Jan is INSET): 6-8 (3), 11-15, 18-22 (10), 25-26 (2).
    assert school == date(2027, 1, 26)


def test_a_school_change_pep_is_due_ten_working_days_after_the_change(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        assert school_change_pep_due_on(session, "935", date(2026, 12, 1)) == date(2026, 12, 15)
        set_rules(session, "935", {"school_change_pep_working_days": 5})
        assert school_change_pep_due_on(session, "935", date(2026, 12, 1)) == date(2026, 12, 8)


def test_the_termly_review_is_due_by_half_term_or_by_the_end_of_term(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        autumn = term_on(session, "935", date(2026, 12, 1))
        assert autumn is not None
        assert termly_review_due_on(session, "935", autumn) == date(2026, 10, 23)
        set_rules(session, "935", {"termly_review_window": "whole_term"})
        assert termly_review_due_on(session, "935", autumn) == date(2026, 12, 18)
