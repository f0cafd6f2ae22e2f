"""The child's timeline page and the newest entries on the child's record (web/timeline.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casework.records import Pep
from engine.clock import FrozenClock
from engine.service import WorkflowService
from tests.casework.world import World

from . import case_fixtures
from .case_world import PASSWORD
from .support import login as sign_in

world = case_fixtures.world
app = case_fixtures.app
SCHOOLS = ("100002", "100003")


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username, PASSWORD).status_code == 302
    return client


def school_changes(world: World, count: int, schools: tuple[str, ...] = SCHOOLS) -> None:
    """Ethan changes school ``count`` times, an hour apart from 2 December (each a timeline entry)."""
    assert isinstance(world.clock, FrozenClock)
    start = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    for hour in range(count):
        world.clock.set(start + timedelta(hours=hour))
        with world.casework() as casework:
            casework.children.change_school("C-1", schools[hour % len(schools)], "admissions")


def entries(html: str) -> list[str]:
    found = re.search(r'<ol class="govuk-list vsw-timeline" id="timeline"[^>]*>(.*?)</ol>', html, re.S)
    assert found, "no timeline on the page"
    return re.findall(r'data-kind="([a-z]+)"', found.group(1))


def test_the_timeline_lists_the_childs_processes_pep_and_placements_newest_first_with_links(
    app: Flask, world: World
) -> None:
    with world.casework() as casework:
        world.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
        move = casework.start_move("C-1", world.actors["sw"]).id
    with world.session() as session:
        pep = session.scalars(select(Pep.id)).one()
    page = client_for(app, "sw").get("/children/C-1/timeline")
    assert page.status_code == 200
    assert entries(page.text) == ["process", "pep", "placement", "placement"]
    assert f'href="/instances/{move}">Care placement move</a>' in page.text
    assert f'href="/peps/{pep}">Initial PEP 2026/27</a>' in page.text
    assert "Foster care" in page.text and "With Mr and Mrs Ahmed." in page.text
    assert "<h1 class=\"govuk-heading-l\">Timeline</h1>" in page.text


def test_the_record_shows_the_newest_ten_and_the_full_timeline_is_paged(app: Flask, world: World) -> None:
    school_changes(world, 25)  # 25 changes, the PEP and two placements: 28 entries
    client = client_for(app, "sw")
    record = client.get("/children/C-1").text
    assert entries(record) == ["school"] * 10
    assert 'href="/children/C-1/timeline">Full timeline' in record
    first = client.get("/children/C-1/timeline").text
    second = client.get("/children/C-1/timeline?page=2").text
    assert entries(first) == ["school"] * 25 and 'href="/children/C-1/timeline?page=2" rel="next"' in first
    assert entries(second) == ["pep", "placement", "placement"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "Now St Anne&#39;s VA High (URN 100002) (from Hillcrest Academy (URN 100003))" in first
    assert client.get("/children/C-1/timeline?page=0").status_code == 400


def test_the_timeline_hides_what_the_reader_need_not_know_and_is_404_to_a_stranger(
    app: Flask, world: World
) -> None:
    school_changes(world, 2, ("100003", "100001"))  # away and back to the teacher's school
    teacher = client_for(app, "dt100001").get("/children/C-1/timeline")
    assert teacher.status_code == 200
    assert entries(teacher.text) == ["school", "school", "pep"]  # no placements: the care side
    admissions = client_for(app, "admissions").get("/children/C-1/timeline")
    assert admissions.status_code == 200 and entries(admissions.text) == ["school", "school"]
    for stranger in ("other_sw", "dt100002"):
        client = client_for(app, stranger)
        assert client.get("/children/C-1/timeline").status_code == 404
        assert client.get("/children/NOBODY/timeline").status_code == 404
    admin = client_for(app, "admin").get("/children/C-1/timeline")  # reaches the record, reads none of it
    assert admin.status_code == 200 and "Nothing on the timeline yet." in admin.text


def test_a_cancelled_move_says_on_the_timeline_that_it_was_cancelled_and_why(app: Flask, world: World) -> None:
    with world.casework() as casework:
        world.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
        move = casework.start_move("C-1", world.actors["sw"]).id
    with world.session() as session:
        WorkflowService(session, world.clock, world.runtime).cancel(move, world.actors["manager"],
                                                                    "The carers withdrew their offer")
    page = client_for(app, "sw").get("/children/C-1/timeline").text
    entry = page[page.index(f'href="/instances/{move}"'):]
    entry = entry[:entry.index("</li>")]
    assert "Cancelled</strong>" in entry
    assert "Started 2 December 2026, ended 2 December 2026. Cancelled: The carers withdrew their offer" in entry
