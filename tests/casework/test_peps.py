from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casework.peps import PepService
from casework.records import Pep
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.errors import Conflict, InvalidData

from .records_support import add_child, born

TODAY = date(2026, 12, 1)


def _submitted(service: PepService, ref: str = "C-1001") -> int:
    pep = service.create(ref, "termly", term="autumn")
    service.update_sections(pep.id, {"childs_views": "Likes maths; wants to stay in the football team."})
    return service.submit(pep.id).id


def test_a_child_has_only_one_termly_pep_per_term(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        first = service.create("C-1001", "termly", term="autumn", due_at=datetime(2026, 10, 23, tzinfo=UTC))
        with pytest.raises(Conflict, match="already has a PEP for the autumn term of 2026/27"):
            service.create("C-1001", "termly", term="autumn")
        spring = service.create("C-1001", "termly", term="spring")
        initial = [service.create("C-1001", "initial"), service.create("C-1001", "school_change")]
    assert (first.academic_year, first.term, first.status, first.stage) == (
        "2026/27",
        "autumn",
        "not_started",
        "school_age",
    )
    assert spring.term == "spring" and all(p.term is None for p in initial)


def test_the_database_itself_refuses_a_second_termly_pep_for_the_term(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        child = add_child(session, clock)
        PepService(session, clock).create("C-1001", "termly", term="autumn")
        child_id = child.id
    row = {
        "child_id": child_id,
        "kind": "termly",
        "academic_year": "2026/27",
        "term": "autumn",
        "stage": "school_age",
        "status": "not_started",
        "sections": "{}",
        "created_at": clock.now(),
    }
    with pytest.raises(IntegrityError), unit_of_work(factory) as session:
        session.execute(insert(Pep), [row])
    with unit_of_work(factory) as session:  # other kinds and other terms are not limited
        session.execute(insert(Pep), [{**row, "term": "spring"}, {**row, "kind": "initial", "term": None}])
        session.execute(insert(Pep), [{**row, "kind": "initial", "term": None}])


@pytest.mark.parametrize(("age", "stage"), [(3, "early_years"), (10, "school_age"), (17, "post_16")])
def test_the_pep_stage_follows_the_childs_age(
    factory: sessionmaker[Session], clock: FrozenClock, age: int, stage: str
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock, date_of_birth=born(TODAY, age), looked_after_since="2026-11-02")
        assert PepService(session, clock).create("C-1001", "initial").stage == stage


def test_a_pep_kind_and_term_must_make_sense(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        with pytest.raises(InvalidData) as no_term:
            service.create("C-1001", "termly")
        with pytest.raises(InvalidData) as bad_kind:
            service.create("C-1001", "annual", term="autumn")
    assert "term" in no_term.value.errors
    assert "kind" in bad_kind.value.errors and "term" in bad_kind.value.errors


def test_sections_are_those_of_the_childs_stage(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock, date_of_birth=born(TODAY, 3), looked_after_since="2026-11-02")
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        service.update_sections(pep.id, {"communication_and_language": "Speech and language: referred to SALT."})
        with pytest.raises(InvalidData) as caught:
            service.update_sections(pep.id, {"careers_advice": "n/a", "targets": ["3"]})
        assert pep.status == "in_progress"
        assert service.sections(pep) == {"communication_and_language": "Speech and language: referred to SALT."}
    assert caught.value.errors == {
        "careers_advice": ["Not a section of an early years PEP"],
        "targets": ["Enter text, a number or yes/no"],
    }


def test_a_pep_goes_from_submitted_to_complete_once_rated_green_or_amber(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep_id = _submitted(service)
        with pytest.raises(InvalidData, match="not valid") as unrated:
            service.complete(pep_id)
        service.rate(pep_id, "amber", actor="vera")
        pep = service.complete(pep_id, actor="vera")
        with pytest.raises(Conflict, match="complete cannot be edited"):
            service.update_sections(pep_id, {"targets": "late change"})
    assert "rag" in unrated.value.errors
    assert (pep.status, pep.rag, pep.completed_at) == ("complete", "amber", clock.now())


def test_a_red_pep_cannot_be_signed_off_until_returned_fixed_and_rerated(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep_id = _submitted(service)
        service.rate(pep_id, "red")
        with pytest.raises(InvalidData) as red:
            service.complete(pep_id)
        with pytest.raises(InvalidData) as no_reason:
            service.return_for_revision(pep_id, "  ")
        returned = service.return_for_revision(pep_id, "Targets are not SMART; no Pupil Premium Plus plan.")
        assert (returned.status, returned.return_reason) == (
            "returned",
            "Targets are not SMART; no Pupil Premium Plus plan.",
        )
        service.update_sections(pep_id, {"pupil_premium_plus_spend": "£400 tutoring, spring term"})
        service.submit(pep_id)
        service.rate(pep_id, "green")
        assert service.complete(pep_id).status == "complete"
    assert "red PEP must be returned" in red.value.errors["rag"][0]
    assert "return_reason" in no_reason.value.errors


def test_a_pep_not_yet_submitted_cannot_be_rated_or_returned(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        with pytest.raises(Conflict):
            service.rate(pep.id, "green")
        with pytest.raises(Conflict):
            service.submit(pep.id)  # nothing written yet
        with pytest.raises(InvalidData):
            service.rate(pep.id, "purple")


def test_open_actions_past_their_due_date_are_overdue_after_the_grace_period(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        tutoring = service.add_action(pep.id, "Book maths tutoring", "Designated teacher", date(2026, 12, 2))
        laptop = service.add_action(pep.id, "Buy a laptop from PP+", "VSH", date(2026, 12, 3))
        service.add_action(pep.id, "Arrange a visit", "Social worker", date(2027, 1, 15))
        with pytest.raises(InvalidData) as bad:
            service.add_action(pep.id, "", " ", date(2026, 11, 1))
        tutoring_id, laptop_id = tutoring.id, laptop.id
    assert set(bad.value.errors) == {"description", "owner", "due_on"}
    later = FrozenClock(clock.now() + timedelta(days=6))  # Monday 7 December 2026
    with unit_of_work(factory) as session:
        service = PepService(session, later)
        assert [a.id for a in service.overdue_actions()] == [tutoring_id, laptop_id]
        assert [a.id for a in service.overdue_actions(la_code="935", grace_working_days=2)] == [tutoring_id]
        assert service.overdue_actions(la_code="936") == []
        service.mark_done(laptop_id)
        service.mark_escalated(tutoring_id)
        with pytest.raises(Conflict):
            service.mark_done(laptop_id)
        assert [a.id for a in service.overdue_actions()] == [tutoring_id]
        assert service.overdue_actions()[0].overdue_escalated_at == later.now()


def test_a_send_referral_must_be_decided_within_six_weeks(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        referral = service.refer_for_send("C-1001", date(2026, 11, 2), pep_id=pep.id)
        assert referral.decision_due_on == date(2026, 12, 14)
        with pytest.raises(InvalidData) as bad:
            service.decide_send(referral.id, "maybe", date(2026, 10, 1))
        decided = service.decide_send(referral.id, "assess", date(2026, 11, 30), actor="sen")
        with pytest.raises(Conflict):
            service.decide_send(referral.id, "not_assess", date(2026, 11, 30))
        with pytest.raises(InvalidData):
            service.refer_for_send("C-1001", date(2027, 1, 1))
    assert set(bad.value.errors) == {"decision", "decided_on"}
    assert (decided.decision, decided.decided_on) == ("assess", date(2026, 11, 30))
