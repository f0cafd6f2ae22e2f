"""CSRF: every unsafe request needs the session's token; a task form whose token failed comes back with
what was typed (400, nothing saved), and every other unsafe request keeps the plain 400."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.drafts import TaskDraft
from engine.models import AuditEvent, HumanTask, ProcessInstance
from web.csrf import EXPIRED as PLAIN

from .support import GOOD_MOVE, csrf_token, login, post_form

EXPIRED = "The form had expired, so nothing was saved. Check your answers and save again."
TYPED = {**GOOD_MOVE, "reason": "Carers moving to Leeds, typed before lunch", "year_group": "7"}


def _audit_count(app: Flask) -> int:
    with app.extensions["vsw"].sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _task(app: Flask, task_id: str) -> HumanTask:
    with app.extensions["vsw"].sessions() as session:
        task: HumanTask | None = session.get(HumanTask, task_id)
        assert task is not None
        return task


def test_a_task_form_with_an_expired_token_comes_back_with_what_was_typed_and_nothing_saved(
    app: Flask, client: FlaskClient, started: ProcessInstance, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    good = csrf_token(client.get(url).text)
    before = _audit_count(app)
    response = client.post(url, data={**TYPED, "csrf_token": "from-a-page-left-open-overnight"})
    assert response.status_code == 400
    page = response.text
    assert "govuk-error-summary" in page and EXPIRED in page and "<title>Error: " in page
    assert ">Carers moving to Leeds, typed before lunch</textarea>" in page and 'value="7"' in page
    assert 'value="14"' in page and 'value="maintained" checked' in page
    assert csrf_token(page) == good  # the session's own token: saving again works
    assert _task(app, first_task_id).state == "open" and _audit_count(app) == before
    again = client.post(url, data={**TYPED, "csrf_token": csrf_token(page)})
    assert again.status_code == 302 and _task(app, first_task_id).state == "completed"


def test_a_draft_with_an_expired_token_comes_back_with_what_was_typed_and_saves_no_draft(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    client.get(url)
    response = client.post(f"{url}/draft", data={**TYPED, "csrf_token": ""})
    assert response.status_code == 400 and EXPIRED in response.text
    assert ">Carers moving to Leeds, typed before lunch</textarea>" in response.text
    with app.extensions["vsw"].sessions() as session:
        assert session.get(TaskDraft, first_task_id) is None
    assert _task(app, first_task_id).assignee is None  # not claimed either


def test_an_expired_task_form_is_a_plain_400_when_json_is_asked_for(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = client.post(url, data={**TYPED, "csrf_token": "stale"}, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.is_json and response.json == {"error": PLAIN}


def test_a_task_form_posted_from_another_site_gets_the_plain_400_and_none_of_its_values_back(
    client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        response = client.post(url, data={**TYPED, "csrf_token": "forged"}, headers=headers)
        assert response.status_code == 400, headers
        assert PLAIN in response.text and "typed before lunch" not in response.text


def test_a_task_form_from_this_service_is_recognised_by_its_origin(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    response = client.post(url, data={**TYPED, "csrf_token": "stale"},
                           headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 400 and EXPIRED in response.text


def test_other_unsafe_requests_with_a_bad_token_keep_the_plain_400(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    for action in (f"{url}/claim", f"{url}/unclaim", "/logout"):
        response = client.post(action, data={"csrf_token": "stale"})
        assert response.status_code == 400 and PLAIN in response.text, action
    assert _task(app, first_task_id).assignee is None
    assert client.get("/").status_code == 200  # still signed in


def test_a_signed_out_user_with_an_expired_task_form_is_sent_to_sign_in(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    post_form(client, url, "/logout", {})
    response = client.post(url, data={**TYPED, "csrf_token": "stale"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _task(app, first_task_id).state == "open"


def test_a_good_token_in_the_header_is_accepted_as_in_the_form(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    token = csrf_token(client.get(url).text)
    response = client.post(f"{url}/claim", headers={"X-CSRF-Token": token})
    assert response.status_code == 302
