"""Attainment in a real Chromium: the designated teacher's PEP form with its attainment fields, the child's
record showing them, and the attainment import (upload, preview, confirm), each passing axe and, on a 375 px
phone, not scrolling sideways (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from casework.school_data import Attainment
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
from .test_peps import SCHOOL_AGE

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures this module uses

ASSESSED = {"reading_assessment": "towards", "reading_target": "expected", "writing_assessment": "expected",
            "writing_target": "expected", "maths_assessment": "greater_depth", "maths_target": "expected"}


def test_the_pep_form_asks_for_attainment_against_target_and_names_a_missing_target_accessibly(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    task = world.task("C-1", "complete_pep_school_age")
    sign_in(page, case_server, "dt100001")
    page.goto(f"{case_server}/tasks/{task.id}")
    reading = page.get_by_role("group", name="Reading: teacher assessment (optional)")
    expect(reading).to_be_visible()
    expect(page.get_by_role("group", name="Maths: GCSE target grade (optional)")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_label("Year group").fill("5")
    reading.get_by_label("Working towards the expected standard").check()
    page.get_by_role("button", name="Save and complete").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Choose the target in reading as well as the teacher assessment")
           ).to_be_visible()
    expect(page.get_by_role("group", name="Reading: teacher assessment (optional)")
           .get_by_label("Working towards the expected standard")).to_be_checked()  # what was chosen stays
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_childs_record_shows_the_peps_attainment_on_a_375_pixel_phone(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    world.complete("C-1", "complete_pep_school_age", {**SCHOOL_AGE, **ASSESSED}, "dt100001")
    sign_in(page, case_server, "vsh")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{case_server}/children/C-1")
    table = page.locator("#attainment-latest-table")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name="Reading Working towards the expected standard")).to_contain_text(
        "Below target")
    expect(table.get_by_role("row", name="Maths Working above")).to_contain_text("On or above target")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "child-attainment-375.png"), full_page=True)
    assert page_overflow(page) == 0, "the child's record scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_vsh_imports_attainment_through_the_preview_and_a_bad_file_shows_its_lines(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "vsh")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{case_server}/virtual-school/imports/attainment")
    expect(page.get_by_role("heading", name="Import attainment", level=1)).to_be_visible()
    assert page_overflow(page) == 0, "the import page scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)

    bad = b"child,academic_year,term,subject,kind,value\nC-404,2026/27,autumn,reading,teacher_assessment,towards\n"
    page.get_by_label("CSV file").set_input_files({"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-errors")).to_contain_text("Line 2: no child with UPN or reference ‘C-404’")
    assert page_overflow(page) == 0
    assert_no_serious_accessibility_violations(page)

    page.goto(f"{case_server}/virtual-school/imports/attainment")
    good = (b"child,academic_year,term,subject,kind,value,target\n"
            b"C-1,2026/27,autumn,reading,teacher_assessment,towards,expected\n")
    page.get_by_label("CSV file").set_input_files({"name": "autumn.csv", "mimeType": "text/csv", "buffer": good})
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Check the attainment import")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("button", name="Import 1 line").click()
    expect(page.get_by_text("Attainment imported: 1 new, 0 changed, 0 already recorded")).to_be_visible()
    with world.session() as session:
        assert [(a.subject, a.value) for a in session.scalars(select(Attainment))] == [("reading", "towards")]
    assert page.problems == []
