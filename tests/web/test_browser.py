"""A real Chromium against a real server: the GOV.UK pages work with their JavaScript under the CSP,
and axe-core finds no serious or critical accessibility problem on them.

Needs Debian's Chromium at /usr/bin/chromium (or VSW_CHROMIUM). CI requires these tests:
they fail, never skip, when the browser is missing. axe-core is vendored in tests/web/vendor/
(pinned in package.json; ``make assets`` refreshes it), so running the tests never needs Node.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engine.clock import FrozenClock
from notifications.models import InAppMessage
from tests.casework.records_support import add_child
from tests.casework.world import World, moment

from . import case_fixtures
from .case_world import PASSWORD as CASE_PASSWORD
from .case_world import build_app
from .support import PASSWORD
from .test_children import submit_initial_pep
from .test_escalations import raise_escalation

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
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="vsw-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test process's app (sam, val, tess) behind a real HTTP server."""
    with serving(app) as url:
        yield url


world = case_fixtures.world


@pytest.fixture
def case_server(db_url: str, clock: FrozenClock, world: World) -> Iterator[str]:
    """The app wired as production runs it over the casework world (tests/web/case_world.py)."""
    app = build_app(db_url, clock, world)
    with serving(app) as url:
        yield url
    app.extensions["vsw"].engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module; each test gets a fresh context (cookies, storage) from it."""
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
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    # CSP violations and script errors show up here; a page answered 400 on purpose does not count.
    page.on("console", lambda m: _note_console(problems, m))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: _note_response(problems, r))
    page.on("requestfailed", lambda r: _note_failed_request(problems, r))
    page.problems = problems
    try:
        yield page
    finally:
        context.close()


def _note_console(problems: list[str], message: Any) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)


def _note_response(problems: list[str], response: Any) -> None:
    if response.request.resource_type != "document" and response.status >= 400:
        problems.append(f"{response.status} for {response.url}")


def _note_failed_request(problems: list[str], request: Any) -> None:
    # Moving on to the next page cancels what the last one still had in flight (its favicon, often):
    # that is net::ERR_ABORTED, not a fault. A refusal by the CSP is net::ERR_BLOCKED_BY_CSP and counts.
    if request.failure != "net::ERR_ABORTED":
        problems.append(f"request failed: {request.url} ({request.failure})")


@functools.cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'make assets' (needs Node) to vendor axe-core again.")
    return AXE.read_text(encoding="utf-8")


def assert_no_serious_accessibility_violations(page: Any) -> None:
    """Run axe-core on the page as it is now; fail on any violation of impact serious or critical.

    The app's CSP (script-src 'self') refuses the inline <script> that ``page.add_script_tag`` would add
    (and that refusal would land in ``page.problems``), so the vendored axe is evaluated through the
    DevTools protocol instead, which the page's CSP does not govern. The CSP stays on for the app's own
    scripts, as the other checks here need.
    """
    from playwright.sync_api import expect

    # GOV.UK Frontend's JavaScript has initialised its components (it changes the DOM axe looks at).
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                target: v.nodes.length ? v.nodes[0].target.join(' ') : '', nodes: v.nodes.length,
            }));
        }"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe found serious or critical violations on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — first at {v['target']!r} ({v['nodes']} element(s))"
        for v in blocking
    )


def sign_in(page: Any, server: str, username: str, password: str = CASE_PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()


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
    assert page.problems == []


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
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


# -- axe over the casework app, signed in --------------------------------------------------------------


def test_the_inbox_has_no_serious_accessibility_problems_for_a_social_worker_or_the_virtual_school_head(
    case_server: str, page: Any
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "sw")
    expect(page.get_by_role("link", name="Contribute to the PEP")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, case_server, "vsh")
    expect(page.get_by_role("link", name="Escalations")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_children_list_of_more_than_a_page_has_a_next_link_to_page_two_and_passes_axe_on_both(
    case_server: str, page: Any, world: World, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    with world.session() as session:
        for n in range(30):
            add_child(session, clock, ref=f"C-5{n:02d}", first_name="Sam", last_name=f"Zed{n:02d}")
    sign_in(page, case_server, "vsh")
    page.get_by_role("link", name="Children").click()
    expect(page.get_by_role("heading", name="Children")).to_be_visible()
    expect(page.get_by_text("Showing 1 to 25 of 33 children you can see.")).to_be_visible()
    pagination = page.get_by_role("navigation", name="Pages of children")
    next_link = pagination.get_by_role("link", name="Next page")
    expect(next_link).to_be_visible()
    assert_no_serious_accessibility_violations(page)

    next_link.click()
    expect(page).to_have_url(re.compile(r"/children\?page=2$"))
    expect(page.get_by_text("Showing 26 to 33 of 33 children you can see.")).to_be_visible()
    expect(page.get_by_role("link", name="Zed29")).to_be_visible()
    expect(pagination.get_by_role("link", name="Previous page")).to_be_visible()
    expect(pagination.get_by_role("link", name="Next page")).to_have_count(0)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_childs_record_with_placements_a_rated_pep_and_actions_passes_axe(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    submit_initial_pep(world, {"rag": "green", "feedback": "Good."})
    sign_in(page, case_server, "sw")
    page.get_by_role("link", name="Children").click()
    page.get_by_role("link", name="Ethan Walsh").click()
    expect(page.get_by_role("heading", name="Ethan Walsh", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="Book a maths tutor", exact=True)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_designated_teachers_pep_form_passes_axe_blank_and_with_its_error_summary(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    task = world.task("C-1", "complete_pep_school_age")
    sign_in(page, case_server, "dt100001")
    page.goto(f"{case_server}/tasks/{task.id}")
    expect(page.get_by_role("heading", name=task.title, level=1)).to_be_visible()
    expect(page.locator('[name="actions-0-description"]')).to_be_visible()
    assert_no_serious_accessibility_violations(page)

    page.get_by_role("button", name="Save and complete").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_escalations_dashboard_passes_axe_for_the_manager(case_server: str, page: Any, world: World) -> None:
    from playwright.sync_api import expect

    raise_escalation(world, "C-1", ("placement_move", "area_notice_overdue"), moment("2026-11-25T10:00"))
    raise_escalation(world, "C-3", ("pep_review", "escalate_overdue_pep"), moment("2026-11-30T00:00"))
    sign_in(page, case_server, "manager")
    page.get_by_role("link", name="Escalations").click()
    expect(page.get_by_role("heading", name="Escalations")).to_be_visible()
    expect(page.get_by_text("2 open escalations")).to_be_visible()
    expect(page.get_by_role("link", name="Ethan Walsh")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_notifications_page_with_read_and_unread_messages_passes_axe(
    case_server: str, page: Any, world: World, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    with world.session() as session:
        for minutes, subject, read, link in ((60, "Old news", True, "/"),
                                             (30, "Record updated for C-1", False, "/children/C-1"),
                                             (5, "PEP overdue for C-1", False, "")):
            at = clock.now() - timedelta(minutes=minutes)
            session.add(InAppMessage(username="sw", name="task_assigned", subject=subject, text=f"About {subject}.",
                                     link=link, created_at=at, read_at=at if read else None))
    sign_in(page, case_server, "sw")
    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text(re.compile(r"You have \d+ unread notifications\."))).to_be_visible()
    expect(page.get_by_role("link", name="Record updated for C-1")).to_be_visible()  # unread, with a link
    expect(page.get_by_text("PEP overdue for C-1", exact=True)).to_be_visible()  # unread, no link
    expect(page.get_by_role("link", name="Old news")).to_be_visible()  # read
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_incidents_page_passes_axe_for_the_administrator_before_and_after_run_again(
    case_server: str, page: Any, world: World, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    from engine.errors import ProcessError
    from engine.incidents import record_failures

    instance_id = world.task("C-1", "complete_pep_school_age").instance_id
    failure = ProcessError("The process 'pep_review' failed: ZeroDivisionError:division by zero.")
    record_failures(world.factory, [(instance_id, failure)], clock.now())  # as the timer pump records one
    sign_in(page, case_server, "admin")
    page.get_by_role("link", name="Incidents").click()
    expect(page.get_by_role("heading", name="Processes held back by an error")).to_be_visible()
    expect(page.get_by_text("ZeroDivisionError", exact=False)).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "incidents.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / "incidents-375.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name=re.compile(r"^Run again")).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("will run again")
    expect(page.get_by_text("There are no open incidents.")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def page_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: nothing scrolls sideways)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    return width


def check_small_screen(page: Any, name: str) -> None:
    """At 375 px wide the page scrolls nowhere sideways and passes axe (a screenshot is kept as ``name``)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)
    assert page_overflow(page) == 0, f"{name} scrolls sideways at 375 px"
    assert_no_serious_accessibility_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_on_a_375_pixel_phone_no_page_scrolls_sideways_and_each_passes_axe(
    case_server: str, page: Any, world: World, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect
    from sqlalchemy import select

    from engine.errors import ProcessError
    from engine.incidents import record_failures
    from engine.models import ProcessInstance

    submit_initial_pep(world, {"rag": "green", "feedback": "Good."})
    raise_escalation(world, "C-1", ("placement_move", "area_notice_overdue"), moment("2026-11-25T10:00"))
    with world.session() as session:
        instance_id = session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id.desc())).first()
    assert instance_id is not None
    failure = ProcessError("The process 'pep_review' failed: ZeroDivisionError: division by zero")
    record_failures(world.factory, [(instance_id, failure)], clock.now())
    page.set_viewport_size({"width": 375, "height": 800})
    visits = {
        "sw": ["/", "/children", "/children/C-1", "/children/C-1/timeline", f"/instances/{instance_id}",
               "/notifications", "/account"],
        "manager": ["/escalations", "/escalations?state=resolved"],
        "admin": ["/admin/incidents", "/admin/dead-letters", "/admin/users"],
    }
    for username, paths in visits.items():
        sign_in(page, case_server, username)
        for path in paths:
            page.goto(f"{case_server}{path}")
            expect(page.locator("h1")).to_be_visible()
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "inbox"
            page.screenshot(path=str(ARTIFACTS / f"375-{username}-{name}.png"), full_page=True)
            assert page_overflow(page) == 0, f"{path} scrolls sideways for {username}"
            assert_no_serious_accessibility_violations(page)
        page.context.clear_cookies()  # signed out (the sign-out button is behind the menu at this width)
    assert page.problems == []
