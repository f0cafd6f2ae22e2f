"""The work queue (casework/work_queue.py): views, filters, search, sorts and paging, decided in SQL, and never
showing a task or a child the reader may not see (docs/work-queues.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.processes import pep_review, placement_move
from casework.records import note_unrecorded_key
from casework.users import User
from casework.work_queue import TaskQuery, catalogue, task_list
from engine.clock import FrozenClock
from engine.errors import Forbidden, InvalidData
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.runtime import Actor
from tests.casework.records_support import add_child, add_user
from tests.casework.world import World

PEP, MOVE = pep_review.PROCESS_ID, placement_move.PROCESS_ID
P, M = pep_review.Step, placement_move.Step
OTHER_LA = "936"


@dataclass(frozen=True)
class Spec:
    name: str
    key: str
    process: str
    element: str
    role: str
    due_days: int | None
    assignee: str | None = None


TASKS = [
    Spec("ethan_contribution", "C-1", PEP, P.SOCIAL_WORKER_CONTRIBUTION, "social_worker", 5),
    Spec("ethan_pep", "C-1", PEP, P.COMPLETE_PEP_SCHOOL_AGE, "designated_teacher", 3),
    Spec("leo_views", "C-3", PEP, P.RECORD_CHILDS_VIEWS, "social_worker", -2, "sw"),
    Spec("amy_contribution", "C-2", PEP, P.SOCIAL_WORKER_CONTRIBUTION, "social_worker", 1, "other_sw"),
    Spec("amy_no_school", "C-2", MOVE, M.ESCALATE_NO_SCHOOL_PLACE, "manager", -1),
    Spec("ethan_move", "C-1", MOVE, M.PROPOSE_MOVE, "social_worker", None),
    Spec("zoe_contribution", "C-9", PEP, P.SOCIAL_WORKER_CONTRIBUTION, "social_worker", 2, "sw_b"),
    Spec("zoe_no_school", "C-9", MOVE, M.ESCALATE_NO_SCHOOL_PLACE, "manager", -3),
    Spec("leo_rating", "C-3", PEP, P.QUALITY_ASSURE_PEP, "vsh", 4, "vsh"),
]
"""Open tasks; ``due_days`` from the test clock's day (midnight after the last day), None: no due date."""
IDS = {spec.name: f"00000000-0000-4000-8000-{n:012d}" for n, spec in enumerate(TASKS, start=1)}
NAMES = {v: k for k, v in IDS.items()}
ROLES = {"sw": ["social_worker"], "other_sw": ["social_worker"], "manager": ["manager"], "lead": ["manager"],
         "vsh": ["vsh"], "dt100001": ["designated_teacher"], "dt100002": ["designated_teacher"],
         "sw_b": ["social_worker"], "manager_b": ["manager"]}


def build_queue(world: World) -> None:
    """The casework world (tests/casework/world.py) and another authority, with children, teams and tasks:

    * LA 935: C-1 Ethan Walsh (``sw``'s, at 100001), C-2 Amy Khan (``other_sw``'s, at 100002), C-3 Leo Brown
      (``sw``'s, at 100002). Teams: ``sw`` and ``manager`` are "North", ``other_sw`` is "South"; ``lead`` is a
      manager with no team.
    * LA 936: C-9 Zoe Walsh (``sw_b``'s); ``manager_b`` is its manager, with no team.
    """
    clock = world.clock
    with world.session() as session:
        add_user(session, clock, "lead", ["manager"])
        add_user(session, clock, "sw_b", ["social_worker"], la_code=OTHER_LA)
        add_user(session, clock, "manager_b", ["manager"], la_code=OTHER_LA)
        for username, team in (("sw", "North"), ("manager", "North"), ("other_sw", "South")):
            session.execute(update(User).where(User.username == username).values(team=team))
        add_child(session, clock, ref="C-1", first_name="Ethan", last_name="Walsh", school_urn="100001",
                  social_worker="sw")
        add_child(session, clock, ref="C-2", first_name="Amy", last_name="Khan", school_urn="100002",
                  social_worker="other_sw")
        add_child(session, clock, ref="C-3", first_name="Leo", last_name="Brown", school_urn="100002",
                  social_worker="sw")
        add_child(session, clock, ref="C-9", first_name="Zoe", last_name="Walsh", social_worker="sw_b",
                  la_code=OTHER_LA)
        add_tasks(session, clock.now(), TASKS)


