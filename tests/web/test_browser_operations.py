"""The operator's view in a real Chromium under the CSP: overview -> a version's diagram with count badges ->
the cases at one step -> one case -> cancelling it with a reason; axe-clean and 375 pixels wide throughout
(the fixtures are tests/web/test_browser.py's)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from engine.models import ProcessDefinition, ProcessInstance
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
from .test_instances import propose_move

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures, shared with tests/web/test_browser.py


def test_the_operator_follows_a_case_from_the_overview_through_the_diagram_to_cancelling_it(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    with world.session() as session:
        version = session.scalars(select(ProcessDefinition.id)
                                  .where(ProcessDefinition.process_id == "placement_move")).one()
    sign_in(page, case_server, "admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_role("heading", name="Operations", exact=True)).to_be_visible()
    expect(page.locator('tr[data-definition="placement_move-1"] [data-count="running"]')).to_have_text("1")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "operations")

    page.locator(f'a[href="/admin/operations/{version}"]').click()
    expect(page.locator("#process-diagram svg").first).to_be_visible()
    badges = page.locator("#process-diagram a.vsw-counts")
    expect(badges.first).to_be_visible()
    expect(page.locator("#process-diagram .vsw-count--tasks").first).to_be_visible()
    assert badges.count() >= 2  # the two open tasks of a proposed move, and its timers
    row = page.locator('tr[data-element="confirm_care_placement"]')
    expect(row.locator('[data-count="tasks"]')).to_have_text("1")
    page.screenshot(path=str(ARTIFACTS / "operations-version.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "operations-version")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile("^Cases waiting at"))).to_be_visible()
    expect(page.locator(f'tr[data-instance="{move}"]')).to_contain_text("C-1")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "operations-element")

    page.get_by_role("link", name=re.compile(f"^Process {move}")).click()
    expect(page.locator("#waits")).to_contain_text("Confirm the new care placement")
    page.get_by_role("button", name="Cancel this case").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why you are cancelling this case")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "operations-instance-error")
    page.get_by_label("Why are you cancelling this case?").fill("Started for the wrong child")
    page.get_by_role("button", name="Cancel this case").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"Process {move} (C-1) is cancelled")
    expect(page.locator('[data-status="cancelled"]')).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "operations-instance")
    with world.session() as session:
        assert session.get(ProcessInstance, move).status == "cancelled"  # type: ignore[union-attr]
    assert page.problems == []


def test_the_operator_cancels_a_dead_letter_with_a_reason_axe_clean_and_375_pixels_wide(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    from notifications.models import OutboxMessage

    with world.session() as session:
        session.add(OutboxMessage(
            message_id="<lost@vsw>", name="task_assigned", recipient_username="sw", recipient_email="sw@la.example",
            recipient_name="Sam Social", subject="Your task is overdue", text="Hello", html="<p>Hello</p>", link="",
            channel="email", state="dead", attempts=8, next_attempt_at=world.clock.now(),
            last_error="550 mailbox unavailable", created_at=world.clock.now()))
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/operations")
    expect(page.locator('[data-count="dead"]')).to_have_text("1")
    page.get_by_role("link", name="See dead letters").click()
    page.get_by_role("link", name=re.compile("^Cancel")).click()
    expect(page.get_by_role("heading", name="Cancel this email")).to_be_visible()
    page.get_by_role("button", name="Cancel this email").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why you are cancelling this email")
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "dead-letter-cancel-error")
    page.get_by_label("Why are you cancelling it?").fill("Sam has left the authority")
    page.get_by_role("button", name="Cancel this email").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("it will not be sent")
    expect(page.get_by_text("There are no dead-lettered emails.")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []
