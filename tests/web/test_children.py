"""The case list and a child's record, through HTTP, with the shipped processes and the case access policy."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.clock import FrozenClock
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.casework.records_support import add_child
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

SCHOOL_AGE = {"meeting_date": "2026-11-30", "school_name": "Riverside Primary", "school_year_group": 5, "attendance_percent": 91.5,
              "exclusions_this_term": 0, "attainment_summary": "Working towards in maths.",
              "sen_support_status": "none", "pupil_premium_plus_spend": 300,
              "pupil_premium_plus_purpose": "Maths tutoring.", "targets": "Times tables to 12.",
              "actions": [{"description": "Book a maths tutor", "owner": "Ms Patel", "due_date": "2027-02-10"}]}
CONTRIBUTION = {"care_plan_context": "Long-term foster care.", "placement_stability": "Stable.",
                "carers_support": "Reading every night."}


world = case_fixtures.world
app = case_fixtures.app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 302


def start_move(client: FlaskClient, ref: str):  # type: ignore[no-untyped-def]
    page = client.get("/children")
    return client.post(f"/children/{ref}/moves", data={"csrf_token": csrf_token(page.text)})


def submit_initial_pep(world: World, quality: dict[str, str]) -> None:
    """Ethan's initial PEP filled in by his teacher and social worker, then rated by the VSH."""
    world.complete("C-1", "complete_pep_school_age", SCHOOL_AGE, "dt100001")
    world.complete("C-1", "social_worker_contribution", CONTRIBUTION, "sw")
    world.complete("C-1", "record_childs_views", {"childs_views": "I want to stay at Riverside."}, "sw")
    world.complete("C-1", "quality_assure_pep", quality, "vsh")


def test_a_social_worker_sees_only_their_allocated_children_in_the_list(client: FlaskClient) -> None:
    login(client, "sw")
    page = client.get("/children")
    assert page.status_code == 200
    assert "Ethan Walsh" in page.text and "Leo Brown" in page.text
    assert "Amy Khan" not in page.text and "C-2" not in page.text
    assert "Riverside Primary" in page.text and "St Anne&#39;s VA High" in page.text
    assert "Foster care (LA carer)" in page.text  # Ethan's current placement
    assert "Initial PEP" in page.text and "Not started" in page.text
    assert "Year 6" in page.text  # born March 2016: aged 10 on 31 August 2026


def test_a_social_worker_gets_404_for_a_child_who_is_not_theirs_as_for_a_child_who_does_not_exist(
    client: FlaskClient,
) -> None:
    login(client, "sw")
    other = client.get("/children/C-2")
    missing = client.get("/children/C-999")
    assert other.status_code == missing.status_code == 404
    assert "Amy" not in other.text
    assert other.text.replace("C-2", "") == missing.text.replace("C-999", "")


def test_a_designated_teacher_sees_the_children_at_their_school(client: FlaskClient) -> None:
    login(client, "dt100002")
    page = client.get("/children")
    assert "Amy Khan" in page.text and "Leo Brown" in page.text
    assert "Ethan Walsh" not in page.text
    assert client.get("/children/C-2").status_code == 200
    assert client.get("/children/C-1").status_code == 404


def test_the_virtual_school_head_sees_every_child_of_the_authority(client: FlaskClient) -> None:
    login(client, "vsh")
    page = client.get("/children").text
    assert all(name in page for name in ("Ethan Walsh", "Amy Khan", "Leo Brown"))


def test_the_case_list_counts_each_childs_open_tasks(client: FlaskClient, world: World) -> None:
    open_for_ethan = len(world.open_tasks("C-1"))
    assert open_for_ethan >= 1
    login(client, "sw")
    page = client.get("/children").text
    row = page[page.index("Ethan Walsh"):page.index("</tbody>")]  # by last name: Brown, then Walsh
    assert f'govuk-table__cell--numeric">{open_for_ethan}</td>' in row


