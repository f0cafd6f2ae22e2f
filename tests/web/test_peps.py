"""The PEP document through HTTP: its page, its PDF, who may read them, and the task page's partials."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.pep_document import build
from casework.processes.pep_review import Step
from casework.records import Child, Pep
from engine.models import AuditEvent, HumanTask
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import login as sign_in
from .test_children import CONTRIBUTION
from .test_children import SCHOOL_AGE as FORM

SCHOOL_AGE = {**FORM, "meeting_date": "2026-12-01"}

world = case_fixtures.world
app = case_fixtures.app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RETURN_REASON = "The targets are not SMART."
LONG_WORD = "Supercalifragilisticexpialidocious" * 4
RESUBMITTED = {**SCHOOL_AGE, "targets": "Times tables to 12 by Easter.", "pupil_premium_plus_spend": "£1,200.50",
               "sen_support_status": "sen_support",
               "actions": [*SCHOOL_AGE["actions"],  # type: ignore[misc]
                           {"description": "Reading buddy twice a week", "owner": "Mr Jones",
                            "due_date": "2027-01-20"}]}


def returned(world: World) -> None:
    """Ethan's initial PEP filled in, then returned red by the VSH with a reason."""
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, SCHOOL_AGE, "dt100001")
    world.complete("C-1", Step.SOCIAL_WORKER_CONTRIBUTION, CONTRIBUTION, "sw")
    world.complete("C-1", Step.RECORD_CHILDS_VIEWS, {"childs_views": f"I want to stay at Riverside. {LONG_WORD}"},
                   "sw")
    world.complete("C-1", Step.QUALITY_ASSURE_PEP, {"rag": "red", "return_reason": RETURN_REASON,
                                                    "feedback": "Good views; sharpen the targets."}, "vsh")


def signed_off(world: World) -> None:
    """Returned, fixed by the teacher (new targets, more money, a second action) and signed off green."""
    returned(world)
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, RESUBMITTED, "dt100001")
    world.complete("C-1", Step.QUALITY_ASSURE_PEP, {"rag": "green", "feedback": "Much better."}, "vsh")


def pep_id(world: World) -> int:
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
        found = session.scalars(select(Pep.id).where(Pep.child_id == child.id)).first()
    assert found is not None
    return found


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 302


def test_the_pep_page_shows_each_section_by_its_label_with_its_answer_written_as_people_write_it(
    client: FlaskClient, world: World
) -> None:
    signed_off(world)
    login(client, "sw")
    page = client.get(f"/peps/{pep_id(world)}")
    assert page.status_code == 200
    html = page.text
    for label, answer in (("Pupil Premium Plus spend", "£1,200.50"), ("Special educational needs", "SEN support"),
                          ("Attendance this term (%)", "91.5%"), ("Date of the PEP meeting", "1 December 2026"), ("SMART targets", "Times tables to 12 by Easter."),
                          ("Care plan", "Long-term foster care."), ("The child&#39;s views", "I want to stay")):
        assert label in html and answer in html, label
    assert html.index("School") < html.index("SMART targets") < html.index("Care plan") < html.index("The child&#39;s views")
    assert "Book a maths tutor" in html and "Ms Patel" in html and "10 February 2027" in html
    assert "Reading buddy twice a week" in html and "Mr Jones" in html and "20 January 2027" in html
    assert 'govuk-tag--blue">Open</strong>' in html
    assert "Much better." in html and 'govuk-tag--green">Green</strong>' in html
    assert 'href="/peps/' in html and ".pdf" in html and "Download as PDF" in html
    assert "peps.css" in html


def test_the_pep_page_lists_each_version_and_what_changed_on_resubmission(client: FlaskClient, world: World) -> None:
    signed_off(world)
    login(client, "vsh")
    html = client.get(f"/peps/{pep_id(world)}").text
    versions = html[html.index(">Versions</h2>"):]
    assert "Version 1: submitted" in versions and "Version 2: returned for changes" in versions
    assert "Version 3: submitted" in versions and "Version 4: signed off" in versions
    assert f"Returned because: {RETURN_REASON}" in versions
    changes = versions[versions.index("What changed since the last submission"):]
    assert "<del>Times tables to 12.</del>" in changes and "<ins>Times tables to 12 by Easter.</ins>" in changes
    assert "<del>£300.00</del>" in changes and "<ins>£1,200.50</ins>" in changes
    assert "Action: Reading buddy twice a week" in changes and 'govuk-tag--green">Added</strong>' in changes
    assert "Care plan" not in changes  # the social worker's answers did not change


def test_an_overdue_action_is_shown_overdue_and_long_words_are_set_to_wrap(
    client: FlaskClient, world: World, app: Flask
) -> None:
    from datetime import UTC, datetime

    signed_off(world)
    world.clock.set(datetime(2027, 2, 20, 9, 0, tzinfo=UTC))
    login(client, "sw")
    html = client.get(f"/peps/{pep_id(world)}").text
    assert 'govuk-tag--red">Overdue</strong>' in html and LONG_WORD in html
    assert 'class="vsw-pep"' in html
    css = client.get("/static/peps.css").text
    assert ".vsw-pep" in css and "overflow-wrap: anywhere" in css and "@media print" in css


