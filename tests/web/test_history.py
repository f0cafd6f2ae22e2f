"""web/history.py: an audit entry worded for people, from the shipped forms (no database needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.models import AuditEvent
from processes import PROCESS_DIR
from processes.forms import FORMS
from web.forms import recorded_answers
from web.history import Item, answer_items, element_names, entries

PEP_FORMS = FORMS["pep_review"]
SCHOOL_AGE_PEP = PEP_FORMS["complete_pep_school_age"]
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANSWERS: dict[str, Any] = {
    "school_name": "Riverside Primary", "school_year_group": 5, "attendance_percent": 91.5,
    "exclusions_this_term": 0, "sen_support_status": "sen_support", "pupil_premium_plus_spend": 1200.5,
    "meeting_date": "2026-12-01", "suspected_unidentified_sen": False,
    "actions": [{"description": "Book a maths tutor", "owner": "Ms Patel", "due_date": "2027-02-10",
                 "owner_user": ""},
                {"description": "Reading buddy", "owner": "Mr Jones", "due_date": "2027-03-01"}],
    "facts": {"school_urn": "100001"},
}


def event(action: str, element_id: str | None, data: dict[str, Any] | None) -> AuditEvent:
    return AuditEvent(at=AT, actor="dt100001", action=action, element_id=element_id, data=data)


def label(name: str) -> str:
    """The school-age PEP form's label of a field (the form is the one source of its wording)."""
    return str(SCHOOL_AGE_PEP().fields[name].metadata["label"])


def by_label(items: list[Item]) -> dict[str, Item]:
    return {item.label: item for item in items}


def test_a_peps_answers_read_with_their_labels_money_in_pounds_choices_dates_and_actions_as_lines() -> None:
    shown = by_label(answer_items(SCHOOL_AGE_PEP, ANSWERS))
    assert shown["Year group"].text == "5"
    assert shown["Attendance this term (%)"].text == "91.5"
    assert shown["Exclusions this term"].text == "0"
    assert shown["Special educational needs"].text == "SEN support"
    assert shown["Pupil Premium Plus spend"].text == "£1,200.50"
    assert shown[label("actions")].lines == (
        "Action: Book a maths tutor; Owner: Ms Patel; Due by: 10 February 2027",
        "Action: Reading buddy; Owner: Mr Jones; Due by: 1 March 2027",
    )
    texts = " ".join(f"{i.label} {i.text} {' '.join(i.lines)}" for i in shown.values())
    for raw in ("school_year_group", "sen_support", "1200.5", "2027-02-10", "{", "facts", "100001", "owner_user"):
        assert raw not in texts.replace("SEN support", ""), raw


def test_a_yes_no_answer_reads_yes_or_no_and_a_date_reads_the_govuk_way() -> None:
    shown = by_label(answer_items(SCHOOL_AGE_PEP, ANSWERS))
    assert shown[label("suspected_unidentified_sen")].text == "No"
    assert shown[label("meeting_date")].text == "1 December 2026"


def test_the_task_page_shows_the_answers_given_so_far_the_same_way() -> None:
    answers = dict(recorded_answers(PEP_FORMS, ANSWERS))
    assert answers["Pupil Premium Plus spend"] == "£1,200.50"
    assert answers["Special educational needs"] == "SEN support"
    assert answers[label("actions")].startswith("Action: Book a maths tutor; Owner: Ms Patel; Due by: 10 February")


def test_each_entry_says_what_happened_in_plain_english_and_names_its_task_by_the_diagram() -> None:
    names = element_names((Path(PROCESS_DIR) / "pep_review.bpmn").read_text(encoding="utf-8"))
    events = [
        event("instance_started", None, {"version": 1, "data": {
            "child_ref": "C-1", "child_name": "Ethan Walsh", "pep_id": 7, "pep_kind": "initial",
            "stage": "school_age", "due_at": "2026-12-05T00:00:00+00:00", "send_decision_weeks": 6}}),
        event("task_claimed", "complete_pep_school_age", None),
        event("task_completed", "complete_pep_school_age", ANSWERS),
        event("timer_fired", "pep_due", {"name": "PEP due"}),
        event("task_unclaimed", "record_childs_views", {"was": "sw"}),
        event("message_received", None, {"message": "pep_withdrawn", "payload": {"reason": "Moved away"}}),
        event("instance_cancelled", None, {"reason": "Recorded twice"}),
    ]
    shown = entries(events, PEP_FORMS, names)
    assert [e.what for e in shown] == [
        "Process started", "Task assigned to them", "Task completed", "Time limit reached", "Task unassigned",
        "Message received", "Process cancelled"]
    assert shown[2].task == "Complete the school-age PEP" and shown[3].task == "PEP due"
    started = by_label(list(shown[0].items))
    assert started["Child"].text == "Ethan Walsh" and started["Kind of PEP"].text == "Initial PEP"
    assert started["Stage"].text == "School age" and started["Due"].text == "5 December 2026 at 12:00am"
    assert not {"Child ref", "Pep id", "Send decision weeks"} & started.keys()
    assert shown[3].items == ()  # a timer's name is the Task column's
    assert by_label(list(shown[4].items))["Was assigned to"].text == "sw"
    assert by_label(list(shown[6].items))["Reason"].text == "Recorded twice"


def test_data_no_form_describes_is_labelled_from_its_name_and_a_record_reads_as_one_line() -> None:
    [entry] = entries([event("task_completed", "unknown_step", {
        "school_year_group": 5, "outcome": {"kind": "offer", "starts_on": "2027-01-04"}, "ok": True})], {}, {})
    assert entry.task == "unknown_step"
    assert [(i.label, i.text) for i in entry.items] == [
        ("School year group", "5"), ("Outcome", "Kind: offer; Starts on: 4 January 2027"), ("Ok", "Yes")]
