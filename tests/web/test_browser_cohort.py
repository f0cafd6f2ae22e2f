"""The Virtual School dashboard and annual report in a real Chromium: the charts are drawn by Chart.js with
no console or CSP error, axe-core finds no serious or critical problem, and nothing scrolls sideways on a
375 px phone (the cohort is tests/casework/cohort_world.py; the machinery tests/web/test_browser.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import FrozenClock
from tests.casework.cohort_world import cohort_world
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
    return cohort_world(factory, clock)


def test_the_vsh_opens_the_dashboard_and_its_charts_are_drawn_beside_their_tables(
    case_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "vsh")
    page.get_by_role("link", name="Virtual School", exact=True).click()
    expect(page.get_by_role("heading", name="The Virtual School", level=1)).to_be_visible()
    for name in ("trend", "rag", "key_stage"):
        expect(page.locator(f"#chart-{name}")).to_have_attribute("data-drawn", "true")
    assert page.evaluate("document.querySelector('#chart-rag').chart.data.datasets[0].data") == [1, 2, 2]
    expect(page.get_by_role("table", name="PEPs signed off by rating, Autumn term 2026/27")).to_contain_text("Amber")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cohort-dashboard.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)

    page.get_by_label("Term or academic year").select_option("2025/26")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator(".govuk-caption-l")).to_have_text("Academic year 2025/26")
    page.get_by_role("link", name="Children suspended", exact=False).first.click()
    expect(page).to_have_url(f"{case_server}/roll?suspended=yes")
    assert page.problems == []


def test_on_a_375_pixel_phone_the_dashboard_and_report_fit_and_the_report_passes_axe(
    case_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "vsh")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{case_server}/virtual-school")
    expect(page.locator("#chart-trend")).to_have_attribute("data-drawn", "true")
    assert page_overflow(page) == 0, "the dashboard scrolls sideways at 375 px"
    page.goto(f"{case_server}/virtual-school/report?year=2026/27")
    expect(page.get_by_role("heading", name="The Virtual School in 2026/27", level=1)).to_be_visible()
    assert page_overflow(page) == 0, "the annual report scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1100, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cohort-report.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []
