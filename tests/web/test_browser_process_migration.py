"""Moving running cases to a new version, in a real Chromium: from the versions page, the dry run and the
move, axe-clean and at 375 px (tests/web/test_browser.py has the machinery)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.service import WorkflowService
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

ENGINE_BPMN = Path(__file__).resolve().parents[1] / "engine" / "bpmn"


def deploy(world: World, name: str) -> None:
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).deploy_file(ENGINE_BPMN / name)


def test_the_administrator_reads_the_dry_run_and_moves_the_cases_that_can_move(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    deploy(world, "migration_v1.bpmn")
    with world.session() as session:
        service = WorkflowService(session, world.clock, world.runtime)
        at_gather = service.start("migration", "C-1", {}, world.actors["sw"]).id
        at_review = service.start("migration", "C-3", {}, world.actors["sw"]).id
    world.complete("C-3", "gather", {}, "sw")
    deploy(world, "migration_removed.bpmn")

    sign_in(page, case_server, "admin")
    page.goto(f"{case_server}/admin/settings/processes")
    page.get_by_role("link", name="Move running cases to the newest version (migration, from version 1)").click()
    expect(page.get_by_role("heading", name="Move running cases to version 2", level=1)).to_be_visible()
    cannot = page.locator(f'tr[data-instance="{at_review}"]')
    expect(cannot.get_by_text("Cannot move")).to_be_visible()
    expect(cannot.locator("[data-reason]")).to_have_text(
        "waits at 'Review the case' (review), which version 2 removed")
    expect(page.locator(f'tr[data-instance="{at_gather}"]').get_by_text("Can move")).to_be_visible()
    assert_no_serious_accessibility_violations(page)
    page.screenshot(path=str(ARTIFACTS / "process-migration-dry-run.png"), full_page=True)
    check_small_screen(page, "process-migration-dry-run")

    page.get_by_role("button", name="Move the 1 case that can move on this page to version 2").click()
    expect(page.get_by_text("Moved to version 2: 1. Cannot move: 1.")).to_be_visible()
    expect(page.locator(f'tr[data-instance="{at_gather}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-instance="{at_review}"]')).to_have_count(1)
    expect(page.get_by_role("button", name="Move the 1 case that can move on this page to version 2")).to_have_count(0)
    assert_no_serious_accessibility_violations(page)
    check_small_screen(page, "process-migration-moved")
    assert page.problems == []
