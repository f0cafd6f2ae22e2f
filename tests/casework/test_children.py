from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.children import ChildService
from casework.schools import SchoolService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import AuditEvent

from .records_support import LA, add_child, add_school, add_user, child_data


def test_a_child_is_recorded_and_the_change_is_audited_under_their_ref(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_user(session, clock, "sarah", ["social_worker"])
        add_school(session, clock, "100001")
        add_child(session, clock, upn="p207000016049", social_worker="sarah", school_urn="100001")
    with unit_of_work(factory) as session:
        child = ChildService(session, clock).get("C-1001")
        audit = session.scalars(select(AuditEvent).where(AuditEvent.business_key == "C-1001")).all()
    assert (child.full_name, child.date_of_birth, child.upn) == (
        "Jade Hughes",
        date(2012, 3, 14),
        "P207000016049",
    )
    assert (child.social_worker, child.school_urn, child.la_code) == ("sarah", "100001", LA)
    assert [(a.action, a.actor, a.instance_id) for a in audit] == [("child.added", "system", None)]
    assert audit[0].data is not None and audit[0].data["upn"] == "P207000016049"


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"upn": "Q207000016049"}, "upn", "should be P"),
        ({"upn": "P2070000"}, "upn", "13 characters"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth", "in the future"),
        ({"date_of_birth": "14/03/2012"}, "date_of_birth", "Not a valid date"),
        ({"looked_after_since": "2011-01-01"}, "looked_after_since", "before they are born"),
        ({"looked_after_since": "2026-12-25"}, "looked_after_since", "in the future"),
        ({"legal_status": "X9"}, "legal_status", "SSDA903"),
        ({"first_name": ""}, "first_name", "first name"),
        ({"la_code": "LA-935"}, "la_code", "three-digit"),
        ({"ref": "C 1001!"}, "ref", "like C-1001"),
        ({"social_worker": "nobody"}, "social_worker", "social worker role"),
        ({"social_worker": "vera"}, "social_worker", "social worker role"),
        ({"school_urn": "999999"}, "school_urn", "No school with URN 999999"),
    ],
)
def test_bad_child_details_are_refused_naming_the_field(
    factory: sessionmaker[Session], clock: FrozenClock, overrides: dict[str, str], field: str, reason: str
) -> None:
    with unit_of_work(factory) as session:
        add_user(session, clock, "vera", ["vsh"])
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        add_child(session, clock, **overrides)
    assert field in caught.value.errors, caught.value.errors
    assert reason in " ".join(caught.value.errors[field])


