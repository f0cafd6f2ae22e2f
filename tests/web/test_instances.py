"""The instance page and its diagram over the casework world, driven through the real processes: the
history worded for people (labels, dates, choices, Yes/No; no data names, no dicts), where the case is
now (open tasks with their holders, timers with their due dates, messages waited for), the diagram's
JSON (the flows taken, holders, timers, message waits), need to know on both, and a process version
just deployed from a modeler, with and without diagram layout."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from casework.users import User
from engine.models import HumanTask, ProcessInstance, TimerRow
from engine.service import WorkflowService
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
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
    # overdue from midnight on 5 December: due by the 4th, the last day, as the task says (docs/processes.md)
    assert before is not None and [(t["id"], t["due"]) for t in before["timers"]] == [("pep_due", "4 December 2026")]
    assert [t["due"] for t in before["current"]] == ["4 December 2026"] * 3
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


# -- the flow taken, holders, message waits (the diagram's JSON and the words on the page) -----------------

COUNCIL_BPMN = Path(__file__).parent / "bpmn" / "council_review.bpmn"
GATEWAY_BPMN = Path(__file__).resolve().parents[1] / "engine" / "bpmn" / "gateway.bpmn"
STAY = {"discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": "Stay at Riverside.", "outcome": "stay_at_current_school"}


def diagram_of(app: Flask, username: str, instance_id: int) -> dict[str, Any]:
    answer = client_for(app, username).get(f"/instances/{instance_id}/diagram.json")
    assert answer.status_code == 200, answer.status_code
    assert isinstance(answer.json, dict)
    return answer.json


def where_now(html: str) -> str:
    return html[html.index('id="where-now"'):html.index("<caption")]


def test_the_diagram_json_marks_the_flows_a_planned_move_took_and_not_the_emergency_way_round(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    world.complete("C-1", "discuss_school_choice", STAY, "sw")
    body = diagram_of(app, "sw", move)
    flows = set(body["flows"])
    for taken in ("flow_to_propose_move", "flow_to_arrange_move", "flow_to_emergency_route", "flow_planned_move",
                  "flow_split_to_care", "flow_split_to_education", "flow_to_discuss_school_choice",
                  "flow_to_record_school_choice", "flow_stay_at_current_school", "flow_education_planned"):
        assert taken in flows, taken
    # the emergency way reaches the same tasks: the BPMN alone cannot tell, the instance's own record can
    for not_taken in ("flow_emergency_care_first", "flow_care_emergency", "flow_to_care_route",
                      "flow_change_school", "flow_to_record_arranged_at"):
        assert not_taken not in flows, not_taken
    assert {"move_needed", "emergency_route", "arrangements_split", "school_choice"} <= set(body["through"])
    assert "care_route" not in body["through"] and "arrangements_join" not in body["through"]


def test_each_open_task_says_who_holds_it_in_the_json_and_on_the_page(app: Flask, world: World) -> None:
    move = propose_move(world)
    task = world.task("C-1", "confirm_care_placement")
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["sw"])
        session.execute(update(User).where(User.username == "sw").values(display_name="Sam Social"))
        other = world.task("C-1", "discuss_school_choice")
        session.execute(update(HumanTask).where(HumanTask.id == other.id).values(assignee="agency.worker"))
    body = diagram_of(app, "sw", move)
    current = {t["id"]: t for t in body["current"]}
    assert current["confirm_care_placement"] == {
        "id": "confirm_care_placement", "name": "Confirm the new care placement", "task_id": task.id,
        "role": "Social worker", "holder": "Sam Social", "due": None, "due_at": None, "href": f"/tasks/{task.id}"}
    held = current["discuss_school_choice"]
    assert held["holder"] == "agency.worker"  # nobody of that name in the directory: the username
    assert (held["due"], held["due_at"]) == ("14 January 2027", "2027-01-14T09:00:00+00:00")
    with world.session() as session:
        session.execute(update(HumanTask).where(HumanTask.id == other.id).values(assignee=None))
    assert {t["id"]: t["holder"] for t in diagram_of(app, "sw", move)["current"]}["discuss_school_choice"] == \
        "Unassigned"
    words = where_now(client_for(app, "sw").get(f"/instances/{move}").text)
    assert "Confirm the new care placement</a> – Social worker, held by Sam Social</li>" in words
    assert "Discuss the school choice with the designated teacher</a> – Social worker, unassigned, due " \
        "14 January 2027</li>" in words


def test_the_move_waits_for_a_cancellation_message_while_it_is_arranged_in_the_json_and_in_words(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    assert diagram_of(app, "sw", move)["messages"] == [
        {"id": "placement_cancelled", "name": "Placement cancelled", "message": "placement_cancelled",
         "boundary": True, "since": "1 December 2026", "since_at": "2026-12-01T09:00:00+00:00"}]
    words = where_now(client_for(app, "sw").get(f"/instances/{move}").text)
    assert "<li>Placement cancelled, if it comes while the step it belongs to is open (waiting since " \
        "1 December 2026)</li>" in words
    assert "Not waiting for a message." not in words


def test_a_designated_teacher_gets_no_care_step_its_holder_its_flows_or_the_cancellation_wait(
    app: Flask, world: World
) -> None:
    move = propose_move(world)
    with world.session() as session:
        task = world.task("C-1", "confirm_care_placement")
        WorkflowService(session, world.clock, world.runtime).claim(task.id, world.actors["sw"])
    body = diagram_of(app, "dt100001", move)
    assert [t["id"] for t in body["current"]] == ["discuss_school_choice"]
    assert body["messages"] == [] and body["completed"] == []
    assert not {"flow_to_propose_move", "flow_to_arrange_move", "flow_split_to_care", "flow_planned_move",
                "flow_to_emergency_route"} & set(body["flows"])  # a planned move: the care side's choice
    assert "Sw" not in str(body["current"])  # the care task's holder is not named
    html = client_for(app, "dt100001").get(f"/instances/{move}").text
    words = where_now(html)
    assert "Confirm the new care placement" not in words and "Placement cancelled" not in words
    assert "Not waiting for a message." in words


def deploy_council_review(app: Flask, text: str, name: str = "council_review.bpmn") -> None:
    """Deploy a file the way an administrator does, with the upload on the settings page."""
    client = client_for(app, "admin")
    token = csrf_token(client.get("/admin/settings/processes").text)
    done = client.post("/admin/settings/processes", data={"csrf_token": token, "file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")
    assert done.status_code == 302, done.text


def start_council_review(world: World) -> int:
    with world.session() as session:
        return int(WorkflowService(session, world.clock, world.runtime).start(
            "council_review", "C-1", {}, world.actors["vsh"]).id)


def test_a_version_just_deployed_from_a_modeler_draws_its_task_timer_and_message_wait_and_its_path(
    app: Flask, world: World
) -> None:
    modelled = COUNCIL_BPMN.read_text(encoding="utf-8")
    deploy_council_review(app, modelled)
    review = start_council_review(world)
    body = diagram_of(app, "vsh", review)
    assert (body["process_id"], body["version"], body["drawn"], body["xml"]) == ("council_review", 1, True, modelled)
    assert [(t["id"], t["holder"], t["role"]) for t in body["current"]] == [
        ("review_case", "Unassigned", "Virtual school head (VSH)")]
    assert [(t["id"], t["due"]) for t in body["timers"]] == [("review_due", "8 December 2026")]
    assert [(m["id"], m["name"], m["message"], m["boundary"]) for m in body["messages"]] == [
        ("school_reply", "School's reply", "school_reply", False)]
    assert body["flows"] == ["flow_to_both", "flow_to_review", "flow_to_reply"]
    assert body["through"] == ["review_started", "both_at_once"]
    words = where_now(client_for(app, "vsh").get(f"/instances/{review}").text)
    assert "<li>School&#39;s reply (waiting since 1 December 2026)</li>" in words
    assert "<li>Review due, due 8 December 2026</li>" in words

    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).send_message(review, "school_reply", {}, world.actors["vsh"])
    replied = diagram_of(app, "vsh", review)
    assert replied["messages"] == [] and replied["completed"] == ["school_reply"]
    assert "flow_replied" in replied["flows"]  # the reply waits at the join for the review
    world.complete("C-1", "review_case", {}, "vsh")
    done = diagram_of(app, "vsh", review)
    assert done["status"] == "completed" and done["current"] == [] and done["timers"] == []
    assert done["completed"] == ["review_case", "school_reply"]
    assert done["flows"] == ["flow_to_both", "flow_to_review", "flow_to_reply", "flow_reviewed", "flow_replied",
                             "flow_to_finished"]
    assert done["through"] == ["review_started", "both_at_once", "both_done", "review_finished"]


def test_each_instance_draws_its_own_version_and_a_version_without_layout_says_it_has_no_drawing(
    app: Flask, world: World
) -> None:
    modelled = COUNCIL_BPMN.read_text(encoding="utf-8")
    deploy_council_review(app, modelled)
    first = start_council_review(world)
    bare = re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", modelled, flags=re.S)
    deploy_council_review(app, bare.replace('name="Review the case"', 'name="Review the case again"'),
                          "council_review_v2.bpmn")
    second = start_council_review(world)
    old, new = diagram_of(app, "vsh", first), diagram_of(app, "vsh", second)
    assert (old["version"], old["drawn"], old["xml"]) == (1, True, modelled)
    assert (new["version"], new["drawn"]) == (2, False) and "BPMNDiagram" not in new["xml"]
    assert [t["name"] for t in new["current"]] == ["Review the case again"]
    assert new["flows"] == ["flow_to_both", "flow_to_review", "flow_to_reply"]  # the path needs no drawing
    client = client_for(app, "vsh")
    page = client.get(f"/instances/{second}").text
    assert ("Version 2 of the council case review has no drawing: its file (council_review_v2.bpmn) was "
            "deployed without diagram layout.") in page
    assert "data-diagram-url" not in page and "diagram.js" not in page
    assert "<dd class=\"govuk-summary-list__value\">Council case review, version 2</dd>" in page
    drawn = client.get(f"/instances/{first}").text
    assert "has no drawing" not in drawn and f'data-diagram-url="/instances/{first}/diagram.json"' in drawn


def test_after_an_event_based_gateway_only_the_way_of_the_event_that_came_is_taken_and_the_message_is_done(
    app: Flask, world: World
) -> None:
    with world.session() as session:
        service = WorkflowService(session, world.clock, world.runtime)
        service.deploy_file(GATEWAY_BPMN)
        reply = service.start("gateway", "C-1", {}, world.actors["sw"]).id
    world.complete("C-1", "ask", {}, "sw")
    waiting = diagram_of(app, "sw", reply)
    assert waiting["flows"] == ["f1", "f2"]  # the gateway waits for a reply or three days' silence
    assert [(m["id"], m["message"]) for m in waiting["messages"]] == [("reply_or_silence", "school_replied")]
    assert [(t["id"], t["due"]) for t in waiting["timers"]] == [("reply_or_silence", "4 December 2026")]
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).send_message(
            reply, "school_replied", {"place": True}, world.actors["sw"])
    replied = diagram_of(app, "sw", reply)
    assert replied["flows"] == ["f1", "f2", "f4", "f6"]  # not f3 to the timer it did not wait out
    assert replied["completed"] == ["ask", "replied"] and "reply_or_silence" in replied["through"]
    assert replied["messages"] == [] and replied["timers"] == []


def test_a_case_whose_stored_state_cannot_be_read_still_gets_its_diagram_with_the_flows_from_the_bpmn_alone(
    app: Flask, world: World
) -> None:
    deploy_council_review(app, COUNCIL_BPMN.read_text(encoding="utf-8"))
    review = start_council_review(world)
    with world.session() as session:
        session.execute(update(ProcessInstance).where(ProcessInstance.id == review).values(state="{not json"))
    body = diagram_of(app, "vsh", review)
    assert body["flows"] == ["flow_to_both", "flow_to_review", "flow_to_reply"]
    assert [t["id"] for t in body["current"]] == ["review_case"]
