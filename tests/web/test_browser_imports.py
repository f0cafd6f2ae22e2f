"""The attendance import and the suspension form in a real Chromium: axe, and no sideways scroll at 375 px
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

HEADER = ("upn,child_ref,period_start,period_end,possible_sessions,attended_sessions,authorised_absence,"
          "unauthorised_absence,school_urn\n")
WRONG = HEADER + (",C-1,2026-11-02,2026-11-06,10,9,1,0,100001\n"
                  ",C-3,09/11/2026,13/11/2026,10,8,1,0,100002\n")  # 8 + 1 + 0 is not 10
RIGHT = WRONG.replace(",10,8,1,0,", ",10,8,1,1,")


def choose(page: Any, text: str) -> None:
    page.get_by_label("CSV file").set_input_files(
        {"name": "attendance.csv", "mimeType": "text/csv", "buffer": text.encode()})
    page.get_by_role("button", name="Check the file").click()


def test_the_vsh_uploads_a_csv_sees_a_line_numbered_error_uploads_the_corrected_file_and_imports_it(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "vsh")
    page.goto(f"{case_server}/virtual-school/imports/attendance")
    expect(page.get_by_role("heading", name="Import attendance", level=1)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "import-upload")

    choose(page, WRONG)
    expect(page.get_by_role("heading", name="Nothing can be imported from this file")).to_be_visible()
    row = page.locator("#errors tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("3")
    expect(row.locator("td").nth(1)).to_have_text("possible_sessions")
    expect(row.locator("td").nth(2)).to_contain_text("must equal attended plus authorised and unauthorised")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "import-preview-errors.png"), full_page=True)
    check_small_screen(page, "import-preview-errors")

    page.get_by_role("link", name="Upload a corrected file").click()
    choose(page, RIGHT)
    expect(page.locator('[data-count="add"]')).to_have_text("2")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "import-preview")
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_text("Imported: 2 added, 0 replaced, 0 unchanged")).to_be_visible()
    assert page.problems == []


def test_the_designated_teacher_records_a_suspension_and_the_record_shows_it_with_attendance(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "dt100001")
    page.goto(f"{case_server}/children/C-1")
    expect(page.get_by_role("heading", name="Attendance and exclusions")).to_be_visible()
    page.get_by_role("link", name="Record a suspension or exclusion").click()
    expect(page.get_by_role("heading", name="Record a suspension or exclusion")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "suspension-form")
    page.get_by_role("button", name="Record it").click()  # nothing chosen: the errors
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "suspension-form-errors")
    page.get_by_label("Suspension", exact=True).check()
    page.get_by_label("Day", exact=True).fill("3")
    page.get_by_label("Month", exact=True).fill("11")
    page.get_by_label("Year", exact=True).fill("2026")
    page.get_by_label("School days (a suspension)").fill("1.5")
    page.get_by_label("Reason").select_option("VA")
    page.get_by_role("button", name="Record it").click()
    expect(page.get_by_text("Suspension recorded for Ethan Walsh")).to_be_visible()
    expect(page.get_by_role("cell", name="Verbal abuse or threatening behaviour against a pupil")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "child-attendance-and-exclusions")
    assert page.problems == []
