"""Need to know, as a matrix generated from the tables (docs/access.md, "Need to know").

One world for the module: Ethan (C-1, ``sw``'s child at Riverside Primary) has a placement move, his
initial PEP with a SEND referral, and an admission by direction, so that there is an open task of every
kind of information, a completed step of every kind whose answers carry a marker, a claimed task, a
fired timer and each process's own entries. Every route that takes a task, an instance or a child
(``ROUTES``; a test fails if a new one is missing) is requested as every role, by a holder who reaches
Ethan and one who does not, for every object the route takes. What each answer must be (its status,
which markers, links and history entries it shows, which actions it offers) is worked out here from
``READERS``, ``READ_AS`` and the reach rule, and compared with what the app serves.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from casework.need_to_know import INSTANCE_READ_AS, READ_AS, READERS, NeedToKnow
from casework.users import ROLES, User
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory
from engine.models import Base, HumanTask, ProcessInstance
from engine.runtime import Actor
from engine.service import WorkflowService
from tests.casework.records_support import add_user
from tests.casework.world import World
from tests.conftest import on_postgres

from .case_world import PASSWORD, build_app, build_world
from .support import csrf_token
from .support import login as sign_in

ROUTES = {
    "tasks.show": "task", "tasks.complete": "open task", "tasks.claim": "open task", "tasks.unclaim": "open task",
    "tasks.draft": "open task", "instances.show": "instance", "children.show": "child", "children.start_move": "child",
    "peps.show": "pep", "peps.pdf": "pep", "imports.new_suspension": "child suspension form",
    "instances.diagram": "instance diagram", "timeline.show": "child timeline", "assign.one": "assign page",
    "operations.instance": "operator's case", "operations.cancel": "operator's cancel",
}
"""Every route that takes a task, an instance or a child -> what it takes."""
CASE_ARGUMENTS = frozenset({"task_id", "instance_id", "ref", "pep_id"})
CHILD = "C-1"
OWN = {"social_worker": "sw", "designated_teacher": "dt100001", "vsh": "vsh", "manager": "manager",
       "nominated_officer": "no", "dcs": "dcs", "admissions_officer": "admissions", "sen_officer": "send",
       "iro": "iro", "admin": "admin"}
"""A holder of each role who reaches Ethan."""
OTHER = {"social_worker": "other_sw", "designated_teacher": "dt100002",
         **{role: f"{role}_936" for role in ROLES - {"social_worker", "designated_teacher"}}}
"""A holder of each role who does not: another child's social worker, another school's teacher, another
authority's staff."""
ACTIONS = ("Save and complete", "Mark as done", "Assign to me", "Unassign me")


def marker(element: str) -> str:
    return f"NTKMARK-{element}"


@dataclass(frozen=True)
class Task:
    id: str
    instance_id: int
    process_id: str
    element_id: str
    title: str
    role: str | None
    state: str
    assignee: str | None
    completed_by: str | None

    @property
    def kind(self) -> str:
        return READ_AS[self.process_id][self.element_id]


@dataclass
class Case:
    app: Flask
    world: World
    tasks: list[Task]
    instances: dict[int, str]
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, username: str) -> FlaskClient:
        if username not in self.clients:
            client = self.app.test_client()
            assert sign_in(client, username, PASSWORD).status_code == 302, username
            self.clients[username] = client
        return self.clients[username]

    def of_instance(self, instance_id: int) -> list[Task]:
        return [t for t in self.tasks if t.instance_id == instance_id]


# -- the rule, written out plainly from the tables --------------------------------------------------
def reads_task(role: str, reaches: bool, username: str, task: Task) -> bool:
    return reaches and (task.role == role or role in READERS[task.kind]
                        or username in (task.assignee, task.completed_by))


def may_act(role: str, reaches: bool, task: Task) -> bool:
    return reaches and task.state == "open" and task.role == role


def reads_element(case: Case, role: str, reaches: bool, username: str, instance_id: int, element: str) -> bool:
    process_id = case.instances[instance_id]
    return reaches and (role in READERS[READ_AS[process_id][element]] or any(
        reads_task(role, reaches, username, t) for t in case.of_instance(instance_id) if t.element_id == element))


def reads_instance(case: Case, role: str, reaches: bool, username: str, instance_id: int) -> bool:
    process_id = case.instances[instance_id]
    kinds = set(READ_AS[process_id].values()) | {INSTANCE_READ_AS[process_id]}
    return reaches and (any(role in READERS[k] for k in kinds)
                        or any(reads_task(role, reaches, username, t) for t in case.of_instance(instance_id)))


# -- the world --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def module_db_url(_database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fresh, migrated database for the whole module (the matrix reads; it never changes the world)."""
    if on_postgres():
        engine = make_engine(_database_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _database_template
    else:
        path = tmp_path_factory.mktemp("need_to_know") / "vsw.db"
        shutil.copyfile(_database_template, path)
        yield f"sqlite:///{path}"


def drive(world: World) -> None:
    """Every kind of information, open and done, for Ethan (see the module's docstring)."""
    from .test_children import SCHOOL_AGE

    with world.session() as session:
        add_user(session, world.clock, "iro", ["iro"])
        for role, username in OTHER.items():
            if role not in ("social_worker", "designated_teacher"):
                add_user(session, world.clock, username, [role], la_code="936")
    with world.casework() as casework:
        casework.start_move(CHILD, world.actors["sw"])
    world.complete(CHILD, "propose_move", {
        "reason": "carer_request", "reason_detail": marker("propose_move"), "planned_move_date": "2027-01-15",
        "emergency": False, "childs_wishes": "Wants to live near his school."}, "sw")
    world.complete(CHILD, "discuss_school_choice", {
        "discussion_with_designated_teacher_held": True, "designated_teacher_name": "Ms Patel",
        "childs_wishes_about_school": marker("discuss_school_choice"), "outcome": "change_school"}, "sw")
    world.complete(CHILD, "complete_pep_school_age", {
        **SCHOOL_AGE, "attainment_summary": marker("complete_pep_school_age"),
        "suspected_unidentified_sen": True, "sen_concern": "Struggles to decode words."}, "dt100001")
    world.complete(CHILD, "social_worker_contribution", {
        "care_plan_context": marker("social_worker_contribution"), "placement_stability": "Moving soon.",
        "carers_support": "Reading every night."}, "sw")
    world.complete(CHILD, "record_childs_views", {"childs_views": marker("record_childs_views")}, "sw")
    world.complete(CHILD, "refer_to_send", {
        "referred_on": "2026-12-01", "referral_summary": marker("refer_to_send")}, "dt100001")
    with world.casework() as casework:
        casework.start_direction(CHILD, "100003", world.actors["manager"])
    held = world.task(CHILD, "confirm_care_placement")
    with world.session() as session:  # a task claimed and let go: two entries of its kind
        service = WorkflowService(session, world.clock, world.runtime)
        service.claim(held.id, world.actors["sw"])
        service.unclaim(held.id, world.actors["sw"])
    world.at(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # the initial PEP's timer fires: a manager's task


def facts(world: World) -> tuple[list[Task], dict[int, str]]:
    with world.session() as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.business_key == CHILD))
        tasks = [Task(t.id, t.instance_id, t.process_id, t.element_id, t.title, t.role, t.state, t.assignee,
                      t.completed_by) for t in rows]
        instances = {i.id: i.process_id for i in session.scalars(
            select(ProcessInstance).where(ProcessInstance.business_key == CHILD))}
    return tasks, instances


@pytest.fixture(scope="module")
def case(module_db_url: str) -> Iterator[Case]:
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    engine = make_engine(module_db_url)
    world = build_world(session_factory(engine), clock)
    drive(world)
    app = build_app(module_db_url, clock, world)
    tasks, instances = facts(world)
    yield Case(app, world, tasks, instances)
    app.extensions["vsw"].engine.dispose()
    engine.dispose()


def test_the_world_has_an_open_task_and_a_marked_answer_of_every_kind(case: Case) -> None:
    open_kinds = {t.kind for t in case.tasks if t.state == "open"}
    done_kinds = {t.kind for t in case.tasks if t.state == "completed"}
    assert open_kinds == done_kinds == set(READERS)
    assert sorted(case.instances.values()) == sorted(READ_AS)


def test_every_route_that_takes_a_task_an_instance_or_a_child_is_in_the_matrix(case: Case) -> None:
    taking = {rule.endpoint for rule in case.app.url_map.iter_rules() if set(rule.arguments) & CASE_ARGUMENTS}
    assert taking == set(ROUTES)
    assert set(OWN) == set(OTHER) == ROLES


# -- the matrix -------------------------------------------------------------------------------------
def check_task_page(case: Case, role: str, reaches: bool, username: str, task: Task, html: str) -> None:
    readable = reads_task(role, reaches, username, task)
    for done in case.of_instance(task.instance_id):
        if done.state == "completed":
            shown = readable and task.state == "open" and reads_element(
                case, role, reaches, username, task.instance_id, done.element_id)
            assert (marker(done.element_id) in html) == shown, (task.element_id, done.element_id)
    others = [t for t in case.tasks if t.instance_id != task.instance_id and t.state == "completed"]
    assert not any(marker(t.element_id) in html for t in others)
    acting = may_act(role, reaches, task)
    assert ("Save and complete" in html or "Mark as done" in html) == acting, task.element_id
    assert ("Assign to me" in html) == (acting and task.assignee is None), task.element_id


def check_instance_page(case: Case, role: str, reaches: bool, username: str, instance_id: int, html: str) -> None:
    process_id = case.instances[instance_id]
    for task in case.of_instance(instance_id):
        if task.state == "completed":
            shown = reads_element(case, role, reaches, username, instance_id, task.element_id)
            assert (marker(task.element_id) in html) == shown, task.element_id
        else:
            assert (f'href="/tasks/{task.id}"' in html) == reads_task(role, reaches, username, task), task.element_id
    own_entries = reaches and role in READERS[INSTANCE_READ_AS[process_id]]
    assert ("Process started" in html) == own_entries
    for element in ("pep_due", "confirm_care_placement"):  # a fired timer; a task claimed and released
        if element in READ_AS[process_id]:
            shown = reads_element(case, role, reaches, username, instance_id, element)
            assert (f'data-element="{element}"' in html) == shown, element
    assert not any(action in html for action in ACTIONS)


def check_child_page(case: Case, role: str, reaches: bool, username: str, html: str) -> None:
    for task in case.tasks:
        if task.state == "open":
            assert (f'href="/tasks/{task.id}"' in html) == reads_task(role, reaches, username, task), task.element_id
    assert not any(marker(t.element_id) in html for t in case.tasks)
    reads = {kind for kind, roles in READERS.items() if role in roles and reaches}
    assert ("Personal Education Plans</h2>" in html) == ("education" in reads)
    assert ('<h2 class="govuk-heading-m">Placements</h2>' in html) == ("care" in reads)
    assert ("Lives with" in html) == bool(reads & {"care", "school_place", "education"})
    assert ('govuk-tag--red">PEP overdue</strong>' in html) == ("education" in reads)
    [move] = [i for i, p in case.instances.items() if p == "placement_move"]
    assert ("See the placement move" in html) == reads_instance(case, role, reaches, username, move)


def check_pep_document(case: Case, endpoint: str, role: str, reaches: bool, client: FlaskClient) -> None:
    from casework.records import Child, Pep

    with case.world.session() as session:
        [pep_id] = session.scalars(select(Pep.id).join(Child, Child.id == Pep.child_id).where(Child.ref == CHILD))
    readable = reaches and role in READERS["education"]
    answer = client.get(f"/peps/{pep_id}" if endpoint == "peps.show" else f"/peps/{pep_id}.pdf")
    assert answer.status_code == (200 if readable else 404)
    if endpoint == "peps.show":
        html = answer.text
        for task in case.tasks:
            kind = READ_AS[task.process_id][task.element_id]
            shown = readable and task.process_id == "pep_review" and kind in ("education", "care") and (
                role in READERS[kind]) and task.element_id != "refer_to_send"  # the referral's summary is not kept
            assert (marker(task.element_id) in html) == (shown and task.state == "completed"), task.element_id


def check_diagram(case: Case, role: str, reaches: bool, username: str, instance_id: int, body: Any) -> None:
    """The diagram marks only the steps the reader reads: the path done, the open tasks, the timers."""
    for task in case.of_instance(instance_id):
        if task.state == "completed":
            shown = reads_element(case, role, reaches, username, instance_id, task.element_id)
            assert (task.element_id in body["completed"]) == shown, task.element_id
        elif task.state == "open":
            readable = reads_task(role, reaches, username, task)
            assert (task.id in {t["task_id"] for t in body["current"]}) == readable, task.element_id
    for timer in body["timers"]:
        assert reads_element(case, role, reaches, username, instance_id, timer["id"]), timer["id"]
    assert not any(marker(t.element_id) in str(body) for t in case.tasks)


def check_timeline(case: Case, role: str, reaches: bool, username: str, html: str) -> None:
    """Each kind of entry only for its readers; no answer of any step (the timeline shows none)."""
    reads = {kind for kind, roles in READERS.items() if role in roles and reaches}
    assert ('data-kind="pep"' in html) == ("education" in reads)
    assert ('data-kind="placement"' in html) == ("care" in reads)
    for instance_id, process_id in case.instances.items():
        linked = f'href="/instances/{instance_id}"' in html
        if process_id != "pep_review" or "education" not in reads:  # a PEP stands for its review
            assert linked == reads_instance(case, role, reaches, username, instance_id), process_id
    assert not any(marker(t.element_id) in html for t in case.tasks)


def expected_refusal(case: Case, endpoint: str, role: str, reaches: bool, username: str,
                     task: Task | None) -> int | None:
    """The status a POST must get, or None for someone who may take the action (not tried here)."""
    if task is None:  # starting a move: only the allocated social worker, and one is in progress
        return 404 if not reaches else (409 if username == "sw" else 403)
    if not reads_task(role, reaches, username, task):
        return 404
    return None if may_act(role, reaches, task) else 403


def human_tasks(case: Case) -> list[tuple[str, str, str | None]]:
    with case.world.session() as session:
        return sorted((t.id, t.state, t.assignee) for t in session.scalars(select(HumanTask)))


@pytest.mark.parametrize("reach", ["own child", "other child"])
@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_each_case_page_answers_each_role_as_the_need_to_know_tables_say(
    case: Case, endpoint: str, role: str, reach: str
) -> None:
    reaches = reach == "own child"
    username = (OWN if reaches else OTHER)[role]
    client = case.client(username)
    takes = ROUTES[endpoint]
    if takes == "task":
        for task in case.tasks:
            page = client.get(f"/tasks/{task.id}")
            readable = reads_task(role, reaches, username, task)
            assert page.status_code == (200 if readable else 404), task.element_id
            check_task_page(case, role, reaches, username, task, page.text)
            assert (str(escape(task.title)) in page.text) == readable
    elif takes == "instance":
        for instance_id, process_id in case.instances.items():
            page = client.get(f"/instances/{instance_id}")
            readable = reads_instance(case, role, reaches, username, instance_id)
            assert page.status_code == (200 if readable else 404), process_id
            check_instance_page(case, role, reaches, username, instance_id, page.text)
    elif takes == "pep":  # the PEP document and its PDF: the child's education (web/peps.py)
        check_pep_document(case, endpoint, role, reaches, client)
    elif takes == "instance diagram":
        for instance_id, process_id in case.instances.items():
            answer = client.get(f"/instances/{instance_id}/diagram.json")
            readable = reads_instance(case, role, reaches, username, instance_id)
            assert answer.status_code == (200 if readable else 404), process_id
            if readable:
                check_diagram(case, role, reaches, username, instance_id, answer.json)
    elif takes == "assign page":  # a manager who may read the task; anyone else is refused first
        for task in case.tasks:
            page = client.get(f"/tasks/{task.id}/assign")
            expected = 403 if role != "manager" else 404 if not reaches else 200 if task.state == "open" else 409
            assert page.status_code == expected, task.element_id
            assert marker(task.element_id) not in page.text  # the picker shows no step's answers
    elif takes in ("operator's case", "operator's cancel"):  # administrators: operational facts, no answers
        before = human_tasks(case)
        for instance_id in case.instances:
            if takes == "operator's case":
                answer = client.get(f"/admin/operations/instances/{instance_id}")
                assert answer.status_code == (200 if role == "admin" else 403)
            else:  # no reason given: refused, and nothing is cancelled
                token = csrf_token(client.get("/").text)
                answer = client.post(f"/admin/operations/instances/{instance_id}/cancel", data={"csrf_token": token})
                assert answer.status_code == (400 if role == "admin" else 403)
            assert "Wants to live near his school." not in answer.text
        assert human_tasks(case) == before
    elif takes == "child timeline":
        page = client.get(f"/children/{CHILD}/timeline")
        assert page.status_code == (200 if reaches else 404)
        check_timeline(case, role, reaches, username, page.text)
    elif takes == "child suspension form":  # the child's designated teacher, social worker or the VSH
        page = client.get(f"/children/{CHILD}/suspensions/new")
        recorder = role in ("designated_teacher", "social_worker", "vsh")
        assert page.status_code == (404 if not reaches else 200 if recorder else 403)
    elif endpoint == "children.show":
        page = client.get(f"/children/{CHILD}")
        assert page.status_code == (200 if reaches else 404)
        check_child_page(case, role, reaches, username, page.text)
    else:  # an action: every refusal is the rule's, and changes nothing
        before = human_tasks(case)
        token = csrf_token(client.get("/").text)
        targets: list[Task | None] = [t for t in case.tasks if t.state == "open"] if takes == "open task" else [None]
        for target in targets:
            status = expected_refusal(case, endpoint, role, reaches, username, target)
            if status is None:
                continue
            suffix = {"tasks.complete": "", "tasks.claim": "/claim", "tasks.unclaim": "/unclaim", "tasks.draft": "/draft"}
            url = f"/children/{CHILD}/moves" if target is None else f"/tasks/{target.id}{suffix[endpoint]}"
            answer = client.post(url, data={"csrf_token": token})
            assert answer.status_code == status, (url, answer.status_code)
            if target is not None:
                assert marker(target.element_id) not in answer.text
        assert human_tasks(case) == before


def test_a_designated_teacher_who_is_a_social_worker_elsewhere_reads_the_school_side_of_a_move_only(
    case: Case,
) -> None:
    """The finding that started this: a teacher read the social worker's reasons and the child's wishes
    about where to live, and was offered a "Save and complete" that answered 403."""
    client = case.client("sw_dt")  # a social worker, and the designated teacher at Ethan's school
    [move] = [i for i, p in case.instances.items() if p == "placement_move"]
    history = client.get(f"/instances/{move}").text
    assert marker("discuss_school_choice") in history and marker("propose_move") not in history
    assert "Wants to live near his school." not in history and "Process started" not in history
    by_element = {t.element_id: t for t in case.tasks}
    school = client.get(f"/tasks/{by_element['apply_for_school_place'].id}").text
    assert marker("discuss_school_choice") in school and marker("propose_move") not in school
    assert "Save and complete" not in school and "Assign to me" not in school
    assert "You can read this task, but not complete it" in school
    assert client.get(f"/tasks/{by_element['confirm_care_placement'].id}").status_code == 404
    assert client.get(f"/tasks/{by_element['propose_move'].id}").status_code == 404
    token = csrf_token(school)
    assert client.post(f"/tasks/{by_element['apply_for_school_place'].id}",
                       data={"csrf_token": token}).status_code == 403


def test_the_case_list_counts_only_the_tasks_a_reader_may_read_and_hides_what_they_may_not(case: Case) -> None:
    ethan = [t for t in case.tasks if t.state == "open"]
    teacher = case.client("dt100001").get("/children").text
    readable = sum(reads_task("designated_teacher", True, "dt100001", t) for t in ethan)
    assert 0 < readable < len(ethan)
    row = teacher[teacher.index("Ethan Walsh"):]
    assert f'govuk-table__cell--numeric">{readable}</td>' in row[:row.index("</tr>")]
    assert "Foster care (LA carer)" not in teacher and "Latest PEP" in teacher
    social = case.client("sw").get("/children").text
    row = social[social.index("Ethan Walsh"):]
    assert f'govuk-table__cell--numeric">{len(ethan)}</td>' in row[:row.index("</tr>")]
    assert "Foster care (LA carer)" in social


def test_a_history_is_filtered_before_it_is_cut_into_pages(case: Case) -> None:
    with case.world.session() as session:
        [move] = session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "placement_move"))
        reader = _need_to_know(session, case, "dt100001")
        only = reader.history(move.id, move.process_id, move.business_key)
        service = WorkflowService(session, case.world.clock, case.world.runtime)
        everything = service.history_page(move.id, 1, per_page=1)
        school_side = service.history_page(move.id, 1, per_page=1, only=only)
        second = service.history_page(move.id, 2, per_page=1, only=only)
    assert only is not None and only.elements and not only.instance_entries
    assert everything.items[0].action == "instance_started"
    assert [e.element_id for e in school_side.items] == ["discuss_school_choice"]
    assert not school_side.has_next and second.items == []


def _need_to_know(session: Session, case: Case, username: str) -> NeedToKnow:
    user = session.scalars(select(User).where(User.username == username)).one()
    return NeedToKnow(session, case.world.runtime.access.scope(session, Actor(username, user.roles_set)))
