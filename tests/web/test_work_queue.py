"""The task list page (``/``, web/work_queue.py) over HTTP: views as sub-navigation links, filters in the address,
bad input answered 400 with the page and the field named, and what each person may see (docs/work-queues.md).
The data: tests/casework/test_work_queue.py, ``build_queue``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

import web.work_queue
from casework.processes import pep_review, placement_move
from engine.clock import FrozenClock
from tests.casework.test_work_queue import IDS, build_queue
from tests.casework.world import World

from .case_world import PASSWORD, build_app
from .support import login

PEP, MOVE = pep_review.PROCESS_ID, placement_move.PROCESS_ID


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_queue(world)
    return world


@pytest.fixture
def app(db_url: str, clock: FrozenClock, world: World) -> Iterator[Flask]:
    app = build_app(db_url, clock, world)
    yield app
    app.extensions["vsw"].engine.dispose()


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username, PASSWORD)
    return client


def shown(html: str) -> set[str]:
    """The tasks listed (by their names in tests/casework/test_work_queue.py)."""
    names = {f"/tasks/{task_id}": name for name, task_id in IDS.items()}
    return {names[href] for href in re.findall(r'href="(/tasks/[0-9a-f-]{36})"', html) if href in names}


def test_the_list_is_still_the_inbox_at_its_old_address_and_name(app: Flask) -> None:
    with app.test_request_context():
        from flask import url_for

        assert url_for("tasks.inbox") == "/"
    page = signed_in(app, "sw").get("/")
    assert page.status_code == 200 and "<h1 class=\"govuk-heading-l\">Your tasks</h1>" in page.text
    assert shown(page.text) == {"leo_views", "ethan_contribution", "ethan_move"}


def test_the_views_are_sub_navigation_links_and_only_a_manager_is_offered_the_team_view(app: Flask) -> None:
    worker = signed_in(app, "sw").get("/?view=mine").text
    assert 'class="moj-sub-navigation"' in worker
    assert re.search(r'href="/\?view=mine" aria-current="page">Assigned to me<', worker)
    for view in ("unassigned", "overdue"):
        assert f'href="/?view={view}"' in worker
    assert 'href="/"' in worker and "view=team" not in worker
    assert 'href="/?view=team"' in signed_in(app, "manager").get("/").text


def test_each_view_lists_its_own_tasks(app: Flask) -> None:
    sw = signed_in(app, "sw")
    assert shown(sw.get("/?view=mine").text) == {"leo_views"}
    assert shown(sw.get("/?view=unassigned").text) == {"ethan_contribution", "ethan_move"}
    assert shown(sw.get("/?view=overdue").text) == {"leo_views"}
    assert shown(signed_in(app, "manager").get("/?view=team").text) == {
        "ethan_contribution", "ethan_pep", "leo_views", "ethan_move", "leo_rating"}


def test_the_team_view_shows_who_holds_each_task_with_the_child_and_process(app: Flask) -> None:
    page = signed_in(app, "lead").get("/?view=team&child=C-3").text
    assert shown(page) == {"leo_views", "leo_rating"}
    assert ">Sw<" in re.sub(r"\s+", "", page).replace("<td class=\"govuk-table__cell\">", ">")
    assert "Vsh" in page and "Leo Brown" in page and "C-3" in page
    with app.app_context():
        from casework.work_queue import catalogue

        with app.extensions["vsw"].sessions() as session:
            names = catalogue(session, app.extensions["vsw"].runtime).processes
    assert names[PEP] in page


def test_someone_who_is_not_a_manager_is_refused_the_team_view(app: Flask) -> None:
    response = signed_in(app, "vsh").get("/?view=team")
    assert response.status_code == 403 and "for managers" in response.text


def test_filters_and_search_are_in_the_address_and_each_applied_one_can_be_removed(app: Flask) -> None:
    client = signed_in(app, "lead")
    url = (f"/?view=team&q=walsh&process={PEP}&due_from-day=3&due_from-month=12&due_from-year=2026"
           f"&task={pep_review.Step.COMPLETE_PEP_SCHOOL_AGE}")
    page = client.get(url).text
    assert shown(page) == {"ethan_pep"}
    removals = dict(re.findall(r'<a class="moj-filter__tag vsw-wrap" href="([^"]+)"><span class="govuk-visually-hidden">'
                               r"Remove this filter: ([^<]+)</span>", page))
    assert set(removals.values()) == {"Search", "Process", "Task type", "Due from"}
    by_name = {name: parse_qs(urlsplit(href.replace("&amp;", "&")).query) for href, name in removals.items()}
    assert "q" not in by_name["Search"] and by_name["Search"]["due_from"] == ["2026-12-03"]
    assert by_name["Due from"]["view"] == ["team"] and "due_from" not in by_name["Due from"]
    assert "3 December 2026" in page and "“walsh”" in page
    without_task = next(href for href, name in removals.items() if name == "Task type").replace("&amp;", "&")
    assert shown(client.get(without_task).text) == {"ethan_pep", "ethan_contribution"}
    assert 'value="walsh"' in page and 'id="due_from-day" name="due_from-day" type="text" inputmode="numeric" value="3"' in page


def test_filtering_on_the_process_and_due_range_with_iso_dates(app: Flask) -> None:
    client = signed_in(app, "lead")
    assert shown(client.get(f"/?view=team&process={MOVE}").text) == {"amy_no_school", "ethan_move"}
    assert shown(client.get("/?view=team&due_from=2026-12-02&due_to=2026-12-05").text) == {
        "ethan_pep", "amy_contribution", "leo_rating"}


def test_sorting_orders_the_rows(app: Flask) -> None:
    page = signed_in(app, "lead").get("/?view=team&sort=child&order=desc").text
    order = [name for href in re.findall(r'href="(/tasks/[0-9a-f-]{36})"', page)
             for name, task_id in IDS.items() if href == f"/tasks/{task_id}"]
    assert order[:2] == ["ethan_move", "ethan_contribution"] and order[-1] == "leo_views"
    assert "sorted by child (descending)" in page


def test_pages_keep_the_filters(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.work_queue, "PER_PAGE", 2)
    client = signed_in(app, "lead")
    first = client.get(f"/?view=team&process={PEP}").text
    assert f'href="/?view=team&amp;process={PEP}&amp;page=2" rel="next"' in first
    second = client.get(f"/?view=team&process={PEP}&page=2").text
    assert f'href="/?view=team&amp;process={PEP}&amp;page=1" rel="prev"' in second
    assert shown(first).isdisjoint(shown(second)) and len(shown(first) | shown(second)) == 4


@pytest.mark.parametrize(("query", "field", "message"), [
    ("due_from=2026-02-30", "due_from-day", "Due from must be a real date"),
    ("due_from-day=31&due_from-month=2&due_from-year=2026", "due_from-day", "Due from must be a real date"),
    ("due_from=2026-12-10&due_to=2026-12-01", "due_to-day", "Due to must be the same as or after due from"),
    ("view=everything", "view", "View &#39;everything&#39; is not known"),
    ("sort=colour", "sort", "Sort by &#39;colour&#39; is not known"),
    ("process=no_such_process", "process", "There is no process &#39;no_such_process&#39;"),
    ("page=0", "page", "Page must be a whole number from 1 to 2000"),
    ("page=99999", "page", "Page must be a whole number from 1 to 2000"),
])
def test_a_bad_filter_is_400_with_the_page_and_an_error_naming_the_field(
        app: Flask, query: str, field: str, message: str) -> None:
    response = signed_in(app, "lead").get(f"/?{query}")
    assert response.status_code == 400
    page = response.text
    assert "<title>Error: Your tasks" in page and "govuk-error-summary" in page
    assert f'<a href="#{field}">{message}' in page
    assert 'action="/"' in page and "Apply filters" in page  # the page still renders, with its form
    assert shown(page) == set()


def test_a_search_or_filter_never_reveals_a_child_the_reader_may_not_see(app: Flask) -> None:
    sw = signed_in(app, "sw")
    for query in ("q=khan", "q=C-2", "child=C-2", "q=zoe"):
        page = sw.get(f"/?{query}").text
        assert shown(page) == set() and "Amy Khan" not in page and "Zoe" not in page
    teacher = signed_in(app, "dt100001")
    assert shown(teacher.get("/?child=C-3").text) == set()
    lead = signed_in(app, "lead")
    for query in ("view=team&q=walsh", "view=team&q=zoe", "view=team&child=C-9"):
        page = lead.get(f"/?{query}").text
        assert "Zoe" not in page and not shown(page) & {"zoe_contribution", "zoe_no_school"}


def test_a_manager_selects_tasks_in_a_form_sent_to_the_reassign_page(app: Flask) -> None:
    page = signed_in(app, "lead").get("/?view=team&child=C-3").text
    assert '<form method="get" action="/tasks/reassign" novalidate>' in page
    boxes = re.findall(r'<input class="govuk-checkboxes__input" id="select-\d+" name="task" type="checkbox" '
                       r'value="([0-9a-f-]{36})">', page)
    assert set(boxes) == {IDS["leo_views"], IDS["leo_rating"]}
    assert "Select leo_views task for Leo Brown" in page
    assert "Reassign selected tasks" in page and "govuk-checkboxes--small" in page
    worker = signed_in(app, "sw").get("/").text
    assert "/tasks/reassign" not in worker and 'name="task" type="checkbox"' not in worker


def test_tasks_is_another_address_of_the_list(app: Flask) -> None:
    response = signed_in(app, "sw").get("/tasks?view=mine&q=leo")
    assert response.status_code == 302 and response.headers["Location"] == "/?view=mine&q=leo"


def test_a_bad_filter_keeps_the_view_so_correcting_it_stays_in_the_view(app: Flask) -> None:
    page = signed_in(app, "lead").get("/?view=team&due_to=2026-13-01").text
    assert re.search(r'href="/\?view=team" aria-current="page">My team', page)
    assert '<input type="hidden" name="view" value="team">' in page
