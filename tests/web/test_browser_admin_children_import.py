"""The SSDA903 import in a real Chromium: upload both files, errors by file and line, skip, import; axe on
every page, and no sideways scroll at 375 px (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.casework.test_ssda903 import sample_episodes, sample_header
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

BROKEN = sample_episodes().replace("A004,01/07/2023,L,C2,N1,U6", "A004,01/07/2023,L,C2,N1,Q9")


def choose(page: Any, header: str, episodes: str) -> None:
    page.get_by_label("Header file (CSV)").set_input_files(
        {"name": "header.csv", "mimeType": "text/csv", "buffer": header.encode()})
    page.get_by_label("Episodes file (CSV)").set_input_files(
        {"name": "episodes.csv", "mimeType": "text/csv", "buffer": episodes.encode()})
    page.get_by_role("button", name="Check the files").click()


def test_the_admin_sees_errors_by_file_and_line_skips_the_child_in_error_and_imports_the_others(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/children/import")
    expect(page.get_by_role("heading", name="Import children from the SSDA903 return", level=1)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "ssda903-upload")

    page.get_by_role("button", name="Check the files").click()  # no files: the errors
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_role("link", name="Choose the return's episodes file")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "ssda903-upload-errors")

    choose(page, sample_header(), BROKEN)
    row = page.locator("#errors tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("episodes.csv")
    expect(row.locator("td").nth(1)).to_have_text("7")
    expect(row.locator("td").nth(2)).to_have_text("PLACE")
    expect(page.locator('[data-count="new"]')).to_have_text("3")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "ssda903-preview-errors")

    page.get_by_role("button", name="Import 3 children").click()  # the skip not ticked
    expect(page.get_by_role("link", name="Tick the box to import the other children without those named")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "ssda903-preview-skip-error")
    page.get_by_label("Skip 1 child and import the others").check()
    page.get_by_label("An initial PEP now, due the authority's initial PEP days after the import").check()
    page.get_by_role("button", name="Import 3 children").click()
    expect(page.get_by_text("Imported: 3 new, 0 changed, 0 leaving, 0 unchanged; skipped A004")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []
