"""The instance page's process diagram and the child's timeline in a real Chromium, under the app's CSP:
bpmn-js's viewer draws the process with where the case is marked, nothing is refused or fails in the
console, axe finds no serious or critical problem, and a 10,000-character word scrolls nothing sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.casework.world import World

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
from .test_instances import propose_move

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures, shared with tests/web/test_browser.py

LONG_WORD = "w" * 10_000


def marked(page: Any, element_id: str, marker: str) -> Any:
    return page.locator(f'#process-diagram .djs-element[data-element-id="{element_id}"].{marker}')


def test_the_diagram_draws_the_process_and_marks_what_is_done_open_and_waiting_under_the_csp(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/instances/{move}")
    expect(page.locator("#process-diagram svg").first).to_be_visible()
    expect(marked(page, "confirm_care_placement", "vsw-current")).to_have_count(1)
    expect(marked(page, "discuss_school_choice", "vsw-current")).to_have_count(1)
    expect(marked(page, "propose_move", "vsw-done")).to_have_count(1)
    expect(marked(page, "school_place_deadline", "vsw-waiting")).to_have_count(1)
    drawn = page.locator("#process-diagram .djs-element[data-element-id]").count()
    assert drawn > 20, drawn  # the whole process: its tasks, gateways, events and flows
    assert page.locator("#process-diagram .vsw-diagram-fallback").count() == 0
    where = page.locator("#where-now-list")
    expect(where).to_contain_text("School place limit reached, due 14 January 2027")
    expect(where.get_by_role("link", name="Confirm the new care placement")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "instance-diagram.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_very_long_word_in_an_answer_wraps_and_the_instance_and_timeline_pages_fit_a_phone(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world, childs_wishes=LONG_WORD, reason_detail=LONG_WORD[:5000])
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, case_server, "sw")
    for path in (f"/instances/{move}", "/children/C-1/timeline", "/children/C-1"):
        page.goto(f"{case_server}{path}")
        expect(page.locator("h1")).to_be_visible()
        if path.startswith("/instances/"):
            expect(page.locator("#process-diagram svg").first).to_be_visible()
            expect(page.locator(".vsw-history")).to_contain_text(LONG_WORD[:100])
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTIFACTS / f"375-sw-{name}.png"), full_page=True)
        assert page_overflow(page) == 0, f"{path} scrolls sideways"
        assert_no_serious_accessibility_violations(page)
    assert page.problems == []
