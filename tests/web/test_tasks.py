from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from casework.processes.pep_review import Step as PepStep
from casework.records import Child, Pep
from casework.users import UserService
from engine.clock import FrozenClock
from engine.db import unit_of_work
from engine.models import AuditEvent, HumanTask, ProcessInstance
from tests.casework.world import World
from tests.hashing import FAST_HASHER

from .case_world import PASSWORD as CASE_PASSWORD
from .case_world import build_app, build_world
from .support import CHILD, GOOD_MOVE, PASSWORD, csrf_token, login, post_form
from .test_children import submit_initial_pep


def _task(app: Flask, task_id: str) -> HumanTask:
    with app.extensions["vsw"].sessions() as session:
        task: HumanTask | None = session.get(HumanTask, task_id)
        assert task is not None
        return task


def _completed_events(app: Flask, instance_id: int) -> list[AuditEvent]:
    with app.extensions["vsw"].sessions() as session:
        query = select(AuditEvent).where(
            AuditEvent.instance_id == instance_id, AuditEvent.action == "task_completed"
        )
        return list(session.scalars(query))


def test_social_worker_sees_their_task_in_the_inbox(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    page = client.get("/")
    assert page.status_code == 200
    assert "Record the proposed move" in page.text
    assert CHILD in page.text
    assert "Social worker" in page.text
    assert "8 December 2026" in page.text  # 5 working days after Tuesday 1 December
    assert f"/tasks/{first_task_id}" in page.text
    assert 'govuk-tag--red">Overdue' not in page.text  # the tag, not the "Overdue" view's tab


def test_inbox_marks_a_task_overdue_once_its_due_date_has_passed(
    client: FlaskClient, first_task_id: str, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=8))
    login(client, "sam")
    assert 'govuk-tag--red">Overdue' in client.get("/").text


def test_vsh_does_not_see_the_social_workers_task(client: FlaskClient, first_task_id: str) -> None:
    login(client, "val")
    page = client.get("/")
    assert f"/tasks/{first_task_id}" not in page.text  # the step's name is still a task type to filter on
    assert "You have no tasks to do" in page.text


