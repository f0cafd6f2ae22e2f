"""A PEP's versions: written on submission, red return and sign-off, and what changed between submissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from casework.pep_versions import (
    ADDED,
    CHANGED,
    REMOVED,
    RETURNED,
    SIGNED_OFF,
    SUBMITTED,
    PepVersion,
    differences,
    section_fields,
    versions,
)
from casework.peps import PepService
from casework.records import PepAction
from engine.clock import FrozenClock
from engine.db import unit_of_work

from .records_support import add_child

FIRST = {"school_name": "Riverside Primary", "targets": "Times tables to 12.", "pupil_premium_plus_spend": 300,
         "childs_views": "I like maths."}


def _through_a_red_return(session: Session, clock: FrozenClock) -> int:
    add_child(session, clock)
    service = PepService(session, clock)
    pep = service.create("C-1001", "termly", term="autumn")
    service.update_sections(pep.id, FIRST, actor="dt")
    service.submit(pep.id, actor="dt")
    service.return_for_revision(pep.id, "  The targets are not SMART.  ", actor="vsh", feedback="Good views.")
    service.update_sections(pep.id, {"targets": "Times tables to 12 by Easter.", "planned_changes": "None."},
                            actor="dt")
    service.submit(pep.id, actor="dt")
    return pep.id


def test_each_submission_red_return_and_the_sign_off_is_a_numbered_version_with_who_and_when(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    with unit_of_work(factory) as session:
        pep_id = _through_a_red_return(session, clock)
        service = PepService(session, clock)
        service.rate(pep_id, "amber", actor="vsh", feedback="  Sharper targets next time. ")
        service.complete(pep_id, actor="vsh")
    with unit_of_work(factory) as session:
        found = versions(session, pep_id)
        assert [(v.number, v.kind, v.actor) for v in found] == [
            (1, SUBMITTED, "dt"), (2, RETURNED, "vsh"), (3, SUBMITTED, "dt"), (4, SIGNED_OFF, "vsh")]
        assert all(v.at == clock.now() for v in found)
        first, returned, second, signed = found
        assert first.submitted["sections"] == FIRST
        assert second.submitted["sections"]["targets"] == "Times tables to 12 by Easter."
        assert (returned.reason, returned.rag, returned.feedback) == ("The targets are not SMART.", "red", "Good views.")
        assert (signed.rag, signed.feedback) == ("amber", "Sharper targets next time.")
        assert returned.submitted == {"sections": {}, "actions": []}


def test_a_refused_step_writes_no_version(factory: sessionmaker[Session], clock: FrozenClock) -> None:
    from engine.errors import Conflict, InvalidData

    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        with pytest.raises(Conflict):
            service.submit(pep.id)
        service.update_sections(pep.id, FIRST)
        service.submit(pep.id)
        with pytest.raises(InvalidData):
            service.return_for_revision(pep.id, "   ")
        with pytest.raises(InvalidData):
            service.complete(pep.id)  # not rated
        assert [v.kind for v in versions(session, pep.id)] == [SUBMITTED]


def test_a_submission_keeps_the_actions_recorded_for_a_pep_kept_without_a_review(
    factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    from datetime import date

    with unit_of_work(factory) as session:
        add_child(session, clock)
        service = PepService(session, clock)
        pep = service.create("C-1001", "initial")
        session.add(PepAction(pep_id=pep.id, description="Book a tutor", owner="Ms Patel", due_on=date(2027, 2, 1),
                              state="open"))
        service.update_sections(pep.id, FIRST)
        service.submit(pep.id)
        [version] = versions(session, pep.id)
        assert isinstance(version, PepVersion)
        assert json.loads(version.content or "{}")["actions"] == [
            {"description": "Book a tutor", "owner": "Ms Patel", "due_date": "2027-02-01"}]


def test_the_differences_name_each_changed_section_by_its_label_in_form_order() -> None:
    before: dict[str, Any] = {"sections": {**FIRST, "planned_changes": ""}, "actions": [
        {"description": "Book a tutor", "owner": "Ms Patel", "due_date": "2027-02-01"},
        {"description": "Buy books", "owner": "Carer", "due_date": "2027-01-10"}]}
    after: dict[str, Any] = {"sections": {"school_name": "Riverside Primary", "targets": "Times tables by Easter.",
                          "pupil_premium_plus_spend": 1200.5, "planned_changes": "Move to Year 6 class."},
             "actions": [{"description": "Book a tutor", "owner": "Mr Jones", "due_date": "2027-02-01"},
                         {"description": "Reading buddy", "owner": "Mr Jones", "due_date": "2027-01-20"}]}
    found = differences(before, after, "school_age")
    assert [(d.label, d.change, d.before, d.after) for d in found] == [
        ("Pupil Premium Plus spend", CHANGED, 300, 1200.5),
        ("SMART targets", CHANGED, "Times tables to 12.", "Times tables by Easter."),
        ("Planned changes", ADDED, None, "Move to Year 6 class."),
        ("The child's views", REMOVED, "I like maths.", None),
        ("Action: Book a tutor", CHANGED, before["actions"][0], after["actions"][0]),
        ("Action: Buy books", REMOVED, before["actions"][1], None),
        ("Action: Reading buddy", ADDED, None, after["actions"][1]),
    ]
    assert differences(after, after, "school_age") == []


def test_the_sections_of_each_stage_come_with_their_own_forms_labels() -> None:
    assert section_fields("school_age")["targets"].metadata["label"] == "SMART targets"
    assert section_fields("early_years")["targets"].metadata["label"] == "Targets"
    assert "school_name" not in section_fields("post_16") and "care_plan_context" in section_fields("post_16")
