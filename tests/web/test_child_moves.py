"""A child's record lists their placement moves and admission directions, finished ones too, as far
as the reader may read them; role names and item labels read properly."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.access import CaseAccess
from casework.need_to_know import NeedToKnow
from casework.users import ROLES
from engine.models import ProcessInstance
from engine.runtime import Actor
from engine.service import WorkflowService
from tests.casework.world import World
from web.filters import ROLE_NAMES, role_name

from . import case_fixtures
from .case_world import PASSWORD
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app
SW = Actor("sw", frozenset({"social_worker"}))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str) -> None:
    assert sign_in(client, username, PASSWORD).status_code == 302


def finished_moves(world: World, count: int) -> list[int]:
    """``count`` placement moves of C-1, each started a day after the last and cancelled: their ids."""
    ids = []
    for _ in range(count):
        with world.casework() as casework:
            instance = casework.start_move("C-1", SW)
            WorkflowService(casework.session, world.clock, world.runtime).cancel(instance.id, SW, "Carers stayed")
            ids.append(instance.id)
        world.clock.advance(timedelta(days=1))
    return ids


def listed(page: str) -> list[int]:
    if 'id="moves-and-directions"' not in page:
        return []
    section = page.split('id="moves-and-directions"', 1)[1].split("</ul>", 1)[0]
    return [int(i) for i in re.findall(r'href="/instances/(\d+)"', section)]


def test_the_child_page_links_to_a_finished_placement_move_with_its_status_and_dates(
    client: FlaskClient, world: World
) -> None:
    [move] = finished_moves(world, 1)
    login(client, "sw")
    page = client.get("/children/C-1").text
    assert "Moves and directions" in page and listed(page) == [move]
    assert "Placement move</a>" in page and "Cancelled, started" in page and ", ended" in page
    assert "A placement move is in progress" not in page


def test_the_child_page_lists_the_ten_newest_moves_newest_first_and_says_how_many_there_are(
    client: FlaskClient, world: World
) -> None:
    ids = finished_moves(world, 11)
    login(client, "vsh")
    page = client.get("/children/C-1").text
    assert listed(page) == list(reversed(ids))[:10]
    assert "Showing the 10 newest of 11." in page


def test_the_moves_listed_follow_the_readers_need_to_know(app: Flask, world: World) -> None:
    [move] = finished_moves(world, 1)
    for username, roles in (("sw", {"social_worker"}), ("dt100001", {"designated_teacher"}),
                            ("send", {"sen_officer"})):
        with world.session() as session:
            scope = CaseAccess().scope(session, Actor(username, frozenset(roles)))
            instance = session.get(ProcessInstance, move)
            assert instance is not None
            may_read = NeedToKnow(session, scope).may_read_instance(instance)
        fresh = app.test_client()
        login(fresh, username)
        page = fresh.get("/children/C-1")
        assert page.status_code == 200
        assert listed(page.text) == ([move] if may_read else []), username
    assert not may_read  # the SEN officer reads neither care nor school places: they see no move at all


def test_the_users_page_names_roles_properly_not_dcs(client: FlaskClient, world: World) -> None:
    login(client, "admin")
    page = client.get("/admin/users").text
    assert "Director of children&#39;s services (DCS)" in page and "Virtual school head (VSH)" in page
    assert '<td class="govuk-table__cell">dcs</td>' not in page


def test_every_role_has_a_proper_name_so_no_page_shows_dcs_or_vsh_made_from_its_id() -> None:
    assert set(ROLE_NAMES) == ROLES
    assert role_name("dcs") == "Director of children's services (DCS)"
    assert role_name("iro") == "Independent reviewing officer (IRO)" and role_name("sen_officer") == "SEN officer"


def test_the_pep_actions_hint_says_an_action_not_a_action(client: FlaskClient, world: World) -> None:
    task = world.task("C-1", "complete_pep_school_age")
    login(client, "dt100001")
    page = client.get(f"/tasks/{task.id}").text
    assert "Leave an action blank if you do not need it." in page and "a action" not in page