def test_task_page_renders_the_schemas_fields_as_govuk_controls(
    client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    page = client.get(f"/tasks/{first_task_id}").text
    assert '<textarea class="govuk-textarea" id="reason" name="reason"' in page
    assert "Say why the placement is changing" in page  # hint
    for part in ("day", "month", "year"):
        assert f'name="move_date-{part}"' in page
    assert 'name="emergency" type="radio" value="yes"' in page
    assert 'name="emergency" type="radio" value="no"' in page
    assert 'id="year_group" name="year_group" type="text"' in page and 'inputmode="numeric"' in page
    assert 'value="maintained"' in page and "Maintained school" in page and "Academy" in page
    assert "New school (optional)" in page
    assert 'name="csrf_token"' in page


def test_submitting_bad_data_returns_400_with_the_error_summary_and_changes_nothing(
    app: Flask, client: FlaskClient, started: ProcessInstance, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    bad = {**GOOD_MOVE, "reason": "", "move_date-day": "31", "move_date-month": "2", "year_group": "nine"}
    response = post_form(client, url, url, bad)
    assert response.status_code == 400
    page = response.text
    assert "govuk-error-summary" in page and "There is a problem" in page
    assert '<a href="#reason">Enter reason for the move</a>' in page
    assert '<a href="#move_date-day">Date of the move must be a real date</a>' in page
    assert '<a href="#year_group">Year group must be a whole number from 0 to 14</a>' in page
    assert '<p id="reason-error" class="govuk-error-message">' in page
    assert "<title>Error: " in page
    assert 'value="31"' in page and 'value="nine"' in page and 'value="maintained" checked' in page
    assert _task(app, first_task_id).state == "open"
    assert _completed_events(app, started.id) == []


def test_missing_date_part_and_missing_choice_are_named(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    bad = {**GOOD_MOVE, "move_date-month": "", "school_kind": ""}
    response = post_form(client, url, url, bad)
    assert response.status_code == 400
    assert '<a href="#move_date-month">Date of the move must include a month</a>' in response.text
    assert '<a href="#school_kind">Select kind of new school</a>' in response.text


def test_good_data_completes_the_task_and_the_audit_appears_on_the_instance_page(
    app: Flask, client: FlaskClient, started: ProcessInstance, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = post_form(client, url, url, GOOD_MOVE)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    inbox = client.get("/").text
    assert "govuk-notification-banner--success" in inbox
    assert "Record the proposed move" in inbox and "is complete" in inbox
    assert _task(app, first_task_id).state == "completed"
    (event,) = _completed_events(app, started.id)
    assert event.actor == "sam"
    assert (
        event.data is not None
        and event.data["move_date"] == "2026-12-14"
        and event.data["emergency"] is False
    )
    history = client.get(f"/instances/{started.id}")
    assert history.status_code == 200
    assert "Task completed" in history.text and "Carers moving to Leeds" in history.text
    assert "Record the virtual school head&#39;s views" in history.text  # the next open task


def test_user_without_the_lanes_role_gets_403_on_completing(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "val")
    url = f"/tasks/{first_task_id}"
    response = post_form(client, url, url, GOOD_MOVE)
    assert response.status_code == 403
    assert "govuk-heading-l" in response.text and "social_worker" in response.text
    assert _task(app, first_task_id).state == "open"


def test_completing_a_task_you_already_completed_says_so_instead_of_someone_else_got_there_first(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    page = client.get(url)
    token = csrf_token(page.text)
    assert client.post(url, data={**GOOD_MOVE, "csrf_token": token}).status_code == 302
    again = client.post(url, data={**GOOD_MOVE, "csrf_token": token})  # the same form, from another tab
    assert again.status_code == 200
    assert "You have already completed this task" in again.text and "Someone else got there first" not in again.text
    assert 'href="/"' in again.text and "Nothing more was saved" in again.text
    assert len(_completed_events(app, _task(app, first_task_id).instance_id)) == 1


def test_completing_a_task_another_person_completed_is_a_409_page(
    app: Flask, client: FlaskClient, first_task_id: str, clock: FrozenClock
) -> None:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("sue", "Sue Social", "sue@la.example", PASSWORD,
                                                     ["social_worker"], "LA-100")
    login(client, "sue")
    url = f"/tasks/{first_task_id}"
    token = csrf_token(client.get(url).text)
    other = app.test_client()
    login(other, "sam")
    assert post_form(other, url, url, GOOD_MOVE).status_code == 302
    late = client.post(url, data={**GOOD_MOVE, "csrf_token": token})
    assert late.status_code == 409
    assert "Someone else got there first" in late.text and "You have already completed" not in late.text


def test_claim_and_unclaim_assign_the_task_to_me_and_back(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = post_form(client, url, f"{url}/claim", {})
    assert response.status_code == 302
    assert _task(app, first_task_id).assignee == "sam"
    page = client.get(url).text
    assert "Unassign me" in page and "is assigned to you" in page
    post_form(client, url, f"{url}/unclaim", {})
    assert _task(app, first_task_id).assignee is None
    assert "Assign to me" in client.get(url).text


def test_engine_errors_are_json_when_json_is_asked_for(client: FlaskClient, first_task_id: str) -> None:
    login(client, "val")
    url = f"/tasks/{first_task_id}"
    token = csrf_token(client.get(url).text)
    response = client.post(
        url, data={**GOOD_MOVE, "csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 403
    assert response.is_json and response.json is not None and "social_worker" in response.json["error"]


def test_unknown_task_and_instance_are_404_pages(client: FlaskClient) -> None:
    login(client, "sam")
    assert client.get("/tasks/no-such-task").status_code == 404
    response = client.get("/instances/424242", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json == {"error": "No process instance 424242"}


def test_the_next_task_shows_what_has_been_recorded_so_far_with_labels(
    app: Flask, client: FlaskClient, started: ProcessInstance, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, url, GOOD_MOVE)
    with app.extensions["vsw"].sessions() as session:
        [vsh_task] = session.scalars(select(HumanTask).where(HumanTask.state == "open")).all()
    vsh = app.test_client()
    login(vsh, "val")
    page = vsh.get(f"/tasks/{vsh_task.id}").text
    assert "What has been recorded so far" in page
    assert "Carers moving to Leeds" in page and "14 December 2026" in page


def test_the_task_page_shows_recorded_answers_without_loading_the_workflow(
    app: Flask, client: FlaskClient, first_task_id: str,
) -> None:
    login(client, "sam")
    post_form(client, f"/tasks/{first_task_id}", f"/tasks/{first_task_id}", GOOD_MOVE)
    client = app.test_client()
    login(client, "val")
    inbox = client.get("/").text
    vsh_task = inbox[inbox.index("/tasks/"):].split('"')[0]
    statements: list[str] = []
    engine = app.extensions["vsw"].engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get(vsh_task)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert page.status_code == 200
    assert "Carers moving to Leeds" in page.text and "Maintained school" in page.text  # sam's answers
    assert not [s for s in statements if "process_instance.state" in s]


def test_the_inbox_is_paged_soonest_due_first(app: Flask, client: FlaskClient, started: ProcessInstance,
                                             clock: FrozenClock) -> None:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        session.add_all(HumanTask(id=f"00000000-0000-0000-0000-{n:012d}", instance_id=started.id,
                                  process_id=started.process_id, business_key=CHILD, element_id="record_move",
                                  title=f"Extra task {n:02d}", role="social_worker", state="open",
                                  due_at=clock.now() - timedelta(days=40 - n), created_at=clock.now())
                        for n in range(30))
    login(client, "sam")
    first, second = client.get("/").text, client.get("/?page=2").text
    assert "Extra task 00" in first and "Extra task 24" in first and "Extra task 25" not in first
    assert "Extra task 25" in second and "Extra task 29" in second and "Record the proposed move" in second
    assert 'href="/?page=2" rel="next"' in first and 'href="/?page=1" rel="prev"' in second
    assert "There are no more tasks" in client.get("/?page=3").text


def test_an_instances_history_is_paged(app: Flask, client: FlaskClient, first_task_id: str,
                                       started: ProcessInstance) -> None:
    login(client, "sam")
    for _ in range(30):
        post_form(client, f"/tasks/{first_task_id}", f"/tasks/{first_task_id}/claim", {})
        post_form(client, f"/tasks/{first_task_id}", f"/tasks/{first_task_id}/unclaim", {})
    first = client.get(f"/instances/{started.id}").text
    second = client.get(f"/instances/{started.id}?page=2").text
    assert first.count("Task assigned to them") + first.count("Task unassigned") >= 45
    assert f'href="/instances/{started.id}?page=2" rel="next"' in first
    assert "Task unassigned" in second and f'href="/instances/{started.id}?page=1" rel="prev"' in second


# -- drafts ---------------------------------------------------------------------------------------------------
PARTIAL = {"reason": "Carers moving", "move_date-day": "31", "move_date-month": "2", "year_group": "nine",
           "school_kind": "academy"}


def _draft_events(app: Flask) -> list[AuditEvent]:
    with app.extensions["vsw"].sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "draft_saved")))


def test_the_task_form_offers_save_as_draft_next_to_save_and_complete(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    page = client.get(f"/tasks/{first_task_id}").text
    assert f'formaction="/tasks/{first_task_id}/draft">Save as draft</button>' in page
    assert page.index("Save and complete") < page.index("Save as draft")


def test_a_draft_keeps_partial_and_invalid_answers_assigns_the_task_and_completes_nothing(
    app: Flask, client: FlaskClient, started: ProcessInstance, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = post_form(client, url, f"{url}/draft", {**PARTIAL, "not_a_field": "dropped"})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert _task(app, first_task_id).assignee == "sam" and _task(app, first_task_id).state == "open"
    assert _completed_events(app, started.id) == []
    [saved] = _draft_events(app)
    assert saved.actor == "sam" and saved.data is None  # that a draft was saved, never what it says
    page = client.get(url).text
    assert "Your draft of ‘Record the proposed move’ is saved" in page
    assert "Draft saved at 9:00am on 1 December 2026" in page
    assert ">Carers moving</textarea>" in page and 'value="31"' in page and 'value="nine"' in page
    assert 'value="academy" checked' in page
    assert "govuk-error-summary" not in page and "govuk-error-message" not in page


def test_the_draft_is_there_after_signing_out_and_in_again(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, f"{url}/draft", PARTIAL)
    post_form(client, "/", "/logout", {})
    assert client.get(url).status_code == 302
    login(client, "sam")
    page = client.get(url).text
    assert "Draft saved at 9:00am on 1 December 2026" in page and ">Carers moving</textarea>" in page


def test_another_user_does_not_see_the_draft_until_the_task_is_reassigned_to_them(
    app: Flask, client: FlaskClient, first_task_id: str, clock: FrozenClock
) -> None:
    with unit_of_work(app.extensions["vsw"].sessions) as session:
        UserService(session, clock, FAST_HASHER).add("sue", "Sue Social", "sue@la.example", PASSWORD,
                                                     ["social_worker"], "LA-100")
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, f"{url}/draft", PARTIAL)
    sue = app.test_client()
    login(sue, "sue")
    held = sue.get(url).text
    assert "Carers moving" not in held and "Draft saved" not in held and "assigned to sam" in held
    assert post_form(sue, url, f"{url}/draft", PARTIAL).status_code == 403  # held by sam: as completing is
    post_form(client, url, f"{url}/unclaim", {})
    released = sue.get(url).text
    assert "Carers moving" not in released and "Draft saved" not in released
    post_form(sue, url, f"{url}/claim", {})
    mine_now = sue.get(url).text
    assert "Draft saved at 9:00am on 1 December 2026 by sam" in mine_now and ">Carers moving</textarea>" in mine_now


def test_only_someone_who_may_complete_the_task_may_save_a_draft_and_nothing_changes_otherwise(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "val")
    url = f"/tasks/{first_task_id}"
    assert post_form(client, url, f"{url}/draft", PARTIAL).status_code == 403
    token = csrf_token(client.get("/").text)
    assert client.post("/tasks/no-such-task/draft", data={"csrf_token": token}).status_code == 404
    assert client.get(f"{url}/draft").status_code == 405
    assert _task(app, first_task_id).assignee is None and _draft_events(app) == []


def test_an_oversized_draft_is_413_with_a_clear_message_and_nothing_is_saved(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = post_form(client, url, f"{url}/draft", {**PARTIAL, "reason": "x" * 100_001})
    assert response.status_code == 413
    assert "Your draft is too long to save" in response.text and "nothing was saved" in response.text
    assert _task(app, first_task_id).assignee is None and _draft_events(app) == []


def test_completing_the_task_deletes_its_draft(app: Flask, client: FlaskClient, first_task_id: str) -> None:
    from engine.drafts import TaskDraft

    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, f"{url}/draft", PARTIAL)
    page = client.get(url).text
    assert post_form(client, url, url, GOOD_MOVE).status_code == 302
    assert "Draft saved" in page
    with app.extensions["vsw"].sessions() as session:
        assert session.get(TaskDraft, first_task_id) is None


def test_a_completion_that_fails_validation_keeps_the_draft(app: Flask, client: FlaskClient, first_task_id: str) -> None:
    from engine.drafts import TaskDraft

    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, f"{url}/draft", PARTIAL)
    assert post_form(client, url, url, PARTIAL).status_code == 400
    with app.extensions["vsw"].sessions() as session:
        assert session.get(TaskDraft, first_task_id) is not None


# -- the PEP form starts from the records and from last term's PEP -----------------------------------------------
@pytest.fixture
def ethan(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    """The casework world (tests/web/case_world.py): Ethan (C-1, Year 6 at Riverside Primary) has an open PEP."""
    return build_world(factory, clock)


@pytest.fixture
def case_client(db_url: str, clock: FrozenClock, ethan: World) -> Iterator[FlaskClient]:
    app = build_app(db_url, clock, ethan)
    yield app.test_client()
    app.extensions["vsw"].engine.dispose()


def signed_off_pep(world: World, sections: dict[str, object]) -> None:
    with world.session() as session:
        child = session.scalars(select(Child).where(Child.ref == "C-1")).one()
        session.add(Pep(child_id=child.id, kind="termly", academic_year="2025/26", term="summer", stage="school_age",
                        status="complete", sections=json.dumps(sections), created_at=datetime(2026, 5, 1, tzinfo=UTC),
                        completed_at=datetime(2026, 7, 20, 14, 0, tzinfo=UTC)))


def _pep_page(client: FlaskClient, world: World) -> str:
    assert login(client, "dt100001", CASE_PASSWORD).status_code == 302
    return str(client.get(f"/tasks/{world.task('C-1', PepStep.COMPLETE_PEP_SCHOOL_AGE).id}").text)


def test_the_pep_form_starts_with_the_school_and_year_group_from_the_childs_record(
    case_client: FlaskClient, ethan: World
) -> None:
    page = _pep_page(case_client, ethan)
    assert 'name="school_name" type="text" value="Riverside Primary"' in page
    assert 'inputmode="numeric" spellcheck="false" value="6"' in page
    assert "Some answers are filled in from the child's record" in page


def test_the_pep_form_starts_from_last_terms_signed_off_pep_marked_but_not_its_actions(
    case_client: FlaskClient, ethan: World
) -> None:
    signed_off_pep(ethan, {"attainment_summary": "Reading at the expected standard.", "school_year_group": 5,
                           "targets": "Read a chapter book alone."})
    page = _pep_page(case_client, ethan)
    assert ("Started from the summer 2026 PEP, signed off on 20 July 2026: check and update each answer."
            in page)
    assert ">Reading at the expected standard.</textarea>" in page and ">Read a chapter book alone.</textarea>" in page
    assert 'inputmode="numeric" spellcheck="false" value="6"' in page  # today's year group, not last term's
    no_action = 'aria-describedby="actions-0-description-info actions-0-description-hint"></textarea>'
    assert no_action in page  # its actions belong to that PEP: not carried


def test_a_red_return_starts_from_the_teachers_last_answers_before_last_terms_pep(
    case_client: FlaskClient, ethan: World
) -> None:
    signed_off_pep(ethan, {"attainment_summary": "Last term's words."})
    submit_initial_pep(ethan, {"rag": "red", "return_reason": "Targets are not SMART."})
    page = _pep_page(case_client, ethan)
    assert "Your answers from last time are filled in" in page and "Started from" not in page
    assert ">Working towards in maths.</textarea>" in page and "Last term&#39;s words." not in page


def test_the_readers_draft_comes_before_last_terms_pep(case_client: FlaskClient, ethan: World) -> None:
    signed_off_pep(ethan, {"attainment_summary": "Last term's words."})
    url = f"/tasks/{ethan.task('C-1', PepStep.COMPLETE_PEP_SCHOOL_AGE).id}"
    _pep_page(case_client, ethan)
    post_form(case_client, url, f"{url}/draft", {"attainment_summary": "My own words.", "school_name": ""})
    page = case_client.get(url).text
    assert "Draft saved at 9:00am on 1 December 2026" in page and "Started from" not in page
    assert ">My own words.</textarea>" in page and "Last term&#39;s words." not in page
    assert 'name="school_name" type="text" value=""' in page  # cleared in the draft: stays cleared
