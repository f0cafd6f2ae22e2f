"""A real Chromium on the pages of signing in and sessions: "Your account", the administrators' users, and
the sign-in page while locked all work under the CSP and pass axe (the fixtures are tests/web/test_browser.py's)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER

from .support import PASSWORD, login
from .test_browser import assert_no_serious_accessibility_violations, sign_in
from .test_browser import browser as browser  # noqa: F401  (fixtures used by name)
from .test_browser import live_server as live_server  # noqa: F401
from .test_browser import page as page  # noqa: F401

pytestmark = pytest.mark.browser


def test_your_account_lists_where_you_are_signed_in_and_signs_you_out_everywhere(
    app: Flask, live_server: str, page: Any  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    elsewhere = app.test_client()
    assert login(elsewhere, "sam").status_code == 302
    sign_in(page, live_server, "sam", PASSWORD)
    page.get_by_role("link", name="Signed in as Sam Social").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("This browser")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You have signed out everywhere: 2 sessions ended")).to_be_visible()
    assert elsewhere.get("/").status_code == 302
    assert page.problems == []


def test_an_administrator_signs_a_user_out_everywhere_from_the_users_page(
    app: Flask, clock: FrozenClock, live_server: str, page: Any  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"],
                                                     "LA-100")
    leaver: FlaskClient = app.test_client()
    assert login(leaver, "tess").status_code == 302
    sign_in(page, live_server, "ada", PASSWORD)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("row", name="Tess Teacher").get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("tess is signed out everywhere: 1 session ended")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert leaver.get("/").status_code == 302
    assert page.problems == []


def test_the_sign_in_page_of_a_locked_account_passes_axe(live_server: str, page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{live_server}/login")
    for _ in range(6):
        page.get_by_label("Username").fill("val")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Too many attempts to sign in. Wait 1 minute, then try again").first).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []
