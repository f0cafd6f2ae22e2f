"""Choose, don't type, in a real Chromium: a school is found by part of its name, picked, and its URN saved;
without JavaScript the typed URN still works. axe clean, and no sideways scroll at 375 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from engine.service import WorkflowService
from tests.casework.world import World

from .case_world import PASSWORD as CASE_PASSWORD
from .test_browser import (
    ARTIFACTS,
    assert_no_serious_accessibility_violations,
    browser,
    case_server,
    page,
    page_overflow,
    sign_in,
    world,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures this module uses


@pytest.fixture
def school_task(world: World) -> str:
    """Ethan's move has reached "apply for a school place" (the social worker's)."""
    with world.casework() as casework:
        casework.start_move("C-1", world.actors["sw"])
    world.complete("C-1", "propose_move", {
        "reason": "carer_request", "reason_detail": "Carers moving", "planned_move_date": "2027-01-15",
        "emergency": False, "childs_wishes": "To stay near friends"}, "sw")
    world.complete("C-1", "discuss_school_choice", {
        "discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": "A school near the new home", "outcome": "change_school"}, "sw")
    return world.task("C-1", "apply_for_school_place").id


def saved_urn(world: World, task_id: str) -> Any:
    with world.session() as session:
        service = WorkflowService(session, world.clock, world.runtime)
        done = service.task(task_id)
        assert done.state == "completed"
        return (service.last_answers(done) or {}).get("school_urn")


def fill_date(page: Any) -> None:
    page.get_by_label("Day").fill("30")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year", exact=True).fill("2026")


def test_a_school_is_chosen_by_part_of_its_name_and_its_urn_is_saved(
    case_server: str, page: Any, world: World, school_task: str
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/tasks/{school_task}")
    field = page.get_by_label("School URN")
    expect(field).to_have_class("autocomplete__input autocomplete__input--default")
    assert_no_serious_accessibility_violations(page)
    field.fill("hillc")
    option = page.get_by_role("option", name="Hillcrest Academy (100003)")
    expect(option).to_be_visible()
    assert_no_serious_accessibility_violations(page)  # the open list too
    page.screenshot(path=str(ARTIFACTS / "autocomplete-school.png"), full_page=True)
    option.click()
    expect(field).to_have_value("Hillcrest Academy (100003)")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page_overflow(page) == 0, "the task form scrolls sideways at 375 px"
    page.set_viewport_size({"width": 1100, "height": 900})
    fill_date(page)
    page.get_by_role("button", name="Save and complete").click()
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    assert saved_urn(world, school_task) == "100003"
    assert page.problems == []


def test_a_typed_name_not_chosen_is_refused_with_the_error_linked_to_the_field(
    case_server: str, page: Any, world: World, school_task: str
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/tasks/{school_task}")
    page.get_by_label("School URN").fill("no such school at all")
    expect(page.get_by_text("No open school matches: type its 6-digit URN instead")).to_be_visible()
    fill_date(page)
    page.get_by_role("button", name="Save and complete").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    field = page.get_by_label("School URN")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"^school_urn-hint school_urn-error\b"))
    assert_no_serious_accessibility_violations(page)
    field.fill("100002")  # a typed URN, not chosen, is sent as typed
    page.get_by_role("button", name="Save and complete").click()
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    assert saved_urn(world, school_task) == "100002"
    assert page.problems == []


@pytest.fixture
def page_without_javascript(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_without_javascript_the_field_is_a_text_box_taking_the_urn(
    case_server: str, page_without_javascript: Any, world: World, school_task: str
) -> None:
    from playwright.sync_api import expect

    page = page_without_javascript
    page.goto(f"{case_server}/login")
    page.get_by_label("Username").fill("sw")
    page.get_by_label("Password").fill(CASE_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{case_server}/tasks/{school_task}")
    field = page.get_by_label("School URN")
    expect(field).to_have_class("govuk-input")
    field.fill("100001")
    fill_date(page)
    page.get_by_role("button", name="Save and complete").click()
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    assert saved_urn(world, school_task) == "100001"
