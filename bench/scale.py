"""Inbox, case list, escalations and a fanning-out step, at two sizes of authority set (issue 9, item 6).

Run: ``python -m bench.scale``. Uses ``VSW_BENCH_DATABASE_URL`` or the local PostgreSQL
``postgresql://postgres@127.0.0.1:5432/postgres``, in throwaway databases it creates and drops:
first a SMALL set, then a LARGE one, each built, measured and dropped in turn.

Built (``bench/scale_seed.py``, ``bench/scale_clone.py``): two authorities (LA 935 and LA 936) with
schools, a designated teacher per school, social workers holding about 30 children each, VSHs,
managers and the other LA-wide roles. Template children in LA 935 are driven through the service
from last summer's PEP to ``NOW`` (12 October 2026): PEP actions waiting to be confirmed and
escalated when overdue, this term's reviews at every step, new children with initial PEPs, placement
moves. They are then cloned in bulk SQL into both authorities, with their instances, tasks, timers,
escalations and audit, so the other authority holds as many tasks of the same roles; about one open
task in ten is claimed. SMALL: 20 clones per authority (~60 children, ~1,000 open tasks). LARGE:
2,600 per authority (>5,000 children, >100,000 open tasks, >1,000,000 audit rows); set
``VSW_BENCH_SCALE_CHILDREN`` for another number of clones per authority in the large set.

Measured, on each size, on a clock frozen at ``NOW``:

* the first inbox page (25 tasks) of one social worker, one designated teacher, one VSH and one
  manager of LA 935: ``WorkflowService.inbox`` as the web view calls it, in process, p50/p95 of
  200 calls after 10 warm-up calls, each in a fresh session, with Python's garbage collector paused
  during the call as ``timeit`` does;
* whether that page holds the user's own soonest-due tasks: a plain SQL query of its own finds them
  (open, and claimed by the user who may see the child, or unclaimed in one of the user's roles for a
  child the user reaches in that role; ordered by due date, no date last, then opening time, then id);
  ``missing_own_tasks`` counts expected tasks absent from the page. The older ``inbox(actor)`` (a list,
  no tie-break by id) is cut to its first 25; the report says how many misses were only lost ties;
* ``/children`` and ``/escalations`` through the Flask test client, signed in as the manager (p50/p95);
* the VSH rating a PEP green (``quality_assure_pep``), which opens a social-worker task per action and
  tells the social workers: ``complete`` plus the commit, median of 32 after 4 warm-up completions.

The last four lines are ``inbox_p95_ms_large`` (the worst role's p95 on LARGE),
``inbox_ratio_large_vs_small`` (that role's p95, LARGE over SMALL), ``fanout_ratio_large_vs_small``
(median completion time, LARGE over SMALL) and ``missing_own_tasks`` (over both sizes).
"""

from __future__ import annotations

import gc
import inspect
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.settings import Settings  # noqa: E402
from app.wiring import build_runtime  # noqa: E402
from bench.common import bench_database, migrate, signed_in_client  # noqa: E402
from bench.scale_clone import clone_children  # noqa: E402
from bench.scale_seed import (  # noqa: E402
    FANOUT_ACTIONS,
    FANOUT_STEP,
    NOW,
    PASSWORD,
    Size,
    build_templates,
    seed_people,
)
from casework.records import Child, Pep  # noqa: E402
from casework.users import User  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import make_engine, session_factory, unit_of_work  # noqa: E402
from engine.models import HumanTask  # noqa: E402
from engine.runtime import Actor, Runtime  # noqa: E402
from engine.service import WorkflowService  # noqa: E402

LARGE = int(os.environ.get("VSW_BENCH_SCALE_CHILDREN", "2600"))  # clones per authority in the large set
SIZES = (Size("small", children_per_la=20, schools_per_la=4),
         Size("large", children_per_la=LARGE, schools_per_la=max(4, LARGE * 150 // 2600)))
MEASURED = {"social_worker": "sw.935.002", "designated_teacher": "dt.935001", "vsh": "vsh.935.1",
            "manager": "manager.935.1"}
PER_PAGE, WARM_UP, INBOX_REPEATS, PAGE_REPEATS = 25, 10, 200, 60  # enough calls for a steady p95
FANOUT_WARM_UP, FANOUT_REPEATS = 4, 32
GREEN = {"rag": "green", "feedback": "A good plan; keep the tutoring going."}
PAGES = ("/children", "/escalations")


@dataclass
class Result:
    size: Size
    seconds: dict[str, float]
    counts: dict[str, Any]
    inbox_ms: dict[str, list[float]] = field(default_factory=dict)
    page_ms: dict[str, list[float]] = field(default_factory=dict)
    fanout_ms: list[float] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    ties: dict[str, int] = field(default_factory=dict)
    foreign: dict[str, int] = field(default_factory=dict)


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


# -- building --------------------------------------------------------------------------------------------

def seed(url: str, size: Size) -> tuple[dict[str, float], list[str]]:
    """Build the authority set; returns the seconds of each phase and the fan-out children's refs."""
    engine = make_engine(url)
    factory = session_factory(engine)
    started = time.perf_counter()
    seed_people(factory, size, core=True)
    fanout = build_templates(factory, build_runtime(Settings(database_url=url), factory), size.fanout_children)
    templates = time.perf_counter()
    seed_people(factory, size, core=False)
    clone_children(engine, size)
    done = time.perf_counter()
    engine.dispose()
    return {"templates": templates - started, "clone": done - templates, "seed": done - started}, fanout


COUNTS = {
    "children": "SELECT count(*) FROM child",
    "children LA 935 / 936": "SELECT string_agg(n::text, ' / ' ORDER BY la_code) FROM "
                             "(SELECT la_code, count(*) n FROM child GROUP BY la_code) x",
    "schools": "SELECT count(*) FROM school",
    "users": "SELECT count(*) FROM app_user",
    "users by role": "SELECT string_agg(roles || ' ' || n, ', ' ORDER BY n DESC) FROM "
                     "(SELECT roles, count(*) n FROM app_user GROUP BY roles) x",
    "process instances": "SELECT count(*) FROM process_instance",
    "open tasks": "SELECT count(*) FROM human_task WHERE state = 'open'",
    "open tasks by role": "SELECT string_agg(role || ' ' || n, ', ' ORDER BY n DESC) FROM "
                          "(SELECT role, count(*) n FROM human_task WHERE state = 'open' GROUP BY role) x",
    "open tasks claimed": "SELECT count(*) FROM human_task WHERE state = 'open' AND assignee IS NOT NULL",
    "open tasks due before NOW": f"SELECT count(*) FROM human_task WHERE state = 'open' AND due_at < '{NOW}'",
    "waiting timers": "SELECT count(*) FROM waiting_timer WHERE state = 'waiting'",
    "open escalations LA 935 / 936": "SELECT string_agg(n::text, ' / ' ORDER BY la_code) FROM "
                                     "(SELECT la_code, count(*) n FROM escalation WHERE state = 'open' "
                                     "GROUP BY la_code) x",
    "audit events": "SELECT count(*) FROM audit_event",
    "database size": "SELECT pg_size_pretty(pg_database_size(current_database()))",
}


def count_rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {name: conn.execute(text(sql)).scalar_one() for name, sql in COUNTS.items()}


# -- the inbox, and the user's own tasks by plain SQL -------------------------------------------------------

def first_page(service: WorkflowService, actor: Actor) -> list[HumanTask]:
    """The inbox's first page: ``inbox(actor, page=, per_page=)`` returning a page, or the older
    ``inbox(actor, limit=)`` returning a list (cut to a page here)."""
    inbox: Any = service.inbox
    if "per_page" in inspect.signature(inbox).parameters:
        return list(inbox(actor, page=1, per_page=PER_PAGE).items)
    return list(inbox(actor))[:PER_PAGE]


LA_WIDE = ("vsh", "manager", "nominated_officer", "dcs", "admissions_officer", "sen_officer", "iro", "admin")
NO_CHILD_RECORD = ("vsh", "manager", "admin")  # the roles that reach a business key with no child row


def own_tasks_sql(user: User) -> tuple[str, dict[str, Any]]:
    """WHERE clause (over ``human_task t LEFT JOIN child c``) of the user's own open tasks, from the rules
    as written (not from the code under test): claimed by the user, who may see the child; or unclaimed,
    in one of the user's roles, for a child the user reaches in that role."""
    reach = {"social_worker": "c.social_worker = :username",
             "designated_teacher": "c.school_urn = :school" if user.school_urn else "false",
             **{role: "c.la_code = :la" for role in LA_WIDE}}

    def reaches(role: str) -> str:
        no_child = "c.id IS NULL" if role in NO_CHILD_RECORD else "false"
        return f"((c.id IS NOT NULL AND {reach.get(role, 'false')}) OR {no_child})"

    roles = sorted(user.roles_set)
    may_see = " OR ".join(reaches(r) for r in roles) or "false"
    in_role = " OR ".join(f"(t.role = '{r}' AND {reaches(r)})" for r in roles) or "false"
    where = (f"t.state = 'open' AND ((t.assignee = :username AND ({may_see})) "
             f"OR (t.assignee IS NULL AND ({in_role})))")
    return where, {"username": user.username, "school": user.school_urn, "la": user.la_code}


FROM_TASKS = "FROM human_task t LEFT JOIN child c ON c.ref = t.business_key"


def expected_page(session: Session, user: User) -> list[tuple[str, Any]]:
    """(id, sort key) of the user's own tasks that belong on the first page."""
    where, params = own_tasks_sql(user)
    sql = (f"SELECT t.id, t.due_at, t.created_at {FROM_TASKS} WHERE {where} "
           "ORDER BY t.due_at ASC NULLS LAST, t.created_at, t.id LIMIT :limit")
    return [(row.id, (row.due_at, row.created_at))
            for row in session.execute(text(sql), {**params, "limit": PER_PAGE})]


def own_ids(session: Session, user: User, ids: list[str]) -> set[str]:
    """Which of ``ids`` are the user's own tasks."""
    where, params = own_tasks_sql(user)
    sql = f"SELECT t.id {FROM_TASKS} WHERE t.id = ANY(:ids) AND {where}"
    return set(session.execute(text(sql), {**params, "ids": ids}).scalars()) if ids else set()


def compare(session: Session, user: User, expected: list[tuple[str, Any]], page: list[HumanTask],
            result: Result, role: str) -> None:
    """Missing own tasks; of those, how many lost a tie (same due and opening time) to another own task
    on the page (the older inbox has no last tie-break by id); tasks on the page that are not the user's."""
    returned = {t.id for t in page}
    mine = own_ids(session, user, list(returned))
    wanted = {task_id for task_id, _ in expected}
    substitutes = Counter((t.due_at, t.created_at) for t in page if t.id in mine and t.id not in wanted)
    missing = [key for task_id, key in expected if task_id not in returned]
    ties = 0
    for key in missing:
        if substitutes[key]:
            substitutes[key] -= 1
            ties += 1
    result.missing[role], result.ties[role], result.foreign[role] = len(missing), ties, len(returned - mine)


def measure_inbox(factory: sessionmaker[Session], runtime: Runtime, result: Result) -> None:
    clock = FrozenClock(NOW)
    for role, username in MEASURED.items():
        with factory() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            actor = Actor(user.username, user.roles_set)
            expected = expected_page(session, user)
        samples = []
        for n in range(WARM_UP + INBOX_REPEATS):
            with factory() as session:
                service = WorkflowService(session, clock, runtime)
                gc.collect()
                gc.disable()  # as timeit does: a collector pause is not the query's cost
                started = time.perf_counter()
                page = first_page(service, actor)
                elapsed = (time.perf_counter() - started) * 1000
                gc.enable()
            if n >= WARM_UP:
                samples.append(elapsed)
        result.inbox_ms[role] = samples
        with factory() as session:
            compare(session, user, expected, page, result, role)


# -- the web pages --------------------------------------------------------------------------------------

def measure_pages(url: str, result: Result) -> None:
    app, client = signed_in_client(url, MEASURED["manager"], PASSWORD, NOW)
    for path in PAGES:
        samples = []
        for n in range(WARM_UP + PAGE_REPEATS):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, f"{path} answered {response.status_code}"
            if n >= WARM_UP:
                samples.append(elapsed)
        result.page_ms[path] = samples
    app.extensions["vsw"].engine.dispose()


# -- the step that opens social-worker tasks ---------------------------------------------------------------

def measure_fanout(factory: sessionmaker[Session], runtime: Runtime, refs: list[str], result: Result) -> None:
    """The VSH rates each prepared PEP green; each completion opens one social-worker task per action."""
    clock = FrozenClock(NOW)
    vsh = Actor(MEASURED["vsh"], frozenset({"vsh"}))
    for n, ref in enumerate(refs[:FANOUT_WARM_UP + FANOUT_REPEATS]):
        with factory() as session:
            child_id = session.scalars(select(Child.id).where(Child.ref == ref)).one()
            instance_id = session.scalars(select(Pep.instance_id).where(Pep.child_id == child_id)).one()
            service = WorkflowService(session, clock, runtime)
            [task] = [t for t in service.instance_tasks(int(instance_id or 0))
                      if t.state == "open" and t.element_id == FANOUT_STEP]
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            WorkflowService(session, clock, runtime).complete(task.id, GREEN, vsh)
        elapsed = (time.perf_counter() - started) * 1000
        with factory() as session:
            tasks = WorkflowService(session, clock, runtime).instance_tasks(int(instance_id or 0))
            opened = [t for t in tasks if t.state == "open" and t.role == "social_worker"]
        assert len(opened) == FANOUT_ACTIONS, f"{ref}: {len(opened)} social-worker tasks opened"
        if n >= FANOUT_WARM_UP:
            result.fanout_ms.append(elapsed)


# -- one size, the report ----------------------------------------------------------------------------------

def run(size: Size) -> Result:
    with bench_database() as (url, label):
        if label != "PostgreSQL":
            raise SystemExit("bench/scale.py needs PostgreSQL (VSW_BENCH_DATABASE_URL)")
        migrate(url)
        seconds, fanout = seed(url, size)
        engine = make_engine(url)
        result = Result(size, seconds, count_rows(engine))
        print(f"{size.label}: seeded in {seconds['seed']:.1f} s (templates through the service "
              f"{seconds['templates']:.1f} s, bulk clone {seconds['clone']:.1f} s); "
              f"{result.counts['children']} children, {result.counts['open tasks']} open tasks", flush=True)
        factory = session_factory(engine)
        runtime = build_runtime(Settings(database_url=url), factory)
        measure_inbox(factory, runtime, result)
        measure_pages(url, result)
        measure_fanout(factory, runtime, fanout, result)
        engine.dispose()
    return result


def load_average() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def report(small: Result, large: Result) -> None:
    print()
    print(f"{'':32}{'small':>22}{'large':>22}")
    for name in COUNTS:
        if name.endswith("by role"):
            print(f"  {name}, small: {small.counts[name]}\n  {name}, large: {large.counts[name]}")
        else:
            print(f"  {name:30}{str(small.counts[name]):>22}{str(large.counts[name]):>22}")
    for phase in ("templates", "clone", "seed"):
        print(f"  seconds: {phase:21}{small.seconds[phase]:>22.1f}{large.seconds[phase]:>22.1f}")
    print(f"\ninbox, first page of {PER_PAGE} (in process, ms; {INBOX_REPEATS} calls)   p50 / p95 small"
          "      p50 / p95 large   ratio p95")
    for role, username in MEASURED.items():
        s, g = small.inbox_ms[role], large.inbox_ms[role]
        print(f"  {role:20} {username:16}{p50(s):>9.1f} / {p95(s):<9.1f}{p50(g):>9.1f} / {p95(g):<9.1f}"
              f"{p95(g) / p95(s):>8.2f}")
    print("the user's own soonest-due tasks missing from the first page, small / large (of which lost a "
          "tie to another own task due and opened at the same time); tasks on it that are not the user's:")
    for role in MEASURED:
        print(f"  {role:20} missing {small.missing[role]:>3} ({small.ties[role]}) / {large.missing[role]:>3} "
              f"({large.ties[role]})   not the user's {small.foreign[role]:>3} / {large.foreign[role]}")
    print(f"pages as {MEASURED['manager']} (Flask test client, ms; {PAGE_REPEATS} requests)")
    for path in PAGES:
        s, g = small.page_ms[path], large.page_ms[path]
        print(f"  {path:37}{p50(s):>9.1f} / {p95(s):<9.1f}{p50(g):>9.1f} / {p95(g):<9.1f}"
              f"{p95(g) / p95(s):>8.2f}")
    fan_small, fan_large = p50(small.fanout_ms), p50(large.fanout_ms)
    print(f"VSH rates a PEP green ({FANOUT_STEP}, opens {FANOUT_ACTIONS} social-worker tasks), complete + "
          f"commit, median of {FANOUT_REPEATS}: small {fan_small:.1f} ms, large {fan_large:.1f} ms")
    print(f"uptime: {load_average()}")
    worst = max(MEASURED, key=lambda role: p95(large.inbox_ms[role]))
    print(f"worst inbox on large: {worst} ({MEASURED[worst]})")
    print(f"inbox_p95_ms_large: {p95(large.inbox_ms[worst]):.1f}")
    print(f"inbox_ratio_large_vs_small: {p95(large.inbox_ms[worst]) / p95(small.inbox_ms[worst]):.2f}")
    print(f"fanout_ratio_large_vs_small: {fan_large / fan_small:.2f}")
    print(f"missing_own_tasks: {sum(small.missing.values()) + sum(large.missing.values())}")


def main() -> None:
    os.environ.setdefault("VSW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    paged = "per_page" in inspect.signature(WorkflowService.inbox).parameters
    print(f"CPUs: {os.cpu_count()}; {load_average()}", flush=True)
    print("inbox API: " + ("inbox(actor, page=1, per_page=25) -> page" if paged
                           else "inbox(actor) -> list (older API: first 25 of it)"), flush=True)
    small = run(SIZES[0])
    large = run(SIZES[1])
    report(small, large)


if __name__ == "__main__":
    main()
