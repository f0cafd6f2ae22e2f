"""The task page says who a task is with in plain words: nobody yet, you, or who completed it and when."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from engine.models import HumanTask

from .support import GOOD_MOVE, login, post_form


def _task(app: Flask, task_id: str) -> HumanTask:
    with app.extensions["vsw"].sessions() as session:
        task: HumanTask | None = session.get(HumanTask, task_id)
        assert task is not None
        return task


def test_an_open_task_nobody_has_taken_reads_not_assigned_to_anyone_yet(client: FlaskClient, first_task_id: str) -> None:
    login(client, "sam")
    page = client.get(f"/tasks/{first_task_id}").text
    assert "Not assigned to anyone yet" in page and "Nobody yet" not in page


def test_a_completed_task_shows_who_completed_it_and_when_without_an_assignee(
    app: Flask, client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    assert post_form(client, url, url, GOOD_MOVE).status_code == 302
    done = _task(app, first_task_id)
    assert done.completed_at is not None
    reader = app.test_client()
    login(reader, "val")  # someone else reads it
    page = reader.get(url).text
    assert "Completed by</dt>" in page and f"sam on {done.completed_at.day} " in page
    assert "Assigned to" not in page and "Nobody yet" not in page and "This task is completed by" not in page
    assert "This task has been completed." in page
    assert "You on " in client.get(url).text
