"""The instance page's process diagram and the child's timeline in a real Chromium, under the app's CSP:
bpmn-js's viewer draws the process with where the case is marked (steps done, flows taken, open tasks,
timers with their due dates beside them, messages waited for) and a key; selecting an open task, with the
mouse or the keyboard, says who holds it; a version just deployed from a modeler draws, one without
layout says so; the operator's counts draw as badges that lead on. Nothing is refused or fails in the
console, axe finds no serious or critical problem, and a 10,000-character word scrolls nothing sideways."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from engine.service import WorkflowService
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
from .test_instances import COUNCIL_BPMN, propose_move

pytestmark = pytest.mark.browser
__all__ = ["browser", "case_server", "page", "world"]  # the fixtures, shared with tests/web/test_browser.py

LONG_WORD = "w" * 10_000


def marked(page: Any, element_id: str, marker: str) -> Any:
    return page.locator(f'#process-diagram .djs-element[data-element-id="{element_id}"].{marker}')


def test_the_diagram_draws_the_process_and_marks_what_is_done_open_and_waiting_under_the_csp(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/instances/{move}")
    expect(page.locator("#process-diagram svg").first).to_be_visible()
    expect(marked(page, "confirm_care_placement", "vsw-current")).to_have_count(1)
    expect(marked(page, "discuss_school_choice", "vsw-current")).to_have_count(1)
    expect(marked(page, "propose_move", "vsw-done")).to_have_count(1)
    expect(marked(page, "school_place_deadline", "vsw-waiting")).to_have_count(1)
    drawn = page.locator("#process-diagram .djs-element[data-element-id]").count()
    assert drawn > 20, drawn  # the whole process: its tasks, gateways, events and flows
    assert page.locator("#process-diagram .vsw-diagram-fallback").count() == 0
    where = page.locator("#where-now-list")
    expect(where).to_contain_text("School place limit reached, due 14 January 2027")
    expect(where.get_by_role("link", name="Confirm the new care placement")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "instance-diagram.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_very_long_word_in_an_answer_wraps_and_the_instance_and_timeline_pages_fit_a_phone(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world, childs_wishes=LONG_WORD, reason_detail=LONG_WORD[:5000])
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, case_server, "sw")
    for path in (f"/instances/{move}", "/children/C-1/timeline", "/children/C-1"):
        page.goto(f"{case_server}{path}")
        expect(page.locator("h1")).to_be_visible()
        if path.startswith("/instances/"):
            expect(page.locator("#process-diagram svg").first).to_be_visible()
            expect(page.locator(".vsw-history")).to_contain_text(LONG_WORD[:100])
        name = path.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTIFACTS / f"375-sw-{name}.png"), full_page=True)
        assert page_overflow(page) == 0, f"{path} scrolls sideways"
        assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def deploy(world: World, text: str, filename: str) -> None:
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).deploy_text(text, filename, world.actors["vsh"])


def start_review(world: World) -> int:
    with world.session() as session:
        return int(WorkflowService(session, world.clock, world.runtime).start(
            "council_review", "C-1", {}, world.actors["vsh"]).id)


def test_the_diagram_marks_the_flow_taken_each_timers_due_date_and_the_message_wait_with_a_key(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/instances/{move}")
    expect(page.locator("#process-diagram.vsw-diagram--drawn")).to_have_count(1)
    for flow in ("flow_to_propose_move", "flow_to_arrange_move", "flow_planned_move", "flow_split_to_care"):
        expect(marked(page, flow, "vsw-flow")).to_have_count(1)
    expect(marked(page, "flow_emergency_care_first", "vsw-flow")).to_have_count(0)
    expect(marked(page, "arrangements_split", "vsw-done")).to_have_count(1)
    expect(marked(page, "placement_cancelled", "vsw-message")).to_have_count(1)
    due = page.locator('#process-diagram .djs-overlays[data-container-id="school_place_deadline"] .vsw-diagram-due')
    expect(due).to_have_text("Due 14 January 2027")
    key = page.get_by_role("list", name="Key to the diagram")
    for words in ("Done", "Way taken", "Open task", "Waiting for a date", "Waiting for a message"):
        expect(key).to_contain_text(words)
    # the swatches are drawn as the diagram draws its markers
    flow_colour = page.locator('#process-diagram [data-element-id="flow_to_propose_move"] .djs-visual > path').evaluate(
        "e => getComputedStyle(e).stroke")
    assert page.locator(".vsw-diagram-swatch--flow").evaluate("e => getComputedStyle(e).borderTopColor") == flow_colour
    message_colour = page.locator('#process-diagram [data-element-id="placement_cancelled"] .djs-visual > :nth-child(1)').evaluate(
        "e => getComputedStyle(e).stroke")
    assert page.locator(".vsw-diagram-swatch--message").evaluate("e => getComputedStyle(e).borderTopColor") == message_colour
    expect(page.locator("#where-now-list")).to_contain_text(
        "Placement cancelled, if it comes while the step it belongs to is open (waiting since 1 December 2026)")
    page.screenshot(path=str(ARTIFACTS / "instance-diagram-marked.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_selecting_an_open_task_on_the_diagram_says_who_holds_it_with_the_mouse_or_the_keyboard(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    task = world.task("C-1", "confirm_care_placement")
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["sw"])
    sign_in(page, case_server, "sw")
    page.goto(f"{case_server}/instances/{move}")
    detail = page.locator("#diagram-detail")
    expect(detail).to_have_attribute("aria-live", "polite")
    expect(page.locator("#process-diagram.vsw-diagram--drawn")).to_have_count(1)  # zoomed to the first task
    holders = {"confirm_care_placement": ("Confirm the new care placement", "Sw", "No due date", f"/tasks/{task.id}"),
               "discuss_school_choice": ("Discuss the school choice with the designated teacher", "Unassigned",
                                         "14 January 2027", None)}
    frame = page.locator("#process-diagram").bounding_box()

    def in_view(element_id: str) -> bool:
        box = marked(page, element_id, "vsw-current").bounding_box()
        return bool(box) and frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]

    # the diagram opens on one of the two open tasks: the mouse selects that one, the keyboard the other
    clicked = next(e for e in holders if in_view(e))
    [typed] = [e for e in holders if e != clicked]
    for element_id, select in ((clicked, "mouse"), (typed, "keyboard")):
        name, holder, due, href = holders[element_id]
        target = page.locator(f'#process-diagram [data-element-id="{element_id}"][role="button"]')
        expect(target).to_have_attribute("aria-label", f"Open task: {name}. Show who holds it")
        if select == "mouse":
            target.click()
        else:
            target.focus()
            page.keyboard.press("Enter")
        expect(detail.get_by_role("heading", name=name)).to_be_visible()
        expect(detail).to_contain_text(f"Held by{holder}")
        expect(detail).to_contain_text("RoleSocial worker")
        expect(detail).to_contain_text(f"Due{due}")
        link = detail.get_by_role("link", name=re.compile(rf"^Go to the task ?: {re.escape(name)}$"))
        expect(link).to_have_attribute("href", href or re.compile(r"^/tasks/"))
        page.screenshot(path=str(ARTIFACTS / f"instance-diagram-holder-{select}.png"), full_page=True)
    # moving the focus into the drawing scrolled nothing inside it out of step with bpmn-js's own view
    assert page.evaluate("['#process-diagram', '#process-diagram .djs-container'].map("
                         "s => document.querySelector(s).scrollTop + document.querySelector(s).scrollLeft)") == [0, 0]
    detail.get_by_role("link").click()
    expect(page.get_by_role("heading", name=holders[typed][0])).to_be_visible()
    page.go_back()
    expect(page.locator("#process-diagram.vsw-diagram--drawn")).to_have_count(1)
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_version_just_deployed_from_a_modeler_draws_and_one_without_layout_says_it_has_no_drawing(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    modelled = COUNCIL_BPMN.read_text(encoding="utf-8")
    deploy(world, modelled, "council_review.bpmn")
    drawn = start_review(world)
    deploy(world, re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", modelled, flags=re.S), "bare.bpmn")
    bare = start_review(world)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, case_server, "vsh")
    page.goto(f"{case_server}/instances/{drawn}")
    expect(page.locator("#process-diagram.vsw-diagram--drawn")).to_have_count(1)
    expect(marked(page, "review_case", "vsw-current")).to_have_count(1)
    expect(marked(page, "review_due", "vsw-waiting")).to_have_count(1)
    expect(marked(page, "school_reply", "vsw-message")).to_have_count(1)
    expect(marked(page, "flow_to_reply", "vsw-flow")).to_have_count(1)
    expect(page.locator('.djs-overlays[data-container-id="review_due"] .vsw-diagram-due')).to_have_text(
        "Due 8 December 2026")
    page.screenshot(path=str(ARTIFACTS / "375-instance-council-review.png"), full_page=True)
    assert page_overflow(page) == 0
    assert_no_serious_accessibility_violations(page)
    page.goto(f"{case_server}/instances/{bare}")
    expect(page.locator("#no-drawing")).to_contain_text("Version 2 of the council case review has no drawing")
    assert page.locator("#process-diagram").count() == 0
    expect(page.locator("#where-now-list")).to_contain_text("School's reply (waiting since 1 December 2026)")
    assert page_overflow(page) == 0
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_the_operators_counts_draw_as_badges_that_lead_to_the_cases_at_that_step(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    sign_in(page, case_server, "sw")
    xml = COUNCIL_BPMN.read_text(encoding="utf-8")
    counts = {"xml": xml, "counts": [
        {"id": "review_case", "tasks": 3, "timers": 0, "messages": 0, "incidents": 1, "href": "/children/C-1"},
        {"id": "school_reply", "tasks": 0, "timers": 0, "messages": 2, "incidents": 0},
        {"id": "review_finished", "tasks": 0, "timers": 0, "messages": 0, "incidents": 0}]}
    page.route(re.compile(r".*/diagram\.json$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(counts)))
    page.goto(f"{case_server}/instances/{move}")
    expect(page.locator("#process-diagram.vsw-diagram--drawn")).to_have_count(1)
    badges = page.locator('.djs-overlays[data-container-id="review_case"] a.vsw-counts')
    expect(badges).to_have_text("3 open tasks1 incident")
    expect(badges).to_have_attribute("href", "/children/C-1")
    expect(page.locator('.djs-overlays[data-container-id="school_reply"] .vsw-counts')).to_have_text(
        "2 messages waited for")
    assert page.locator('.djs-overlays[data-container-id="review_finished"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "diagram-counts.png"), full_page=True)
    assert_no_serious_accessibility_violations(page)
    page.locator('#process-diagram .djs-element[data-element-id="review_case"]').click()
    expect(page).to_have_url(f"{case_server}/children/C-1")
    assert page.problems == []


def test_a_diagram_without_layout_from_a_page_that_does_not_say_so_shows_a_message_not_a_blank_box(
    case_server: str, page: Any, world: World
) -> None:
    from playwright.sync_api import expect

    move = propose_move(world)
    sign_in(page, case_server, "sw")
    bare = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", COUNCIL_BPMN.read_text(encoding="utf-8"),
                  flags=re.S)
    page.route(re.compile(r".*/diagram\.json$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({"xml": bare, "counts": []})))
    page.goto(f"{case_server}/instances/{move}")
    expect(page.locator("#process-diagram")).to_have_text(
        "This version of the process has no drawing: its file was deployed without diagram layout.")
    assert page.locator("#process-diagram svg").count() == 0
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []
