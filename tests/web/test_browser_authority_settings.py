"""The authority's settings pages in a real Chromium: axe, and no sideways scroll at 375 px
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
    page,
    page_overflow,
    sign_in,
    world,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures this module uses

WRONG = ("kind,academic_year,term,starts_on,ends_on\n"
         "term,2026/27,autumn,2026-09-02,2026-12-18\n"
         "half_term,2026/27,autumn,2026-12-21,2026-12-23\n")
RIGHT = WRONG.replace("2026-12-21,2026-12-23", "2026-10-26,2026-10-30")


def checked(page: Any, name: str) -> None:
    """axe finds nothing serious at full width and at 375 px, where nothing scrolls sideways."""
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)
    assert page_overflow(page) == 0, f"{name} scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def choose(page: Any, label: str, name: str, text: str, button: str) -> None:
    page.get_by_label(label).set_input_files({"name": name, "mimeType": "text/plain", "buffer": text.encode()})
    page.get_by_role("button", name=button).click()


def test_the_administrator_replaces_the_term_dates_from_a_file_after_correcting_a_line(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/settings")
    checked(page, "settings")
    page.get_by_role("link", name="Term dates").click()
    expect(page.get_by_role("heading", name="Term dates", level=1)).to_be_visible()
    checked(page, "settings-terms")
    page.get_by_role("link", name="Upload a term dates file").click()
    checked(page, "settings-terms-upload")
    choose(page, "Term dates file", "terms.csv", WRONG, "Check the file")
    expect(page.get_by_role("heading", name="The term dates cannot be set from this file")).to_be_visible()
    row = page.locator("#errors tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("3")
    expect(row.locator("td").nth(1)).to_have_text("starts_on")
    checked(page, "settings-terms-errors")
    page.get_by_role("link", name="Upload a corrected file").click()
    choose(page, "Term dates file", "terms.csv", RIGHT, "Check the file")
    expect(page.get_by_role("cell", name="26 October 2026 to 30 October 2026")).to_be_visible()
    checked(page, "settings-terms-preview")
    page.get_by_role("button", name="Replace the term dates").click()
    expect(page.get_by_text("Term dates replaced from terms.csv: 1 rows")).to_be_visible()
    expect(page.get_by_role("heading", name="2026/27", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="2025/26", level=2)).to_have_count(0)
    assert page.problems == []


def test_the_administrator_changes_a_year_and_a_rule_and_sees_the_errors_next_to_the_fields(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/settings/terms")
    page.get_by_role("link", name="Change the dates for 2026/27").click()
    expect(page.get_by_role("heading", name="Change the dates for 2026/27")).to_be_visible()
    checked(page, "settings-terms-year")
    spring = page.get_by_role("group", name="Spring term")
    spring.get_by_label("Half term starts").fill("2027-04-20")
    spring.get_by_label("Half term ends").fill("2027-04-23")
    page.get_by_role("button", name="Save the dates for 2026/27").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    page.get_by_role("link", name="The half term must lie inside its term").click()
    expect(page.locator("#spring-half_starts_on")).to_be_focused()
    checked(page, "settings-terms-year-errors")
    spring.get_by_label("Half term starts").fill("2027-02-15")
    spring.get_by_label("Half term ends").fill("2027-02-19")
    page.get_by_role("button", name="Save the dates for 2026/27").click()
    expect(page.get_by_text("Term dates for 2026/27 saved")).to_be_visible()

    page.goto(f"{case_server}/admin/settings/rules")
    checked(page, "settings-rules")
    page.get_by_label("Working days to tell the area authority of an emergency placement").fill("9")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.locator("#area_notice_working_days-error")).to_contain_text("from 1 to 5")
    checked(page, "settings-rules-errors")
    page.get_by_label("Working days to tell the area authority of an emergency placement").fill("4")
    page.get_by_label("The virtual school head").check()
    page.get_by_role("button", name="Save the rules").click()
    expect(page.get_by_text("Rules saved: 2 changed.")).to_be_visible()

    page.goto(f"{case_server}/admin/settings/processes")
    expect(page.get_by_role("table", name="Deployed versions")).to_be_visible()
    checked(page, "settings-processes")
    choose(page, "BPMN file", "broken.bpmn", "<bpmn:definitions", "Deploy")
    expect(page.get_by_role("heading", name="The file was not deployed")).to_be_visible()
    expect(page.locator("#file-error")).to_contain_text("broken.bpmn: not well-formed XML")
    checked(page, "settings-processes-error")
    assert page.problems == []
