"""The instance page and its diagram over the casework world, driven through the real processes: the
history worded for people (labels, dates, choices, Yes/No; no data names, no dicts), where the case is
now (open tasks, timers with their due dates), the diagram's JSON, and need to know on both."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import ProcessInstance, TimerRow
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app

WISHES = "Wants to live near his school."
PROPOSAL = {"reason": "carer_request", "reason_detail": "The carers are retiring.",
            "planned_move_date": "2027-01-15", "emergency": False, "childs_wishes": WISHES}


def propose_move(world: World, **answers: Any) -> int:
    """Ethan's placement move, started and proposed by his social worker; its instance id."""
    with world.casework() as casework:
        instance_id = casework.start_move("C-1", world.actors["sw"]).id
    world.complete("C-1", "propose_move", {**PROPOSAL, **answers}, "sw")
    return instance_id


def pep_instance(world: World) -> int:
    with world.session() as session:
        found = session.scalars(select(ProcessInstance.id).where(ProcessInstance.process_id == "pep_review")).one()
        return int(found)


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username, PASSWORD).status_code == 302
    return client


def history(html: str) -> str:
    return html[html.index("<caption"):html.index("</table>")]


def test_the_history_shows_each_answer_by_its_forms_label_and_value_never_a_data_name_or_a_dict(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    html = client_for(app, "sw").get(f"/instances/{move}").text
    table = history(html)
    assert ">Process started<" in table and ">Task completed<" in table
    assert 'data-element="propose_move">Propose the placement move</td>' in table  # the task by its name
    for label, value in [("Reason for the move", "Carer asked for the child to move"),
                         ("Planned move date", "15 January 2027"), ("This is an emergency move", "No"),
                         ("The child&#39;s wishes and feelings", WISHES), ("Date of birth", "14 March 2016"),
                         ("Placement when the process started", "Foster care"), ("Legal status", "Full care order")]:
        assert re.search(f">{label}</dt><dd[^>]*>{value}", table), (label, value)
    for raw in ("carer_request", "planned_move_date", "2027-01-15", "child_ref", "foster_care", "{&#39;",
                "lane_roles", "school_place_limit_school_days", "False"):
        assert raw not in table, raw
    assert "<h1 class=\"govuk-heading-l\">Care placement move</h1>" in html


def test_the_page_says_where_the_case_is_now_the_open_tasks_and_each_timer_with_its_due_day(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    html = client_for(app, "sw").get(f"/instances/{move}").text
    where = html[html.index("Where the case is now"):html.index("</figure>")]
    assert "Discuss the school choice with the designated teacher</a>" in where
    assert "Confirm the new care placement</a>" in where
    with world.session() as session:
        [timer] = session.scalars(select(TimerRow).where(TimerRow.instance_id == move, TimerRow.state == "waiting"))
    assert timer.element_id == "school_place_deadline"
    assert "<li>School place limit reached, due 14 January 2027</li>" in where
    assert 'data-diagram-url="/instances/' in where and "<script" not in where.replace("</script>", "")


def test_the_diagram_json_has_the_process_the_path_done_the_open_tasks_and_the_timer_due(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    client = client_for(app, "sw")
    proposed = client.get(f"/instances/{move}/diagram.json").json
    assert proposed is not None and [(t["id"], t["due"], t["due_at"]) for t in proposed["timers"]] == [
        ("school_place_deadline", "14 January 2027", "2027-01-14T09:00:00+00:00")]
    world.complete("C-1", "discuss_school_choice", {
        "discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": "Stay at Riverside.", "outcome": "stay_at_current_school"}, "sw")
    answer = client.get(f"/instances/{move}/diagram.json")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.json
    assert body is not None
    assert body["process_id"] == "placement_move" and body["status"] == "running"
    assert body["xml"].lstrip().startswith("<?xml") and 'id="placement_move"' in body["xml"]
    assert body["completed"] == ["propose_move", "discuss_school_choice"]
    current = {t["id"]: t["name"] for t in body["current"]}
    assert current["confirm_care_placement"] == "Confirm the new care placement"
    assert "discuss_school_choice" not in current
    assert body["timers"] == []  # staying at the same school: no school place to find in time


def test_the_diagram_of_a_pep_review_shows_its_timer_waiting_and_a_fired_one_on_the_path(
    app: Flask, world: World
) -> None:
    from datetime import UTC, datetime

    pep = pep_instance(world)
    client = client_for(app, "vsh")
    before = client.get(f"/instances/{pep}/diagram.json").json
    assert before is not None and [(t["id"], t["due"]) for t in before["timers"]] == [("pep_due", "5 December 2026")]
    world.at(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # the PEP is overdue: the timer fires
    client = client_for(app, "vsh")  # a new sign-in: the first session has timed out in six days
    after = client.get(f"/instances/{pep}/diagram.json").json
    assert after is not None and after["timers"] == [] and "pep_due" in after["completed"]
    page = client.get(f"/instances/{pep}").text
    assert ">Time limit reached<" in page and 'data-element="pep_due">PEP due</td>' in page


def test_the_diagram_follows_need_to_know_a_teacher_sees_the_school_side_and_strangers_get_404(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    world.complete("C-1", "discuss_school_choice", {
        "discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": "Stay at Riverside.", "outcome": "stay_at_current_school"}, "sw")
    teacher = client_for(app, "dt100001").get(f"/instances/{move}/diagram.json").json
    assert teacher is not None
    assert teacher["completed"] == ["discuss_school_choice"]  # not the care side: the proposal
    assert "confirm_care_placement" not in {t["id"] for t in teacher["current"]}
    for stranger in ("other_sw", "dt100002"):
        client = client_for(app, stranger)
        assert client.get(f"/instances/{move}/diagram.json").status_code == 404
        assert client.get(f"/instances/{move}").status_code == 404
    assert client_for(app, "sw").get("/instances/424242/diagram.json").status_code == 404
    assert app.test_client().get(f"/instances/{move}/diagram.json").status_code in (302, 401)


def test_the_instance_page_names_the_child_and_links_to_their_record(app: Flask, world: World) -> None:
    move = propose_move(world)
    html = client_for(app, "sw").get(f"/instances/{move}").text
    assert '<span class="govuk-caption-l">Ethan Walsh (C-1)</span>' in html
    assert '<a class="govuk-link" href="/children/C-1">Ethan Walsh</a> (C-1)' in html