def test_the_child_page_shows_details_placements_peps_actions_and_open_tasks(
    client: FlaskClient, world: World
) -> None:
    submit_initial_pep(world, {"rag": "green", "feedback": "Good."})
    login(client, "sw")
    page = client.get("/children/C-1")
    assert page.status_code == 200
    text = page.text
    assert "<h1 class=\"govuk-heading-l\">Ethan Walsh</h1>" in text
    assert "14 March 2016" in text and "P207000016049" in text
    assert "Full care order (C2)" in text and "20 November 2026" in text
    assert "Riverside Primary (URN 100001)" in text and "Sw" in text  # the social worker's display name
    assert "Kinship / connected-person care" in text and "Aunt May" in text
    assert "Foster care (LA carer)" in text and "Out of area, in an adjoining authority (Leeds)" in text
    assert "Current</strong>" in text
    assert "Initial PEP" in text and "Complete</strong>" in text and "RAG: Green" in text
    assert "Book a maths tutor" in text and "Ms Patel" in text and "10 February 2027" in text
    assert "govuk-summary-list" in text and 'class="govuk-back-link"' in text
    with world.session() as session:
        open_ids = [t.id for t in session.scalars(
            select(HumanTask).where(HumanTask.business_key == "C-1", HumanTask.state == "open"))]
    for task_id in open_ids:
        assert f"/tasks/{task_id}" in text


def test_viewing_a_childs_record_is_audited_and_a_refused_view_is_not(
    client: FlaskClient, world: World
) -> None:
    login(client, "sw")
    assert client.get("/children/C-1").status_code == 200
    assert client.get("/children/C-2").status_code == 404
    with world.session() as session:
        views = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "child.viewed")))
        assert [(v.actor, v.business_key) for v in views] == [("sw", "C-1")]


def test_starting_a_move_from_the_child_page_opens_propose_move_for_the_allocated_social_worker(
    client: FlaskClient, world: World
) -> None:
    login(client, "sw")
    page = client.get("/children/C-1")
    assert "Start a placement move" in page.text
    response = client.post("/children/C-1/moves", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    task = world.task("C-1", "propose_move")
    assert response.headers["Location"] == f"/tasks/{task.id}"
    assert task.role == "social_worker"
    assert client.get(response.headers["Location"]).status_code == 200
    again = client.get("/children/C-1").text
    assert "A placement move is in progress" in again and "Start a placement move" not in again
    second = client.post("/children/C-1/moves", data={"csrf_token": csrf_token(again)})
    assert second.status_code == 409
    with world.session() as session:
        moves = session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "placement_move"))
        assert len(list(moves)) == 1


def test_another_social_worker_who_can_see_the_child_gets_403_on_starting_a_move(
    client: FlaskClient, world: World
) -> None:
    login(client, "sw_dt")  # a social worker, and the designated teacher at Ethan's school
    page = client.get("/children/C-1")
    assert page.status_code == 200 and "Start a placement move" not in page.text
    response = client.post("/children/C-1/moves", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 403
    assert "allocated social worker" in response.text
    assert world.open_tasks("C-1", "placement_move") == []


def test_a_social_worker_not_allocated_to_the_child_gets_404_on_starting_a_move(
    client: FlaskClient, world: World
) -> None:
    login(client, "other_sw")
    assert start_move(client, "C-1").status_code == 404
    assert world.open_tasks("C-1", "placement_move") == []


def test_starting_a_move_without_the_csrf_token_is_refused(client: FlaskClient, world: World) -> None:
    login(client, "sw")
    assert client.post("/children/C-1/moves").status_code == 400
    assert world.open_tasks("C-1", "placement_move") == []


def test_the_children_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    response = client.get("/children/C-1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_pep_due_by_the_end_of_a_day_shows_that_day_not_the_next_on_the_inbox_and_the_record(
    client: FlaskClient, world: World
) -> None:
    from datetime import UTC, datetime

    from casework.records import Child, Pep

    with world.session() as session:
        [pep] = session.scalars(select(Pep).join(Child, Child.id == Pep.child_id).where(Child.ref == "C-1")).all()
        # looked after from Friday 20 November: 10 working days is Friday 4 December, overdue from midnight
        assert pep.due_at is not None and pep.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 5, tzinfo=UTC)
    login(client, "sw")
    for page in (client.get("/").text, client.get("/children/C-1").text):
        assert "4 December 2026" in page
        assert "5 December 2026" not in page