def test_a_missing_date_of_birth_is_named(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    data = child_data()
    del data["date_of_birth"]
    with unit_of_work(factory) as session, pytest.raises(InvalidData) as caught:
        ChildService(session, clock).add(**data)
    assert caught.value.errors["date_of_birth"] == ["Enter the child's date of birth"]


def test_a_second_child_with_the_same_ref_is_a_conflict(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
    with unit_of_work(factory) as session, pytest.raises(Conflict):
        add_child(session, clock, first_name="Other")


def test_updating_a_child_checks_the_result_and_cannot_change_the_ref(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
    with unit_of_work(factory) as session:
        service = ChildService(session, clock)
        service.update("C-1001", {"legal_status": "E1", "last_name": "Hughes-Ward"}, actor="sarah")
        with pytest.raises(InvalidData) as before_birth:
            service.update("C-1001", {"date_of_birth": "2025-07-01"})
        with pytest.raises(InvalidData) as new_ref:
            service.update("C-1001", {"ref": "C-2000"})
    assert "looked_after_since" in before_birth.value.errors
    assert "ref" in new_ref.value.errors
    with unit_of_work(factory) as session:
        child = ChildService(session, clock).get("C-1001")
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.business_key == "C-1001")).all()
    assert (child.legal_status, child.last_name, child.date_of_birth) == (
        "E1",
        "Hughes-Ward",
        date(2012, 3, 14),
    )
    assert actions == ["child.added", "child.updated"]


def test_a_new_placement_closes_the_open_one_and_becomes_current(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_placement(
            "C-1001",
            placement_type="foster_care",
            starts_on="2025-06-02",
            distance="in_area",
            carer_name="Ms Ali",
        )
        service.record_placement(
            "C-1001",
            placement_type="childrens_home",
            starts_on="2026-11-30",
            distance="out_of_area_distant",
            area_authority="Cumberland",
        )
    with unit_of_work(factory) as session:
        service = ChildService(session, clock)
        first, second = service.placements("C-1001")
        current = service.current_placement("C-1001")
    assert first.ends_on == date(2026, 11, 30) and second.ends_on is None
    assert current is not None and current.id == second.id
    assert (current.distance, current.area_authority) == ("out_of_area_distant", "Cumberland")


def test_a_placement_starting_next_month_is_planned_and_the_one_the_child_is_in_stays_current(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:  # the clock: Tuesday 1 December 2026
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_placement("C-1001", placement_type="foster_care", starts_on="2025-06-02", distance="in_area")
        service.record_placement("C-1001", placement_type="kinship_care", starts_on="2027-01-04", distance="in_area")
    with unit_of_work(factory) as session:
        service = ChildService(session, clock)
        now, planned = service.placements("C-1001")
        today = clock.now().date()
        assert (now.is_current(today), now.is_planned(today)) == (True, False)
        assert (planned.is_current(today), planned.is_planned(today)) == (False, True)
        assert service.current_placement("C-1001") is now and service.latest_placement("C-1001") is planned
        assert service.process_data("C-1001")["current_placement_type"] == "foster_care"
        # on 3 January the first is still current (it ends the day the next starts); from 4 January, the next
        assert service.current_placement("C-1001", date(2027, 1, 3)) is now
        assert service.current_placement("C-1001", date(2027, 1, 4)) is planned
        assert not now.is_current(date(2027, 1, 4))


def test_a_child_whose_only_placement_has_not_started_has_no_current_placement(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_placement("C-1001", placement_type="foster_care", starts_on="2026-12-02", distance="in_area")
        assert service.current_placement("C-1001") is None
        assert service.current_placement("C-1001", date(2026, 12, 2)) is service.latest_placement("C-1001")


def test_a_placement_out_of_area_needs_the_area_authority_and_a_known_type(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = ChildService(session, clock)
        with pytest.raises(InvalidData) as caught:
            service.record_placement(
                "C-1001", placement_type="tent", starts_on="2026-11-30", distance="out_of_area_adjoining"
            )
    assert caught.value.errors["placement_type"] == ["Choose one of the placement types"]
    assert caught.value.errors["area_authority"] == ["Name the authority whose area the placement is in"]


def test_a_placement_cannot_start_before_the_current_one(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_placement(
            "C-1001", placement_type="foster_care", starts_on="2026-01-05", distance="in_area"
        )
        with pytest.raises(InvalidData) as caught:
            service.record_placement(
                "C-1001", placement_type="foster_care", starts_on="2025-12-01", distance="in_area"
            )
    assert "before the current one" in caught.value.errors["starts_on"][0]


def test_changing_school_needs_a_known_school_and_can_leave_the_child_without_one(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_school(session, clock, "100001")
        add_school(session, clock, "100002")
        add_child(session, clock, school_urn="100001")
        service = ChildService(session, clock)
        service.change_school("C-1001", "100002")
        with pytest.raises(InvalidData) as caught:
            service.change_school("C-1001", "123456")
        assert service.get("C-1001").school_urn == "100002"
        service.change_school("C-1001", None)
        assert service.get("C-1001").school_urn is None
    assert "school_urn" in caught.value.errors


def test_school_facts_say_whether_the_school_permanently_excluded_the_child(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_school(
            session,
            clock,
            "100001",
            name="Northgate Academy",
            school_type="academy",
            la_is_admission_authority=False,
        )
        add_school(session, clock, "100002", name="Southfield Primary")
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_permanent_exclusion("C-1001", "100001", date(2025, 3, 1))
        with pytest.raises(Conflict):
            service.record_permanent_exclusion("C-1001", "100001", date(2025, 3, 2))
        excluding = service.school_facts("C-1001", "100001")
        other = service.school_facts("C-1001", "100002")
    assert excluding == {
        "school_name": "Northgate Academy",
        "school_type": "academy",
        "la_is_admission_authority": False,
        "school_la_code": LA,
        "permanently_excluded_from_school": True,
    }
    assert other["permanently_excluded_from_school"] is False and other["la_is_admission_authority"] is True


def test_an_exclusion_needs_a_known_school_and_a_past_date(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        with pytest.raises(InvalidData) as caught:
            ChildService(session, clock).record_permanent_exclusion("C-1001", "555555", date(2027, 1, 1))
    assert set(caught.value.errors) == {"school_urn", "excluded_on"}


def test_children_are_listed_by_social_worker_school_and_authority(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_user(session, clock, "sarah", ["social_worker"])
        add_user(session, clock, "tom", ["social_worker"])
        add_school(session, clock, "100001")
        add_child(session, clock, ref="C-1", last_name="Adams", social_worker="sarah", school_urn="100001")
        add_child(session, clock, ref="C-2", last_name="Brown", social_worker="tom", school_urn="100001")
        add_child(session, clock, ref="C-3", last_name="Clark", social_worker="sarah", la_code="936")
    with unit_of_work(factory) as session:
        service = ChildService(session, clock)
        assert [c.ref for c in service.for_social_worker("sarah")] == ["C-1", "C-3"]
        assert [c.ref for c in service.at_school("100001")] == ["C-1", "C-2"]
        assert [c.ref for c in service.in_la(LA)] == ["C-1", "C-2"]
        with pytest.raises(NotFound):
            service.get("C-404")


def test_process_data_gives_the_facts_a_process_starts_with(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = ChildService(session, clock)
        service.record_placement(
            "C-1001", placement_type="kinship_care", starts_on="2025-06-02", distance="in_area"
        )
        data = service.process_data("C-1001")
    assert data["date_of_birth"] == "2012-03-14"
    assert data["current_placement_type"] == "kinship_care"
    assert data["la_code"] == LA and data["child_ref"] == "C-1001"


def test_an_academy_or_independent_school_is_never_admitted_by_the_la(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        with pytest.raises(InvalidData) as academy:
            add_school(session, clock, "100003", school_type="academy", la_is_admission_authority=True)
        with pytest.raises(InvalidData) as bad:
            add_school(session, clock, "12345", school_type="grammar", la_code="9")
        add_school(session, clock, "100004", school_type="independent", la_is_admission_authority=False)
        with pytest.raises(Conflict):
            add_school(session, clock, "100004")
        assert [s.urn for s in SchoolService(session, clock).in_la(LA)] == ["100004"]
    assert "own admission authority" in academy.value.errors["la_is_admission_authority"][0]
    assert set(bad.value.errors) == {"urn", "school_type", "la_code"}
