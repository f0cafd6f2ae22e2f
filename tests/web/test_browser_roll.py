"""The roll in a real Chromium: filter, remove a filter's tag, sort, go to the next page; axe-core finds
no serious or critical problem and nothing scrolls sideways on a 375 px phone
(tests/web/test_browser.py has the machinery; the cohort is tests/casework/roll_cohort.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import web.roll
from engine.clock import FrozenClock
from tests.casework.roll_cohort import build_cohort
from tests.casework.world import World

from .test_browser import (
    ARTIFACTS,
    assert_no_serious_accessibility_violations,
    browser,
    case_server,
    page,
    page_overflow,
    sign_in,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page"]  # the fixtures this module uses


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_cohort(world)
    return world


def sorting(column: str, way: str) -> re.Pattern[str]:
    """A sortable header's link: the column's name, then what following it does (for screen readers)."""
    return re.compile(rf"^{column}\s*: sort {way}$")


def names(page: Any) -> list[str]:
    return [n.strip() for n in page.locator(".vsw-roll-table tbody tr td:first-child a").all_inner_texts()]


def test_the_vsh_filters_removes_a_tag_sorts_and_pages_the_roll_without_javascript_tricks(
    case_server: str, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(web.roll, "PER_PAGE", 2)
    sign_in(page, case_server, "vsh")
    page.get_by_role("link", name="Virtual School", exact=True).click()
    page.goto(f"{case_server}/roll")
    expect(page.get_by_role("heading", name="The roll", level=1)).to_be_visible()
    assert names(page) == ["Alice Archer", "Ben Baker"]
    assert_no_serious_accessibility_violations(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "roll.png"), full_page=True)

    page.get_by_label("Out of area").check()
    page.get_by_label("EHC plan").check()
    page.get_by_role("button", name="Apply filters").first.click()
    expect(page.locator("#roll-count")).to_have_text("1 child matching the filters.")
    assert names(page) == ["Ben Baker"]
    assert_no_serious_accessibility_violations(page)

    page.get_by_role("link", name="Remove this filter: Special educational needs EHC plan").click()
    expect(page.locator("#roll-count")).to_have_text("2 children matching the filters.")
    assert names(page) == ["Ben Baker", "Cara Cole"]

    page.get_by_role("link", name=sorting("Attendance", "ascending")).click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Attendance")
    assert names(page) == ["Cara Cole", "Ben Baker"]

    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_role("link", name="Clear filters")).to_have_count(0)  # the page without filters is loaded
    page.get_by_role("link", name=sorting("Name", "descending")).click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Name")
    assert names(page) == ["Eve Evans", "Dan Dunn"]
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#roll-count")).to_have_text("Showing 3 to 4 of 5 children.")
    assert names(page) == ["Cara Cole", "Ben Baker"]
    page.get_by_role("link", name="Cara Cole").click()
    expect(page.get_by_role("heading", name="Cara Cole")).to_be_visible()
    assert page.problems == []


def test_the_roll_passes_axe_and_does_not_scroll_sideways_on_a_375_pixel_phone(
    case_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 375, "height": 800})
    for username in ("vsh", "dt100002", "sw"):
        sign_in(page, case_server, username)
        page.goto(f"{case_server}/roll?left_care=include&sort=school&q=e")
        expect(page.get_by_role("heading", name="The roll", level=1)).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"roll-375-{username}.png"), full_page=True)
        assert page_overflow(page) == 0, f"the roll scrolls sideways at 375 px for {username}"
        assert_no_serious_accessibility_violations(page)
        page.context.clear_cookies()
    assert page.problems == []
