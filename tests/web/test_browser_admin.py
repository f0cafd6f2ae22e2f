"""A real Chromium on ``/admin``: the administrator reaches it from the navigation, it passes axe, and it fits
a 375-pixel screen (the fixtures are tests/web/test_browser.py's)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from tests.hashing import FAST_HASHER

from .support import PASSWORD
from .test_browser import assert_no_serious_accessibility_violations, sign_in
from .test_browser import browser as browser  # noqa: F401  (fixtures used by name)
from .test_browser import live_server as live_server  # noqa: F401
from .test_browser import page as page  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_administrator_opens_administration_from_the_navigation_and_follows_the_first_step(
    app: Flask, clock: FrozenClock, live_server: str, page: Any  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("ada", "Ada Admin", "ada@la.example", PASSWORD, ["admin"],
                                                     "LA-100")
    sign_in(page, live_server, "ada", PASSWORD)
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Administration", exact=True)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="1. Schools register").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith("/admin/schools")
    assert page.problems == []