def add_tasks(session: Session, now: datetime, specs: list[Spec], ids: dict[str, str] | None = None) -> None:
    """Open task rows (as the engine materialises them), each on an instance of its process for its key."""
    definitions = dict(session.execute(select(ProcessDefinition.process_id, ProcessDefinition.id)).all())
    instances: dict[tuple[str, str], int] = {}
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    for n, spec in enumerate(specs):
        if (spec.key, spec.process) not in instances:
            row = ProcessInstance(definition_id=definitions[spec.process], process_id=spec.process,
                                  business_key=spec.key, status="running", state="{}", started_at=now,
                                  started_by="system", updated_at=now)
            session.add(row)
            session.flush()
            instances[(spec.key, spec.process)] = row.id
        session.add(HumanTask(
            id=(ids or IDS)[spec.name], instance_id=instances[(spec.key, spec.process)], process_id=spec.process,
            business_key=spec.key, element_id=str(spec.element), title=f"{spec.name} task", role=spec.role,
            state="open", assignee=spec.assignee,
            due_at=None if spec.due_days is None else midnight + timedelta(days=spec.due_days),
            created_at=now - timedelta(hours=len(specs) - n)))
    session.flush()


@pytest.fixture
def world(factory: sessionmaker[Session], clock: FrozenClock) -> World:
    world = World(factory, clock)
    build_queue(world)
    return world


def listed(world: World, who: str, per_page: int = 25, **args: Any) -> list[str]:
    query = TaskQuery.parse({k: [v] if isinstance(v, str) else v for k, v in args.items()})
    with world.session() as session:
        page = task_list(session, world.runtime, Actor(who, frozenset(ROLES[who])), query, world.clock, per_page)
        return [NAMES[row.task.id] for row in page.items]


def as_set(world: World, who: str, **args: Any) -> set[str]:
    return set(listed(world, who, **args))


# -- views ---------------------------------------------------------------------------------------------------

def test_all_my_work_is_the_tasks_i_hold_and_those_my_roles_may_claim_soonest_due_first(world: World) -> None:
    assert listed(world, "sw") == ["leo_views", "ethan_contribution", "ethan_move"]
    assert listed(world, "dt100001") == ["ethan_pep"]
    assert listed(world, "lead") == ["amy_no_school"]


def test_assigned_to_me_is_only_the_tasks_i_hold(world: World) -> None:
    assert listed(world, "sw", view="mine") == ["leo_views"]
    assert listed(world, "vsh", view="mine") == ["leo_rating"]


def test_my_roles_unassigned_tasks_are_the_unclaimed_tasks_of_my_roles_for_children_they_reach(world: World) -> None:
    assert listed(world, "sw", view="unassigned") == ["ethan_contribution", "ethan_move"]
    assert listed(world, "sw_b", view="unassigned") == []
    assert listed(world, "manager_b", view="unassigned") == ["zoe_no_school"]


def test_overdue_is_my_work_due_before_now(world: World) -> None:
    assert listed(world, "sw", view="overdue") == ["leo_views"]
    assert listed(world, "manager", view="overdue") == ["amy_no_school"]
    assert listed(world, "other_sw", view="overdue") == []


def test_a_managers_team_view_is_the_tasks_its_members_hold_or_are_for_their_caseloads(world: World) -> None:
    assert as_set(world, "manager", view="team") == {
        "ethan_contribution", "ethan_pep", "leo_views", "ethan_move", "leo_rating"}


def test_the_team_view_shows_who_holds_each_task(world: World) -> None:
    with world.session() as session:
        page = task_list(session, world.runtime, Actor("manager", frozenset({"manager"})),
                         TaskQuery(view="team"), world.clock)
        holders = {NAMES[row.task.id]: row.assignee_name for row in page.items}
        children = {NAMES[row.task.id]: row.child_name for row in page.items}
    assert holders["leo_views"] == "Sw" and holders["leo_rating"] == "Vsh" and holders["ethan_pep"] is None
    assert children["leo_views"] == "Leo Brown"


def test_a_manager_with_no_team_sees_every_open_task_of_their_authority_and_never_another(world: World) -> None:
    assert as_set(world, "lead", view="team") == {
        "ethan_contribution", "ethan_pep", "leo_views", "amy_contribution", "amy_no_school", "ethan_move",
        "leo_rating"}
    assert as_set(world, "manager_b", view="team") == {"zoe_contribution", "zoe_no_school"}


