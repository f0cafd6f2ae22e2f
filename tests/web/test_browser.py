"""A real Chromium against a real server: the GOV.UK pages work with their JavaScript under the CSP.

Needs Debian's Chromium at /usr/bin/chromium (or VSW_CHROMIUM). CI requires these tests:
they fail, never skip, when the browser is missing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from .support import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("VSW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="vsw-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: install it with 'apt-get install chromium' "
            "(or set VSW_CHROMIUM). Browser tests are required and never skipped."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install playwright (do not run 'playwright install').")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems: list[str] = []
        # CSP violations and script errors show up here; a page answered 400 on purpose does not count.
        page.on("console", lambda m: _note_console(problems, m))
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("response", lambda r: _note_response(problems, r))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.problems = problems  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


def _note_console(problems: list[str], message: Any) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)


def _note_response(problems: list[str], response: Any) -> None:
    if response.request.resource_type != "document" and response.status >= 400:
        problems.append(f"{response.status} for {response.url}")


def test_social_worker_signs_in_fixes_form_errors_and_completes_a_task(
    live_server: str, page: Any, first_task_id: str
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    expect(page.locator("body")).to_have_class("govuk-template__body js-enabled govuk-frontend-supported")
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)
    page.get_by_role("link", name="Record the proposed move").click()

    expect(page.get_by_role("heading", name="Record the proposed move")).to_be_visible()
    page.get_by_role("button", name="Save and complete").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend's JavaScript ran under the CSP
    expect(summary.get_by_role("link", name="Enter reason for the move")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "task-form-errors.png"), full_page=True)

    summary.get_by_role("link", name="Enter date of the move").click()
    expect(page.locator("#move_date-day")).to_be_focused()
    page.get_by_label("Reason for the move").fill("Carers moving to Leeds")
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year", exact=True).fill("2026")
    page.get_by_role("radio", name="No").check()
    page.get_by_label("Year group").fill("9")
    page.get_by_role("radio", name="Maintained school").check()
    page.get_by_role("button", name="Save and complete").click()

    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Record the proposed move")
    page.screenshot(path=str(ARTIFACTS / "inbox-after-completing.png"), full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]


def test_login_page_looks_like_govuk_with_its_fonts_loaded(live_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/login")
    expect(page.locator(".govuk-header")).to_contain_text("Virtual School Workflow")
    expect(page.locator(".govuk-phase-banner")).to_be_visible()
    expect(page.locator(".govuk-footer")).to_be_visible()
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('19px GDS Transport')")
    page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
