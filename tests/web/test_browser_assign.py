"""Assigning tasks in a real Chromium: a manager opens a task and gives it to someone else, then gives two
tasks at once through /tasks/reassign; axe on every page, and no sideways scroll at 375 px
(tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.casework.world import World

from .test_browser import (
    ARTIFACTS,
    assert_no_serious_accessibility_violations,
    browser,
    case_server,
    check_small_screen,
    page,
    sign_in,
    world,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures this module uses


def test_a_manager_opens_a_task_and_assigns_it_to_one_of_the_people_who_may_do_it(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    task = world.task("C-1", "complete_pep_school_age")
    sign_in(page, case_server, "manager")
    page.goto(f"{case_server}/tasks/{task.id}")
    page.get_by_role("link", name="Assign to someone else").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign ‘Complete the school-age PEP’ to someone else")
    expect(page.get_by_role("radio")).to_have_count(2)
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "assign-task.png"), full_page=True)
    check_small_screen(page, "assign-task")

    page.get_by_role("button", name="Assign the task").click()  # no one chosen
    expect(page.get_by_role("link", name="Choose who to give the task to")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "assign-task-error")

    page.get_by_label("Sw_Dt (sw_dt)").check()
    page.get_by_role("button", name="Assign the task").click()
    expect(page.get_by_text("‘Complete the school-age PEP’ is assigned to Sw_Dt")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("sw_dt")
    assert world.task("C-1", "complete_pep_school_age").assignee == "sw_dt"
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_manager_gives_two_tasks_at_once_and_is_told_why_when_no_one_can_take_a_mixed_choice(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    social = [world.task("C-1", "social_worker_contribution").id, world.task("C-1", "record_childs_views").id]
    teacher = world.task("C-1", "complete_pep_school_age").id
    sign_in(page, case_server, "manager")
    page.goto(f"{case_server}/tasks/reassign?task={social[0]}&task={teacher}")
    expect(page.get_by_role("heading", name="No one can take all of these tasks")).to_be_visible()
    expect(page.locator("#no-one-eligible")).to_contain_text("different roles")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "reassign-no-one")

    page.goto(f"{case_server}/tasks/reassign?task={social[0]}&task={social[1]}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign 2 tasks to someone else")
    expect(page.locator("#chosen-tasks + thead + tbody tr, table tbody tr")).to_have_count(2)
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "reassign-tasks.png"), full_page=True)
    check_small_screen(page, "reassign-tasks")
    page.get_by_label("Sw (sw)").check()
    page.get_by_role("button", name="Assign all 2 tasks").click()
    expect(page.get_by_text("2 tasks are assigned to Sw")).to_be_visible()
    assert [world.task("C-1", e).assignee for e in ("social_worker_contribution", "record_childs_views")] == ["sw"] * 2
    assert page.problems == []