def test_the_team_view_is_refused_to_someone_who_is_not_a_manager(world: World) -> None:
    with pytest.raises(Forbidden, match="for managers"):
        listed(world, "sw", view="team")
    with pytest.raises(Forbidden):
        listed(world, "vsh", view="team")


# -- filters and search --------------------------------------------------------------------------------------

def test_the_process_filter_keeps_one_process(world: World) -> None:
    assert as_set(world, "lead", view="team", process=MOVE) == {"amy_no_school", "ethan_move"}
    assert listed(world, "sw", process=MOVE) == ["ethan_move"]


def test_the_task_type_filter_keeps_one_step(world: World) -> None:
    assert as_set(world, "lead", view="team", task=str(P.SOCIAL_WORKER_CONTRIBUTION)) == {
        "ethan_contribution", "amy_contribution"}
    assert as_set(world, "lead", view="team", process=PEP, task=str(P.QUALITY_ASSURE_PEP)) == {"leo_rating"}


def test_the_child_filter_keeps_one_childs_tasks(world: World) -> None:
    assert as_set(world, "lead", view="team", child="C-3") == {"leo_views", "leo_rating"}


def test_the_due_range_keeps_tasks_due_by_days_within_it_inclusive(world: World) -> None:
    today = date(2026, 12, 1)
    assert as_set(world, "lead", view="team", due_from=(today + timedelta(days=1)).isoformat(),
                  due_to=(today + timedelta(days=4)).isoformat()) == {"ethan_pep", "amy_contribution", "leo_rating"}
    assert as_set(world, "lead", view="team", **{"due_to-day": "30", "due_to-month": "11", "due_to-year": "2026"}) \
        == {"leo_views", "amy_no_school"}


def test_search_finds_a_childs_tasks_by_part_of_the_name_or_reference_in_any_case(world: World) -> None:
    assert as_set(world, "lead", view="team", q="WALSH") == {"ethan_contribution", "ethan_pep", "ethan_move"}
    assert as_set(world, "lead", view="team", q="eth wal") == {"ethan_contribution", "ethan_pep", "ethan_move"}
    assert as_set(world, "lead", view="team", q="c-3") == {"leo_views", "leo_rating"}
    assert as_set(world, "sw", q="bro") == {"leo_views"}


def test_filters_and_search_combine(world: World) -> None:
    assert as_set(world, "lead", view="team", q="walsh", process=PEP, due_from="2026-12-03") == {
        "ethan_contribution", "ethan_pep"}


# -- access --------------------------------------------------------------------------------------------------

def test_a_social_worker_searching_for_another_workers_child_finds_nothing(world: World) -> None:
    assert as_set(world, "sw", q="khan") == set()
    assert as_set(world, "sw", q="C-2") == set()
    assert as_set(world, "sw", child="C-2") == set()


def test_a_designated_teacher_filtering_on_a_child_of_another_school_finds_nothing(world: World) -> None:
    assert as_set(world, "dt100001", child="C-3") == set()
    assert as_set(world, "dt100001", q="leo") == set()
    assert as_set(world, "dt100002", q="ethan") == set()


def test_a_manager_never_sees_another_authoritys_tasks_in_the_team_view_whatever_the_search(world: World) -> None:
    assert as_set(world, "lead", view="team", q="zoe") == set()
    assert as_set(world, "lead", view="team", child="C-9") == set()
    assert as_set(world, "manager_b", view="team", q="walsh") == {"zoe_contribution", "zoe_no_school"}


# -- sorts and pages -----------------------------------------------------------------------------------------

def test_the_list_sorts_by_due_date_child_or_creation_either_way(world: World) -> None:
    soonest = ["leo_views", "amy_no_school", "amy_contribution", "ethan_pep", "leo_rating", "ethan_contribution",
               "ethan_move"]
    assert listed(world, "lead", view="team") == soonest
    assert listed(world, "lead", view="team", order="desc") == soonest[::-1]
    assert listed(world, "lead", view="team", sort="created") == [
        "ethan_contribution", "ethan_pep", "leo_views", "amy_contribution", "amy_no_school", "ethan_move",
        "leo_rating"]
    assert listed(world, "lead", view="team", sort="created", order="desc")[0] == "leo_rating"
    assert listed(world, "lead", view="team", sort="child") == [  # Brown, Khan, Walsh; then soonest due
        "leo_views", "leo_rating", "amy_no_school", "amy_contribution", "ethan_pep", "ethan_contribution",
        "ethan_move"]
    assert listed(world, "lead", view="team", sort="child", order="desc")[:2] == ["ethan_move", "ethan_contribution"]


