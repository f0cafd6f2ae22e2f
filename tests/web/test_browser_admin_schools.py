"""The schools register page in a real Chromium: upload a GIAS file with an error, then the right one, import;
axe clean and no sideways scroll at 375 px (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from casework.records import School
from tests.casework.gias_file import establishment, gias_csv
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

RIGHT = [establishment("140001", "Brookside Academy", "Academy sponsor led", group="Academies"),
         establishment("140002", "Meadow Voluntary Controlled Primary School", "Voluntary controlled school"),
         establishment("140003", "Sampleton Children's Centre", "Children's centre")]
WRONG = [*RIGHT, establishment("140001", "Brookside Academy again")]


def choose(page: Any, establishments: list[dict[str, str]]) -> None:
    page.get_by_label("GIAS establishment download (CSV)").set_input_files(
        {"name": "edubasealldata.csv", "mimeType": "text/csv", "buffer": gias_csv(establishments).encode("cp1252")})
    page.get_by_role("button", name="Check the file").click()


def test_the_administrator_sees_a_line_numbered_error_then_imports_the_corrected_gias_file(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/schools")
    expect(page.get_by_role("heading", name="Schools register", level=1)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "schools-upload")

    choose(page, WRONG)
    expect(page.get_by_role("heading", name="Nothing can be imported from this file")).to_be_visible()
    row = page.locator("#errors tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text("5")
    expect(row.locator("td").nth(1)).to_have_text("URN")
    expect(row.locator("td").nth(2)).to_contain_text("also on line 2")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "schools-preview-errors")

    page.get_by_role("link", name="Upload a corrected file").click()
    choose(page, RIGHT)
    expect(page.locator('[data-count="add"]')).to_have_text("2")
    expect(page.locator('[data-count="passed"]')).to_have_text("1")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "schools-preview")
    page.get_by_role("button", name="Import 2 schools").click()
    expect(page.get_by_text("2 new, 0 changed, 0 unchanged")).to_be_visible()
    with world.session() as session:
        assert session.get_one(School, "140002").la_is_admission_authority is True
        assert session.scalar(select(School.school_type).where(School.urn == "140001")) == "academy"
    assert page.problems == []
