"""The task list in a real Chromium: a manager changes view, filters, searches, removes a filter, sorts, pages
and selects rows to reassign; axe-core finds no serious or critical problem, and nothing scrolls sideways on
a 375 px phone (tests/web/test_browser.py has the machinery; the data is tests/casework/test_work_queue.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import web.work_queue
from casework.processes import pep_review
from engine.clock import FrozenClock
from tests.casework.test_work_queue import IDS, build_queue
from tests.casework.world import World

from .test_browser import (
    ARTIFACTS,
    assert_no_serious_accessibility_violations,
    browser,
    case_server,
    check_small_screen,
    page,
    sign_in,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page"]  # the fixtures this module uses


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_queue(world)
    return world


def listed(page: Any, *names: str) -> None:
    """The list shows these tasks, in this order (waiting for the page the last click opened)."""
    from playwright.sync_api import expect

    expect(page.locator(".vsw-queue-table tbody td a")).to_have_text([f"{name} task" for name in names])


def test_a_manager_filters_searches_sorts_pages_and_selects_tasks_to_reassign(
    case_server: str, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(web.work_queue, "PER_PAGE", 3)
    sign_in(page, case_server, "lead")
    listed(page, "amy_no_school")
    page.get_by_role("link", name="My team's").click()
    expect(page.get_by_role("link", name="My team's")).to_have_attribute("aria-current", "page")
    listed(page, "leo_views", "amy_no_school", "amy_contribution")
    assert_no_serious_accessibility_violations(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "work-queue.png"), full_page=True)

    page.get_by_label("Search").fill("walsh")
    page.get_by_label("Process").select_option(pep_review.PROCESS_ID)
    page.get_by_role("button", name="Apply filters").click()
    listed(page, "ethan_pep", "ethan_contribution")
    expect(page.locator(".moj-filter__selected")).to_contain_text("“walsh”")
    assert_no_serious_accessibility_violations(page)

    page.get_by_role("link", name="Remove this filter: Process").click()
    listed(page, "ethan_pep", "ethan_contribution", "ethan_move")
    expect(page.get_by_label("Search")).to_have_value("walsh")

    page.get_by_label("Sort by").select_option("created")
    page.get_by_label("Order").select_option("desc")
    page.get_by_role("button", name="Apply filters").click()
    listed(page, "ethan_move", "ethan_pep", "ethan_contribution")

    page.get_by_role("link", name="Clear filters").click()
    listed(page, "leo_rating", "ethan_move", "amy_no_school")  # the sort stays: newest first
    page.get_by_role("link", name="Next page").click()
    listed(page, "amy_contribution", "leo_views", "ethan_pep")

    page.get_by_label("Select amy_contribution task for Amy Khan").check()
    page.get_by_label("Select ethan_pep task for Ethan Walsh").check()
    page.get_by_role("button", name="Reassign selected tasks").click()
    expect(page).to_have_url(f"{case_server}/tasks/reassign?task={IDS['amy_contribution']}&task={IDS['ethan_pep']}")
    assert page.problems == []


def test_a_bad_date_is_shown_on_the_page_and_the_list_passes_axe_on_a_375_pixel_phone(
    case_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "lead")
    page.goto(f"{case_server}/?view=team")
    page.locator("#due_from-day").fill("31")
    page.locator("#due_from-month").fill("2")
    page.locator("#due_from-year").fill("2026")
    page.get_by_role("button", name="Apply filters").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Due from must be a real date").click()
    expect(page.locator("#due_from-day")).to_be_focused()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "work-queue-error")
    page.goto(f"{case_server}/?view=team&q=a")
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    check_small_screen(page, "work-queue")
    page.context.clear_cookies()
    sign_in(page, case_server, "sw")
    check_small_screen(page, "work-queue-social-worker")