def test_pages_follow_each_other_without_gaps_or_overlaps(world: World) -> None:
    pages = [listed(world, "lead", per_page=3, view="team", page=str(n)) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [3, 3, 1, 0]
    assert sum(pages, []) == listed(world, "lead", view="team")
    query = TaskQuery(view="team", page=3)
    with world.session() as session:
        last = task_list(session, world.runtime, Actor("lead", frozenset({"manager"})), query, world.clock, 3)
    assert last.has_previous and not last.has_next


# -- reading the query ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "field", "words"), [
    ({"view": "everything"}, "view", "not known"),
    ({"sort": "colour"}, "sort", "not known"),
    ({"order": "sideways"}, "order", "not known"),
    ({"due_from": "2026-02-30"}, "due_from", "real date"),
    ({"due_to-day": "1", "due_to-month": "13", "due_to-year": "2026"}, "due_to", "real date"),
    ({"due_from-day": "1", "due_from-year": "2026"}, "due_from", "must include a month"),
    ({"due_from": "0999-01-01"}, "due_from", "year from 1900 to 2100"),
    ({"due_from": "2026-12-10", "due_to": "2026-12-01"}, "due_to", "after due from"),
    ({"page": "0"}, "page", "whole number"),
    ({"page": "2001"}, "page", "whole number"),
    ({"page": "two"}, "page", "whole number"),
    ({"q": "x" * 101}, "q", "100 characters"),
    ({"view": ["mine", "team"]}, "view", "more than once"),
])
def test_a_bad_parameter_is_refused_naming_it(args: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidData) as refused:
        TaskQuery.parse({k: v if isinstance(v, list) else [v] for k, v in args.items()})
    assert list(refused.value.errors) == [field]
    assert words in refused.value.errors[field][0]


def test_a_process_or_task_type_must_be_deployed(world: World) -> None:
    with world.session() as session:
        known = catalogue(session, world.runtime)
    assert known.processes[PEP] and known.task_names(PEP)[str(P.QUALITY_ASSURE_PEP)]
    with pytest.raises(InvalidData) as refused:
        TaskQuery.parse({"process": ["nonsense"]}, known)
    assert list(refused.value.errors) == ["process"]
    with pytest.raises(InvalidData) as refused:
        TaskQuery.parse({"process": [MOVE], "task": [str(P.QUALITY_ASSURE_PEP)]}, known)
    assert list(refused.value.errors) == ["task"]
    query = TaskQuery.parse({"process": [PEP], "task": [str(P.QUALITY_ASSURE_PEP)], "page": ["2"]}, known)
    assert query.args() == [("process", PEP), ("task", str(P.QUALITY_ASSURE_PEP)), ("page", "2")]
    assert query.without("task").args() == [("process", PEP)]


def test_sorting_by_child_works_for_every_kind_of_reach(world: World) -> None:
    assert listed(world, "sw", sort="child") == ["leo_views", "ethan_contribution", "ethan_move"]
    assert listed(world, "sw", sort="child", order="desc") == ["ethan_move", "ethan_contribution", "leo_views"]
    assert listed(world, "dt100001", sort="child") == ["ethan_pep"]


def test_work_for_a_key_with_no_child_record_is_listed_searched_and_sorted_last_by_child(world: World) -> None:
    generic = Spec("generic", "REVIEW-7", MOVE, M.ESCALATE_NO_SCHOOL_PLACE, "manager", -5)
    with world.session() as session:
        note_unrecorded_key(session, "REVIEW-7", world.clock.now())
        add_tasks(session, world.clock.now(), [generic], {"generic": "00000000-0000-4000-8000-000000000099"})
    NAMES["00000000-0000-4000-8000-000000000099"] = "generic"
    try:
        assert listed(world, "lead") == ["generic", "amy_no_school"]
        assert listed(world, "lead", view="team", sort="child")[-1] == "generic"
        assert listed(world, "lead", view="team", sort="child", order="desc")[0] == "generic"
        assert listed(world, "lead", view="team", q="view-7") == ["generic"]
        # a key with no child record belongs to no authority: managers reach it by role (docs/access.md)
        assert listed(world, "manager_b", view="team", q="view-7") == ["generic"]
        assert listed(world, "sw", q="review") == []
    finally:
        del NAMES["00000000-0000-4000-8000-000000000099"]
