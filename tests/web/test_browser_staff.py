"""Staff and caseload pages in a real Chromium: axe (no serious or critical violation) and no sideways scroll
at 375 px (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from engine.db import make_engine, session_factory
from notifications.models import OutboxMessage
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

TEMPORARY = "temporary words here"
CHOSEN = "paper lantern orchard"


def checked(page: Any, name: str) -> None:
    """axe at full width and at 375 px, which must not scroll sideways."""
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)
    assert page_overflow(page) == 0, f"{name} scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def invitation_link(db_url: str) -> str:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return str(session.scalars(select(OutboxMessage.link).order_by(OutboxMessage.id.desc())).first())
    finally:
        engine.dispose()


def test_an_administrator_adds_people_both_ways_and_each_sets_their_own_password(
    case_server: str, page: Any, world: World, db_url: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/users")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    checked(page, "staff-users")

    page.get_by_role("button", name="Add a user").click()
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    checked(page, "staff-new-errors")
    page.get_by_role("link", name="Enter a username").click()
    expect(page.get_by_label("Username")).to_be_focused()

    page.get_by_label("Username").fill("nina")
    page.get_by_label("Full name").fill("Nina Patel")
    page.get_by_label("Email address").fill("nina@la.example")
    page.get_by_label("Social worker").check()
    page.get_by_label("Give them a temporary password").check()
    page.get_by_label("Temporary password", exact=True).fill(TEMPORARY)
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("heading", name="Nina Patel")).to_be_visible()
    checked(page, "staff-edit")

    page.goto(f"{case_server}/admin/users/new")
    page.get_by_label("Username").fill("omar")
    page.get_by_label("Full name").fill("Omar Said")
    page.get_by_label("Email address").fill("omar@la.example")
    page.get_by_label("Manager").check()
    page.get_by_label("Email them an invitation").check()
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_text("has not chosen a password yet")).to_be_visible()

    newcomer = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    try:
        newcomer.goto(re.sub(r"^https?://[^/]+", case_server, invitation_link(db_url)))
        expect(newcomer.get_by_role("heading", name="Choose your password")).to_be_visible()
        checked(newcomer, "staff-invitation")
        newcomer.get_by_label("Password", exact=True).fill(CHOSEN)
        newcomer.get_by_label("Type the password again").fill(CHOSEN)
        newcomer.get_by_role("button", name="Set your password").click()
        expect(newcomer.get_by_role("heading", name="Sign in")).to_be_visible()
        sign_in(newcomer, case_server, "omar", CHOSEN)
    finally:
        newcomer.context.close()

    nina = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    try:
        nina.goto(f"{case_server}/login")
        nina.get_by_label("Username").fill("nina")
        nina.get_by_label("Password").fill(TEMPORARY)
        nina.get_by_role("button", name="Sign in").click()
        expect(nina.get_by_role("heading", name="Change your password")).to_be_visible()
        nina.goto(f"{case_server}/children")
        expect(nina.get_by_role("heading", name="Change your password")).to_be_visible()
        nina.get_by_label("Current password").fill(TEMPORARY)
        nina.get_by_label("New password", exact=True).fill(CHOSEN)
        nina.get_by_label("Type the new password again").fill("something else entirely")
        nina.get_by_role("button", name="Change your password").click()
        expect(nina.get_by_role("heading", name="There is a problem")).to_be_visible()
        checked(nina, "staff-password-errors")
        nina.get_by_label("Current password").fill(TEMPORARY)
        nina.get_by_label("New password", exact=True).fill(CHOSEN)
        nina.get_by_label("Type the new password again").fill(CHOSEN)
        nina.get_by_role("button", name="Change your password").click()
        expect(nina.get_by_role("heading", name="Your tasks")).to_be_visible()
    finally:
        nina.context.close()
    assert page.problems == []


def test_the_staff_import_and_the_caseload_pages_pass_axe(case_server: str, page: Any, world: World) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/staff/import")
    checked(page, "staff-import")
    page.get_by_label("CSV file").set_input_files({"name": "staff.csv", "mimeType": "text/csv", "buffer": (
        b"username,display_name,email,roles\nnina,Nina Patel,nina@la.example,social_worker\nzed,Zed,zed,cook\n")})
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Nothing can be imported from this file")).to_be_visible()
    checked(page, "staff-import-errors")

    page.goto(f"{case_server}/admin/users/dt100002")
    field = page.get_by_label("School (designated teachers only)")
    expect(field).to_have_class("autocomplete__input autocomplete__input--default")
    field.fill("hillc")
    option = page.get_by_role("option", name="Hillcrest Academy (100003)")
    expect(option).to_be_visible()
    assert_no_serious_accessibility_violations(page)  # the open list too
    option.click()
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_text("1 change saved")).to_be_visible()
    expect(page.get_by_label("School (designated teachers only)")).to_have_value("100003")

    page.goto(f"{case_server}/admin/caseloads")
    expect(page.get_by_role("heading", name="Caseloads")).to_be_visible()
    checked(page, "caseloads")
    page.goto(f"{case_server}/admin/caseloads/sw")
    page.get_by_role("button", name="Hand over the caseload").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    checked(page, "caseload-errors")
    page.get_by_label("New social worker").select_option("other_sw")
    page.get_by_role("button", name="Hand over the caseload").click()
    expect(page.get_by_text("handed over to other_sw")).to_be_visible()
    checked(page, "caseload")
    page.get_by_role("link", name=re.compile("^Allocate")).first.click()
    expect(page.get_by_role("heading", name="Allocate a social worker")).to_be_visible()
    checked(page, "caseload-allocate")
    page.goto(f"{case_server}/admin/caseloads/unallocated")
    checked(page, "caseload-unallocated")
    assert page.problems == []
