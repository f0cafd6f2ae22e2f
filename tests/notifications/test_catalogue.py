"""Each named notification renders; unknown names and missing context fail clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from notifications.catalogue import NOTIFICATIONS, render, uk_date, uk_datetime
from notifications.directory import Recipient
from notifications.errors import NotificationError

DORA = Recipient("dora", "dora@school.example", "Dora <Teacher>")
SAMPLES: dict[str, dict[str, Any]] = {
    "task_assigned": {"child_ref": "C-1001", "child_name": "Amy", "task_title": "Review the PEP",
                      "due_at": "2026-12-03T17:00:00+00:00", "path": "/tasks/t-1"},
    "task_due_soon": {"child_ref": "C-1001", "child_name": "Amy", "task_title": "Review the PEP",
                      "due_at": datetime(2026, 12, 3, 17, tzinfo=UTC), "path": "/tasks/t-1"},
    "task_overdue": {"child_ref": "C-1001", "child_name": "Amy", "task_title": "Review the PEP",
                     "due_at": "2026-12-03", "path": "/tasks/t-1"},
    "escalation_raised": {"child_ref": "C-1001", "child_name": "Amy", "task_title": "Find a school place",
                          "due_at": None, "path": "/cases/C-1001", "reason": "No school place after 20 school days"},
    "pep_returned": {"child_ref": "C-1001", "child_name": "Amy", "task_title": "Revise the PEP",
                     "due_at": "2026-12-03", "path": "/tasks/t-2", "returned_by": "Vera Head",
                     "reason": "Targets are not SMART"},
    "direction_deadline": {"child_ref": "C-1001", "child_name": "Amy", "school_name": "Hill Academy",
                           "step": "School's representations", "deadline": "2026-12-03", "path": "/cases/C-1001"},
    "daily_digest": {"day": date(2026, 12, 2), "path": "/notifications",
                     "items": [{"subject": "Overdue: Review the PEP", "link": "http://localhost:5000/tasks/t-1"}]},
    "staff_invitation": {"path": "/invitation/tok-1", "expires_at": datetime(2026, 12, 8, 9, tzinfo=UTC),
                         "invited_by": "Alex Admin", "username": "dora.teacher"},
    "caseload_assigned": {"path": "/children", "children": 3, "tasks": 2, "assigned_by": "Max Manager",
                          "from_name": "Sam Social"},
    "task_reassigned": {"path": "/tasks/t-1", "assigned_by": "Max Manager",
                        "tasks": [{"task_id": "t-1", "task_title": "Review the PEP", "child_name": "Amy",
                                   "child_ref": "C-1001", "due_at": "2026-12-03T17:00:00+00:00"}]},
}


def test_every_named_notification_has_a_sample_and_they_are_the_ones_documented() -> None:
    assert set(NOTIFICATIONS) == set(SAMPLES) == {
        "task_assigned", "task_due_soon", "task_overdue", "escalation_raised", "pep_returned",
        "direction_deadline", "daily_digest", "staff_invitation", "caseload_assigned",
        "task_reassigned"}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_notification_renders_a_one_line_subject_a_text_body_and_an_escaped_html_body(name: str) -> None:
    rendered = render(name, {**SAMPLES[name], "recipient": DORA}, base="https://vsw.la.example/")
    assert rendered.subject and "\n" not in rendered.subject
    assert "Dear Dora <Teacher>," in rendered.text
    assert "Dear Dora &lt;Teacher&gt;," in rendered.html and "<Teacher>" not in rendered.html
    assert rendered.link == "https://vsw.la.example" + SAMPLES[name]["path"]
    assert rendered.link in rendered.text and f'href="{rendered.link}"' in rendered.html


def test_a_due_date_is_written_for_a_uk_reader_in_subject_and_body() -> None:
    rendered = render("task_due_soon", {**SAMPLES["task_due_soon"], "recipient": DORA})
    assert rendered.subject == "Due Thursday 3 December 2026: Review the PEP for Amy (C-1001)"
    assert "is due by Thursday 3 December 2026" in rendered.text


def test_a_deadline_overdue_from_midnight_is_written_as_due_by_the_day_before() -> None:
    context = {**SAMPLES["task_due_soon"], "recipient": DORA, "due_at": "2026-12-04T00:00:00+00:00"}
    rendered = render("task_due_soon", context)
    assert rendered.subject.startswith("Due Thursday 3 December 2026:")
    assert "is due by Thursday 3 December 2026" in rendered.text and "Friday" not in rendered.text


def test_uk_dates_read_a_utc_time_in_london_time() -> None:
    assert uk_date("2026-12-01") == "Tuesday 1 December 2026"
    assert uk_datetime(datetime(2027, 6, 1, 23, 30, tzinfo=UTC)) == "Wednesday 2 June 2027 at 12:30am"


def test_the_link_starts_with_the_base_url_the_caller_gives_else_the_local_default() -> None:
    context = {**SAMPLES["task_assigned"], "recipient": DORA}
    rendered = render("task_assigned", context, base="https://schools.example.gov.uk/")
    assert rendered.link == "https://schools.example.gov.uk/tasks/t-1"
    assert "https://schools.example.gov.uk/tasks/t-1" in rendered.text
    assert render("task_assigned", context).link == "http://localhost:5000/tasks/t-1"


def test_text_parts_are_not_html_escaped() -> None:
    rendered = render("pep_returned", {**SAMPLES["pep_returned"], "reason": "Add a target for maths & English",
                                       "recipient": DORA})
    assert "maths & English" in rendered.text and "maths &amp; English" in rendered.html


def test_an_unknown_notification_name_fails_and_lists_the_known_ones() -> None:
    with pytest.raises(NotificationError, match="Unknown notification 'task_forgotten'.*task_assigned"):
        render("task_forgotten", {"recipient": DORA})


def test_a_missing_context_key_fails_naming_the_key() -> None:
    context = {**SAMPLES["pep_returned"], "recipient": DORA}
    del context["reason"]
    with pytest.raises(NotificationError, match="'pep_returned' needs reason"):
        render("pep_returned", context)


def test_a_missing_attribute_inside_the_context_fails_instead_of_rendering_blank() -> None:
    context = {**SAMPLES["daily_digest"], "items": [{"link": "x"}], "recipient": DORA}
    with pytest.raises(NotificationError, match="could not be rendered.*subject"):
        render("daily_digest", context)


def test_tasks_given_by_a_manager_are_named_each_with_its_link_and_due_date() -> None:
    many = [{"task_id": f"t-{n}", "task_title": f"Task {n}", "child_name": "Amy", "child_ref": "C-1001",
             "due_at": None if n == 2 else "2026-12-03"} for n in (1, 2)]
    one = render("task_reassigned", {**SAMPLES["task_reassigned"], "recipient": DORA}, base="https://vsw.example")
    assert one.subject == "Max Manager has given you a task for Amy (C-1001): Review the PEP"
    assert "due by Thursday 3 December 2026: https://vsw.example/tasks/t-1" in one.text
    both = render("task_reassigned", {"path": "/", "assigned_by": "Max Manager", "tasks": many, "recipient": DORA},
                  base="https://vsw.example")
    assert both.subject == "Max Manager has given you 2 tasks"
    assert "- Task 2, for Amy (C-1001): https://vsw.example/tasks/t-2" in both.text
    assert 'href="https://vsw.example/tasks/t-1"' in both.html and "See your tasks" in both.html
