"""The PEP document in a real Chromium: it passes axe, does not scroll sideways on a phone, and prints
without the service's header, navigation and links (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from casework.processes.pep_review import Step
from casework.records import Child, Pep
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
from .test_children import CONTRIBUTION
from .test_peps import LONG_WORD, RETURN_REASON, SCHOOL_AGE, pep_id, returned, signed_off

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures this module uses


def test_the_pep_document_passes_axe_and_does_not_scroll_sideways_on_a_375_pixel_phone(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    signed_off(world)
    sign_in(page, case_server, "sw")
    page.get_by_role("link", name="Children").click()
    page.get_by_role("link", name="Ethan Walsh").click()
    page.locator(".govuk-summary-card__title").get_by_role("link", name="Initial PEP 2026/27").click()
    expect(page.get_by_role("heading", name="Initial PEP 2026/27", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Versions")).to_be_visible()
    expect(page.get_by_text(LONG_WORD, exact=False)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pep-document.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{case_server}/peps/{pep_id(world)}")
    expect(page.locator("h1")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "pep-document-375.png"), full_page=True)
    assert page_overflow(page) == 0, "the PEP document scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_pep_document_prints_without_the_header_navigation_or_download_link(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    signed_off(world)
    sign_in(page, case_server, "vsh")
    page.goto(f"{case_server}/peps/{pep_id(world)}")
    expect(page.get_by_role("link", name="Download as PDF")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in (".govuk-header", ".govuk-service-navigation", ".govuk-footer", ".govuk-back-link"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("link", name="Download as PDF")).to_be_hidden()
    expect(page.get_by_role("heading", name="The plan")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "pep-document-print.png"), full_page=True)
    assert page.problems == []


def ready_for_quality_assurance(world: World) -> None:
    """Ethan's initial PEP filled in by his teacher and social worker: the VSH's quality task is open."""
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, SCHOOL_AGE, "dt100001")
    world.complete("C-1", Step.SOCIAL_WORKER_CONTRIBUTION, CONTRIBUTION, "sw")
    world.complete("C-1", Step.RECORD_CHILDS_VIEWS, {"childs_views": "I want to stay at Riverside."}, "sw")


def test_the_vsh_reads_the_pep_on_her_quality_task_and_returns_it_red_with_a_reason(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ready_for_quality_assurance(world)
    sign_in(page, case_server, "vsh")
    page.get_by_role("link", name="Quality-assure the PEP").first.click()
    expect(page.get_by_role("heading", name="The PEP you are rating")).to_be_visible()
    document = page.locator(".vsw-pep-document")
    expect(document.get_by_text("Working towards in maths.")).to_be_visible()  # the teacher's attainment answer
    expect(document.get_by_text("Book a maths tutor")).to_be_visible()  # an action, with its owner
    expect(document.get_by_text("I want to stay at Riverside.")).to_be_visible()  # the child's views
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "pep-quality-task.png"), full_page=True)
    page.get_by_label("Red: return to the designated teacher to fix before sign-off").check()
    page.get_by_label("Why it is returned").fill(RETURN_REASON)
    page.get_by_role("button", name="Save and complete").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is complete")
    assert page.problems == []


def test_the_teacher_revises_a_returned_pep_with_the_vshs_reason_in_view(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    returned(world)
    sign_in(page, case_server, "dt100001")
    page.get_by_role("link", name="Complete the school-age PEP").first.click()
    banner = page.locator(".govuk-notification-banner").filter(has_text="Returned")
    expect(banner).to_contain_text(RETURN_REASON)
    expect(banner).to_contain_text("on 1 December 2026")
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "pep-returned-task.png"), full_page=True)
    page.get_by_label("SMART targets").fill("Times tables to 12 by Easter, checked weekly.")
    page.get_by_role("button", name="Save and complete").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is complete")
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
        status = session.scalars(select(Pep.status).where(Pep.child_id == child.id)).first()
    assert status in ("in_progress", "submitted")
    assert page.problems == []


def test_the_vsh_downloads_the_pep_as_a_pdf_from_its_page_and_it_reads_back_as_the_document(
    case_server: str, page: Any, world: World
) -> None:
    from pypdf import PdfReader

    signed_off(world)
    sign_in(page, case_server, "vsh")
    page.goto(f"{case_server}/peps/{pep_id(world)}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == "PEP-C-1-initial-2026-27.pdf"
    saved = ARTIFACTS / "pep-downloaded.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    download.save_as(str(saved))
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(str(saved)).pages)
    assert "Ethan Walsh" in text and "SMART targets" in text and "Times tables to 12 by Easter." in text
    assert page.problems == []
