"""A real Chromium on forms that know: the designated teacher saves part of a PEP as a draft, signs out and in
and finds it; nobody else sees it; it goes when the PEP is done. The PEP form starts from the records and from
last term's PEP, and a form whose token expired comes back with what was typed (fixtures: test_browser.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from casework.processes.pep_review import Step
from casework.records import Child, Pep
from engine.drafts import TaskDraft
from tests.casework.world import World

from .test_browser import assert_no_serious_accessibility_violations, sign_in
from .test_browser import browser as browser  # noqa: F401  (fixtures used by name)
from .test_browser import case_server as case_server  # noqa: F401
from .test_browser import page as page  # noqa: F401
from .test_browser import world as world  # noqa: F401

pytestmark = pytest.mark.browser

ATTAINMENT = "Ethan reads fluently and is working at the expected standard in maths."


def sign_out(page: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_the_designated_teacher_saves_a_draft_signs_out_and_in_finds_it_and_it_goes_when_the_pep_is_done(
    case_server: str, page: Any, world: World  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    task = world.task("C-1", Step.COMPLETE_PEP_SCHOOL_AGE)
    url = f"{case_server}/tasks/{task.id}"
    sign_in(page, case_server, "dt100001")
    page.goto(url)
    expect(page.locator('[name="school_name"]')).to_have_value("Riverside Primary")  # from Ethan's record
    expect(page.locator('[name="school_year_group"]')).to_have_value("6")
    expect(page.get_by_text("Some answers are filled in from the child's record")).to_be_visible()
    page.locator('[name="attainment_summary"]').fill(ATTAINMENT)
    page.locator('[name="attendance_percent"]').fill("nine")  # not a number: a draft takes it as typed
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Your draft of")
    expect(page.locator("#draft-saved")).to_contain_text("Draft saved at 9:00am on 1 December 2026")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)

    sign_out(page)
    sign_in(page, case_server, "dt100001")
    page.goto(url)
    expect(page.locator("#draft-saved")).to_contain_text("Draft saved at 9:00am on 1 December 2026")
    expect(page.locator('[name="attainment_summary"]')).to_have_value(ATTAINMENT)
    expect(page.locator('[name="attendance_percent"]')).to_have_value("nine")
    assert_no_serious_accessibility_violations(page)

    sign_out(page)
    sign_in(page, case_server, "vsh")  # reads Ethan's PEP task, may not complete it: not her draft to see
    page.goto(url)
    expect(page.get_by_role("heading", name=task.title, level=1)).to_be_visible()
    assert ATTAINMENT not in page.content() and "Draft saved" not in page.content()

    sign_out(page)
    sign_in(page, case_server, "dt100001")
    page.goto(url)
    if page.locator('[name="meeting_date-day"]').count():  # the date of the PEP meeting, where the form asks
        page.locator('[name="meeting_date-day"]').fill("30")
        page.locator('[name="meeting_date-month"]').fill("11")
        page.locator('[name="meeting_date-year"]').fill("2026")
    page.locator('[name="attendance_percent"]').fill("91.5")
    page.locator('[name="exclusions_this_term"]').fill("0")
    page.get_by_role("radio", name="No special educational needs identified").check()
    page.locator('[name="pupil_premium_plus_spend"]').fill("300")
    page.locator('[name="pupil_premium_plus_purpose"]').fill("Maths tutoring.")
    page.locator('[name="targets"]').fill("Times tables to 12.")
    page.locator('[name="actions-0-description"]').fill("Book a maths tutor")
    page.locator('[name="actions-0-owner"]').fill("Ms Patel")
    page.locator('[name="actions-0-due_date-day"]').fill("10")
    page.locator('[name="actions-0-due_date-month"]').fill("2")
    page.locator('[name="actions-0-due_date-year"]').fill("2027")
    page.get_by_role("button", name="Save and complete").click()
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is complete")
    with world.session() as session:
        assert session.get(TaskDraft, task.id) is None
    page.goto(url)
    expect(page.get_by_text("This task has been completed.")).to_be_visible()
    expect(page.locator("#draft-saved")).to_have_count(0)
    assert page.problems == []


def test_last_terms_pep_is_carried_forward_and_marked_on_the_designated_teachers_form(
    case_server: str, page: Any, world: World  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
        session.add(Pep(child_id=child.id, kind="termly", academic_year="2025/26", term="summer",
                        stage="school_age", status="complete", created_at=datetime(2026, 5, 1, tzinfo=UTC),
                        completed_at=datetime(2026, 7, 20, 14, 0, tzinfo=UTC),
                        sections=json.dumps({"attainment_summary": "Last term: reading well.", "targets": "Spell."})))
    sign_in(page, case_server, "dt100001")
    page.goto(f"{case_server}/tasks/{world.task('C-1', Step.COMPLETE_PEP_SCHOOL_AGE).id}")
    expect(page.locator("#carried-forward")).to_contain_text(
        "Started from the summer 2026 PEP, signed off on 20 July 2026: check and update each answer")
    expect(page.locator('[name="attainment_summary"]')).to_have_value("Last term: reading well.")
    expect(page.locator('[name="school_year_group"]')).to_have_value("6")
    expect(page.locator('[name="actions-0-description"]')).to_have_value("")
    assert_no_serious_accessibility_violations(page)
    assert page.problems == []


def test_a_form_sent_with_an_expired_token_comes_back_with_the_typed_values(
    case_server: str, page: Any, world: World  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    sign_in(page, case_server, "dt100001")
    page.goto(f"{case_server}/tasks/{world.task('C-1', Step.COMPLETE_PEP_SCHOOL_AGE).id}")
    page.locator('[name="attainment_summary"]').fill(ATTAINMENT)
    page.evaluate("document.querySelectorAll('[name=csrf_token]').forEach(e => { e.value = 'stale'; })")
    page.get_by_role("button", name="Save and complete").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The form had expired, so nothing was saved. Check your answers and save again.")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator('[name="attainment_summary"]')).to_have_value(ATTAINMENT)
    assert_no_serious_accessibility_violations(page)
    page.get_by_role("button", name="Save as draft").click()  # the page's new token works
    expect(page.locator("#draft-saved")).to_contain_text("Draft saved at")
    expect(page.locator('[name="attainment_summary"]')).to_have_value(ATTAINMENT)
    assert page.problems == []