def test_a_pep_under_way_shows_its_proposed_actions_and_no_versions(client: FlaskClient, world: World) -> None:
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, SCHOOL_AGE, "dt100001")
    login(client, "dt100001")
    html = client.get(f"/peps/{pep_id(world)}").text
    assert "Book a maths tutor" in html and 'govuk-tag--grey">Proposed</strong>' in html
    assert "Not submitted yet." in html and "Not rated yet" in html
    assert "Working towards in maths." in html


@pytest.mark.parametrize("username", ["other_sw", "admin", "dt100002"])
def test_someone_who_does_not_read_the_childs_education_gets_404_for_the_page_and_the_pdf(
    client: FlaskClient, world: World, username: str
) -> None:
    signed_off(world)
    login(client, username)
    number = pep_id(world)
    assert client.get(f"/peps/{number}").status_code == 404
    assert client.get(f"/peps/{number}.pdf").status_code == 404


def test_an_unknown_pep_is_404_and_a_reader_who_is_not_signed_in_is_sent_to_sign_in(
    client: FlaskClient, world: World
) -> None:
    number = pep_id(world)
    assert client.get(f"/peps/{number}").status_code == 302
    login(client, "vsh")
    assert client.get("/peps/999999").status_code == 404
    assert client.get("/peps/999999.pdf").status_code == 404
    assert client.get("/peps/0").status_code == 404


def test_a_designated_teacher_reads_the_education_but_not_the_social_workers_contribution(
    client: FlaskClient, world: World
) -> None:
    signed_off(world)
    login(client, "dt100001")
    html = client.get(f"/peps/{pep_id(world)}").text
    assert "SMART targets" in html and "I want to stay at Riverside." in html
    assert "Long-term foster care." not in html and "The social worker&#39;s contribution" not in html


def test_the_pdf_is_an_attachment_named_after_the_child_and_holds_the_document(
    client: FlaskClient, world: World
) -> None:
    from pypdf import PdfReader

    signed_off(world)
    login(client, "sw")
    answer = client.get(f"/peps/{pep_id(world)}.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="PEP-C-1-initial-2026-27.pdf"'
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "pep.pdf").write_bytes(answer.data)  # to look at
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    flat = " ".join(text.split())
    assert "Ethan Walsh" in flat and "Pupil Premium Plus spend" in flat and "£1,200.50" in flat
    assert "Times tables to 12 by Easter." in flat and "Book a maths tutor" in flat
    with world.session() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.business_key == "C-1")))
    assert {"pep.viewed", "pep.downloaded"} - actions == {"pep.viewed"}  # the PDF's download is audited


def test_the_childs_record_links_each_pep_to_its_document(client: FlaskClient, world: World) -> None:
    login(client, "sw")
    html = client.get("/children/C-1").text
    assert f'href="/peps/{pep_id(world)}"' in html


# -- the task page's partials --------------------------------------------------------------------------
def _task(world: World, element: str) -> HumanTask:
    return world.task("C-1", element)


def _context(app: Flask, username: str, task: HumanTask, template: str | None = None) -> tuple[dict[str, Any], str]:
    """What the task page gets from ``web.peps.task_context`` for ``username``, and ``template`` rendered with it."""
    from flask import g

    from casework.users import User
    from web import peps
    from web.context import db

    with app.test_request_context("/"):
        g.user = db().scalars(select(User).where(User.username == username)).one()
        context = peps.task_context(task)
        html = render_template(template, **context) if template else ""
        if "pep_document" in context:
            context["pep_id"] = context["pep_document"].pep.id
        return context, html


def test_the_quality_task_gets_the_document_and_its_partial_renders_it(app: Flask, world: World) -> None:
    world.complete("C-1", Step.COMPLETE_PEP_SCHOOL_AGE, SCHOOL_AGE, "dt100001")
    world.complete("C-1", Step.SOCIAL_WORKER_CONTRIBUTION, CONTRIBUTION, "sw")
    world.complete("C-1", Step.RECORD_CHILDS_VIEWS, {"childs_views": "I like maths."}, "sw")
    task = _task(world, Step.QUALITY_ASSURE_PEP)
    context, html = _context(app, "vsh", task, "peps/_document.html")
    assert context["pep_id"] == pep_id(world)
    assert "Pupil Premium Plus spend" in html and "£300.00" in html and "I like maths." in html
    assert "Version 1: submitted" in html


def test_a_returned_stage_task_gets_the_reason_and_its_banner_renders_it(app: Flask, world: World) -> None:
    returned(world)
    task = _task(world, Step.COMPLETE_PEP_SCHOOL_AGE)
    context, html = _context(app, "dt100001", task, "peps/_returned.html")
    assert context["pep_returned"]["reason"] == RETURN_REASON
    assert "govuk-notification-banner" in html
    assert f"Returned by {context['pep_returned']['by']} on 1 December 2026: {RETURN_REASON}" in html


def test_other_tasks_get_nothing_from_the_pep(app: Flask, world: World) -> None:
    task = _task(world, Step.COMPLETE_PEP_SCHOOL_AGE)  # not returned
    assert _context(app, "dt100001", task) == ({}, "")
    with world.session() as session:
        pep = session.get(Pep, pep_id(world))
        assert pep is not None
        assert build(session, pep, world.clock.now().date()).filename == "PEP-C-1-initial-2026-27.pdf"
