"""/search/schools, /search/people, /search/authorities: the autocomplete's answers, only what the user may see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import fields
from sqlalchemy import update

from casework.records import School
from casework.users import User
from processes.forms import FORMS
from tests.casework.records_support import add_school, add_user
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import csrf_token
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app


@pytest.fixture
def more_world(world: World) -> World:
    """Besides the case world: a closed school, a school in Leeds, staff of another authority, a leaver."""
    with world.session() as session:
        add_school(session, world.clock, "100009", name="Riverside Infants (closed)")
        session.flush()
        session.execute(update(School).where(School.urn == "100009").values(status="closed"))
        add_school(session, world.clock, "138000", name="Roundhay School", la_code="383")
        session.execute(update(School).where(School.urn == "138000").values(la_name="Leeds", postcode="LS8 2EN"))
        add_user(session, world.clock, "sw_leeds", ["social_worker"], la_code="383")
        add_user(session, world.clock, "dt_leeds", ["designated_teacher"], la_code="383", school_urn="138000")
        add_user(session, world.clock, "sw_gone", ["social_worker"])
        session.execute(update(User).where(User.username == "sw_gone").values(active=False))
    return world


@pytest.fixture
def client(app: Flask, more_world: World) -> FlaskClient:
    return app.test_client()


def found(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.get_json()
    return [item["value"] for item in body["results"]]


def as_user(client: FlaskClient, username: str) -> FlaskClient:
    assert sign_in(client, username, PASSWORD).status_code == 302
    return client


def test_a_school_is_found_by_part_of_its_name_or_the_start_of_its_urn_and_a_closed_one_never(
        client: FlaskClient) -> None:
    as_user(client, "sw")
    assert found(client, "/search/schools?q=rivers") == ["100001"]
    answer = client.get("/search/schools?q=RIVER").get_json()
    assert answer == {"results": [{"value": "100001", "label": "Riverside Primary (100001)"}], "more": False}
    assert found(client, "/search/schools?q=10000") == ["100003", "100004", "100005", "100001", "100002"]
    assert found(client, "/search/schools?q=roundhay") == ["138000"]
    assert found(client, "/search/schools?q=infants") == []
    assert found(client, "/search/schools?q=") == []


def test_at_most_ten_schools_come_back_and_the_answer_says_there_are_more(
        client: FlaskClient, world: World) -> None:
    with world.session() as session:
        for n in range(12):
            add_school(session, world.clock, f"1200{n:02d}", name=f"Oak Tree School {n:02d}")
    as_user(client, "vsh")
    answer = client.get("/search/schools?q=oak tree").get_json()
    assert len(answer["results"]) == 10 and answer["more"] is True
    assert answer["results"][0]["value"] == "120000"


def test_a_designated_teacher_finds_the_authoritys_staff_but_no_other_schools_teacher(client: FlaskClient) -> None:
    as_user(client, "dt100001")
    assert set(found(client, "/search/people?q=dt")) == {"dt100001", "sw_dt"}  # this school's teachers only
    assert set(found(client, "/search/people?q=sw")) == {"sw", "sw_dt", "other_sw"}  # not sw_gone, sw_leeds
    assert found(client, "/search/people?q=dt100002") == []
    assert found(client, "/search/people?q=leeds") == []
    assert found(client, "/search/people?q=vsh") == ["vsh"]


def test_a_social_worker_finds_only_active_staff_of_their_own_authority(client: FlaskClient) -> None:
    as_user(client, "sw")
    teachers = found(client, "/search/people?q=dt")
    assert set(teachers) == {"dt100001", "dt100002", "dt100003", "dt100004", "dt100005", "sw_dt"}
    assert found(client, "/search/people?q=sw_") == ["sw_dt"]  # not sw_gone (left), not sw_leeds (Leeds)
    assert found(client, "/search/people?q=sw&role=designated_teacher") == ["sw_dt"]
    assert found(client, "/search/people?q=Other_Sw&role=social_worker") == ["other_sw"]


def test_another_authoritys_staff_find_only_their_own(client: FlaskClient) -> None:
    as_user(client, "sw_leeds")
    assert set(found(client, "/search/people?q=_")) == {"sw_leeds", "dt_leeds"}
    assert found(client, "/search/people?q=vsh") == []


def test_an_authority_is_found_by_its_name_or_code_from_the_authorities_and_the_schools_register(
        client: FlaskClient) -> None:
    as_user(client, "sw")
    assert client.get("/search/authorities?q=lee").get_json()["results"] == [{"value": "Leeds", "label": "Leeds (383)"}]
    assert found(client, "/search/authorities?q=borough") == ["Test Borough"]
    assert found(client, "/search/authorities?q=383") == ["Leeds"]


def test_signed_out_bad_role_and_too_long_a_query_are_refused(client: FlaskClient) -> None:
    for url in ("/search/schools?q=riv", "/search/people?q=sw", "/search/authorities?q=lee"):
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 401
    as_user(client, "sw")
    assert client.get("/search/people?q=sw&role=wizard").status_code == 400
    assert client.get(f"/search/schools?q={'a' * 101}").status_code == 400
    assert found(client, "/search/schools?q=100%25") == []  # a LIKE wildcard is matched as itself


def _text_fields(schema: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, f in schema.fields.items():
        inner = getattr(getattr(f, "inner", None), "schema", None)
        if inner is not None:
            yield from _text_fields(inner, f"{prefix}{name}.")
        elif isinstance(f, fields.String):
            yield prefix + name, f


def test_every_process_form_field_naming_a_school_a_user_or_an_authority_is_offered_as_a_choice() -> None:
    wanted = {"_urn": "schools", "owner_user": "people", "area_authority": "authorities"}
    marked: dict[str, str] = {}
    for process, tasks in FORMS.items():
        for task, schema_class in tasks.items():
            for name, f in _text_fields(schema_class()):
                kind = next((k for ending, k in wanted.items() if name.endswith(ending)), None)
                if kind is not None:
                    assert (f.metadata or {}).get("autocomplete") == kind, f"{process}.{task}.{name}"
                    marked[f"{task}.{name}"] = kind
    assert {"apply_for_school_place.school_urn", "choose_another_school.school_urn",
            "escalate_no_school_place.direction_school_urn"} <= set(marked)


def test_a_marked_field_is_a_text_box_the_script_enhances_and_the_typed_urn_still_works(
        client: FlaskClient, world: World) -> None:
    with world.casework() as casework:
        casework.start_move("C-1", world.actors["sw"])
    world.complete("C-1", "propose_move", {
        "reason": "carer_request", "reason_detail": "Carers moving", "planned_move_date": "2027-01-15",
        "emergency": False, "childs_wishes": "To stay near friends"}, "sw")
    world.complete("C-1", "discuss_school_choice", {
        "discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": "A school near the new home", "outcome": "change_school"}, "sw")
    task = world.task("C-1", "apply_for_school_place").id
    page = as_user(client, "sw").get(f"/tasks/{task}").text
    field = re.search(r'<input [^>]*id="school_urn"[^>]*>', page)
    assert field and 'name="school_urn" type="text"' in field.group(0)
    assert 'data-autocomplete="schools" data-autocomplete-url="/search/schools"' in field.group(0)
    assert page.count('<script type="module" src="/static/js/autocomplete.js"></script>') == 1  # the layout's, once
    done = client.post(f"/tasks/{task}", data={"csrf_token": csrf_token(page), "school_urn": "100002",
                                               "application_date-day": "30", "application_date-month": "11",
                                               "application_date-year": "2026"})
    assert done.status_code == 302