def test_the_inbox_and_the_task_page_name_the_child_beside_their_reference(client: FlaskClient, world: World) -> None:
    task = world.task("C-1", "social_worker_contribution")
    login(client, "sw")
    inbox = client.get("/").text
    assert "Ethan Walsh" in inbox and "C-1" in inbox
    assert "Ethan Walsh (C-1)" in client.get(f"/tasks/{task.id}").text


def test_a_pep_form_asks_about_the_childs_education_before_sen_screening_and_actions(
    client: FlaskClient, world: World
) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    login(client, "dt100001")
    page = client.get(f"/tasks/{task.id}").text
    positions = [page.index(f'name="{name}"') for name in
                 ("school_name", "targets", "suspected_unidentified_sen", "actions-0-description")]
    assert positions == sorted(positions)
    assert "Your answers from last time" not in page


def test_a_pep_returned_by_the_vsh_comes_back_to_the_teacher_with_their_last_answers_filled_in(
    client: FlaskClient, world: World
) -> None:
    submit_initial_pep(world, {"rag": "red", "return_reason": "Targets are not SMART."})
    task = world.task("C-1", "complete_pep_school_age")
    login(client, "dt100001")
    page = client.get(f"/tasks/{task.id}").text
    assert "Your answers from last time are filled in" in page
    assert 'name="school_name" type="text" value="Riverside Primary"' in page
    assert 'name="attendance_percent"' in page and 'value="91.5"' in page
    assert 'name="pupil_premium_plus_spend"' in page and 'value="300"' in page
    assert ">Times tables to 12.</textarea>" in page
    assert 'name="sen_support_status" type="radio" value="none" checked' in page
    assert ">Book a maths tutor</textarea>" in page and 'value="Ms Patel"' in page
    for part, value in (("day", "10"), ("month", "2"), ("year", "2027")):
        assert f'name="actions-0-due_date-{part}" type="text" inputmode="numeric" value="{value}"' in page
    # sent back as shown, with only the targets changed, it is accepted
    form = {"csrf_token": csrf_token(page), "school_name": "Riverside Primary", "school_year_group": "5",
            "meeting_date-day": "30", "meeting_date-month": "11", "meeting_date-year": "2026",
            "attendance_percent": "91.5", "exclusions_this_term": "0",
            "attainment_summary": "Working towards in maths.", "sen_support_status": "none",
            "pupil_premium_plus_spend": "300", "pupil_premium_plus_purpose": "Maths tutoring.",
            "targets": "Times tables to 12 by 1 March.", "suspected_unidentified_sen": "no",
            "actions-0-description": "Book a maths tutor", "actions-0-owner": "Ms Patel",
            "actions-0-due_date-day": "10", "actions-0-due_date-month": "2", "actions-0-due_date-year": "2027"}
    assert client.post(f"/tasks/{task.id}", data=form).status_code == 302
    assert world.task("C-1", "quality_assure_pep").element_id == "quality_assure_pep"


def test_more_than_a_page_of_children_is_paged_by_surname_with_previous_and_next_links(
    client: FlaskClient, world: World, clock: FrozenClock,
) -> None:
    with world.session() as session:
        for n in range(30):
            add_child(session, clock, ref=f"C-5{n:02d}", first_name="Sam", last_name=f"Zed{n:02d}")
        add_child(session, clock, ref="C-900", first_name="Far", last_name="Away", la_code="936")
    login(client, "vsh")
    first = client.get("/children").text
    assert "Showing 1 to 25 of 33 children you can see." in first
    assert "Leo Brown" in first and "Zed21" in first and "Zed22" not in first  # Brown, Khan, Walsh, Zed00...
    assert 'href="/children?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/children?page=2").text
    assert "Showing 26 to 33 of 33" in second and "Zed22" in second and "Zed29" in second
    assert "Ethan Walsh" not in second and "Far Away" not in second
    assert 'href="/children?page=1" rel="prev"' in second and 'rel="next"' not in second
    assert "There are no more children" in client.get("/children?page=3").text
    refused = client.get("/children?page=two")
    assert refused.status_code == 400 and "page: must be a whole number from 1 to 2000" in refused.text
