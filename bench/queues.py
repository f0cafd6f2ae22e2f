"""The work queue and the operator's counts at a large authority's size (issue 15, item 6).

Run: ``python -m bench.queues``. Needs PostgreSQL: ``VSW_BENCH_DATABASE_URL`` or the local
``postgresql://postgres@127.0.0.1:5432/postgres``, in a throwaway database it creates and drops.

Built with the scale benchmark's builder (``bench/scale.py``'s LARGE set: two authorities, more than
5,000 children and 100,000 open tasks; ``VSW_BENCH_SCALE_CHILDREN`` sets the clones per authority). The
social workers of LA 935 are then put in four teams, and the measured manager (``manager.935.1``) leads
the first; then ``VACUUM ANALYZE``, as autovacuum would soon after the bulk load (without it PostgreSQL cannot
count open tasks from the index alone, and the operator's counts read the whole table: a p95 of 91 ms
instead of 33 ms in the same build on 2 December 2026).

Measured in process on a clock frozen at ``NOW``, each call in a fresh session with the garbage collector
paused (as ``timeit`` does), p50/p95 of ``REPEATS`` calls after ``WARM_UP``:

* **baseline**: the plain inbox's first page for the same manager (``WorkflowService.inbox``), the list
  the issue started from, measured in the same run so the ratio does not depend on the machine;
* **task list**: ``casework.work_queue.task_list`` as the page calls it, for the manager's team view with
  two filters (the PEP process, a due-date range) and a search by part of a child's surname; its first
  page is checked against a plain SQL query of the same rule written here;
* **operator counts**: ``engine.operations.element_counts`` for the PEP process (open tasks, waiting
  timers, message waits and incidents per element);
* the same task list through Flask (``GET /?view=team&...``), signed in as the manager, for the page's
  full cost (information, not a target).

The last two lines are ``tasklist_p95_ms`` (target at most 50) and ``operator_counts_p95_ms`` (target at
most 100).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.settings import Settings  # noqa: E402
from app.wiring import build_runtime  # noqa: E402
from bench.common import bench_database, migrate, signed_in_client  # noqa: E402
from bench.scale import SIZES, count_rows, load_average, p50, p95, seed  # noqa: E402
from bench.scale_seed import NOW, PASSWORD  # noqa: E402
from casework.users import User  # noqa: E402
from casework.work_queue import TaskQuery, task_list  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import make_engine, session_factory  # noqa: E402
from engine.operations import element_counts  # noqa: E402
from engine.runtime import Actor, Runtime  # noqa: E402
from engine.service import WorkflowService  # noqa: E402

MANAGER = "manager.935.1"
TEAMS = ("Team A", "Team B", "Team C", "Team D")
PROCESS = "pep_review"
SEARCH = "pat"  # part of a surname (Patel): about one child in twenty
DUE_FROM, DUE_TO = (NOW - timedelta(days=90)).date(), (NOW + timedelta(days=60)).date()
QUERY = TaskQuery(view="team", process=PROCESS, due_from=DUE_FROM, due_to=DUE_TO, q=SEARCH)
WARM_UP, REPEATS, PAGE_REPEATS = 10, 200, 60


def form_teams(url: str) -> dict[str, int]:
    """Put LA 935's social workers in four teams, round robin; the measured manager leads the first."""
    engine = make_engine(url)
    with engine.begin() as conn:
        workers = conn.execute(text("SELECT username FROM app_user WHERE username LIKE 'sw.935.%' "
                                    "ORDER BY username")).scalars().all()
        for n, username in enumerate(workers):
            conn.execute(text("UPDATE app_user SET team = :team WHERE username = :username"),
                         {"team": TEAMS[n % len(TEAMS)], "username": username})
        conn.execute(text("UPDATE app_user SET team = :team WHERE username = :username"),
                     {"team": TEAMS[0], "username": MANAGER})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as autovacuum does soon after a bulk load like the clone's
    engine.dispose()
    return {team: sum(1 for n in range(len(workers)) if TEAMS[n % len(TEAMS)] == team) for team in TEAMS}


def timed(factory: sessionmaker[Session], call: Callable[[Session], Any], repeats: int = REPEATS) -> tuple[list[float], Any]:
    """Milliseconds of ``call`` in a fresh session each time, after the warm-up; and its last result."""
    samples: list[float] = []
    last: Any = None
    for n in range(WARM_UP + repeats):
        with factory() as session:
            gc.collect()
            gc.disable()  # as timeit does: a collector pause is not the query's cost
            started = time.perf_counter()
            last = call(session)
            elapsed = (time.perf_counter() - started) * 1000
            gc.enable()
        if n >= WARM_UP:
            samples.append(elapsed)
    return samples, last


EXPECTED = text("""
SELECT t.id FROM human_task t JOIN child c ON c.ref = t.business_key
WHERE t.state = 'open' AND t.process_id = :process AND c.la_code = :la
  AND t.due_at > :due_from AND t.due_at <= :due_to
  AND (lower(c.first_name) LIKE :q OR lower(c.last_name) LIKE :q OR lower(c.ref) LIKE :q)
  AND (t.assignee IN (SELECT username FROM app_user WHERE team = :team AND la_code = :la)
       OR c.social_worker IN (SELECT username FROM app_user WHERE team = :team AND la_code = :la))
ORDER BY t.due_at ASC NULLS LAST, t.created_at, t.id
LIMIT :limit
""")
"""The manager's team view as written in docs/work-queues.md, in plain SQL (a manager reads every step of
the shipped processes, so need to know removes nothing here): open tasks of the team's children or held
by the team, with the two filters and the search, soonest due first."""


def check_first_page(factory: sessionmaker[Session], rows: list[Any]) -> int:
    """How many of the expected first page's tasks the list's first page lacks (0 when they agree)."""
    with factory() as session:
        expected = session.execute(EXPECTED, {
            "process": PROCESS, "la": "935", "team": TEAMS[0], "q": f"%{SEARCH}%", "limit": len(rows) or 25,
            "due_from": datetime.combine(DUE_FROM, dt_time(0), UTC),  # the days' bounds as the list has them
            "due_to": datetime.combine(DUE_TO + timedelta(days=1), dt_time(0), UTC),
        }).scalars().all()
    got = [row.task.id for row in rows]
    return len([task_id for task_id in expected if task_id not in got])


def measure_page(url: str) -> list[float]:
    app, client = signed_in_client(url, MANAGER, PASSWORD, NOW)
    path = "/?" + urlencode(QUERY.args())
    samples = []
    for n in range(WARM_UP + PAGE_REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        if n >= WARM_UP:
            samples.append(elapsed)
    app.extensions["vsw"].engine.dispose()
    return samples


def run() -> None:
    print(f"CPUs: {os.cpu_count()}; {load_average()}", flush=True)
    with bench_database() as (url, label):
        if label != "PostgreSQL":
            raise SystemExit("bench/queues.py needs PostgreSQL (VSW_BENCH_DATABASE_URL)")
        migrate(url)
        size = SIZES[1]
        seconds, _ = seed(url, size)
        teams = form_teams(url)
        engine = make_engine(url)
        counts = count_rows(engine)
        print(f"seeded in {seconds['seed']:.1f} s: {counts['children']} children, {counts['open tasks']} open "
              f"tasks, {counts['waiting timers']} waiting timers, {counts['process instances']} instances; "
              f"teams of LA 935's social workers: {teams}", flush=True)
        factory = session_factory(engine)
        runtime: Runtime = build_runtime(Settings(database_url=url), factory)
        clock = FrozenClock(NOW)
        with factory() as session:
            user = session.scalars(select(User).where(User.username == MANAGER)).one()
            actor = Actor(user.username, user.roles_set)

        baseline, _ = timed(factory, lambda s: WorkflowService(s, clock, runtime).inbox(actor, page=1, per_page=25))
        tasklist, page = timed(factory, lambda s: task_list(s, runtime, actor, QUERY, clock=clock))
        missing = check_first_page(factory, list(page.items))
        operator, found = timed(factory, lambda s: element_counts(s, PROCESS))
        http = measure_page(url)
        engine.dispose()

    print(f"\nmanager {MANAGER}, team view, process {PROCESS}, due {QUERY.due_from} to {QUERY.due_to}, "
          f"search '{SEARCH}': {len(page.items)} tasks on the first page (more: {page.has_next}); "
          f"expected tasks missing from it: {missing}")
    print(f"operator counts for {PROCESS}: {len(found)} elements, "
          f"{sum(c.tasks for c in found.values())} open tasks, {sum(c.timers for c in found.values())} timers")
    print(f"in process, ms ({REPEATS} calls)                      p50        p95")
    print(f"  baseline: plain inbox, first page        {p50(baseline):>9.1f} {p95(baseline):>10.1f}")
    print(f"  task list: team view, 2 filters, search  {p50(tasklist):>9.1f} {p95(tasklist):>10.1f}")
    print(f"  operator: per-element counts             {p50(operator):>9.1f} {p95(operator):>10.1f}")
    print(f"through Flask, ms ({PAGE_REPEATS} requests)")
    print(f"  GET / (the same task list, rendered)     {p50(http):>9.1f} {p95(http):>10.1f}")
    print(f"task list p95 / baseline p95: {p95(tasklist) / p95(baseline):.2f}")
    print(f"uptime: {load_average()}")
    if missing:
        print(f"WARNING: {missing} expected tasks missing from the first page")
    print(f"tasklist_p95_ms: {p95(tasklist):.1f}")
    print(f"operator_counts_p95_ms: {p95(operator):.1f}")


def main() -> None:
    os.environ.setdefault("VSW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    run()


if __name__ == "__main__":
    main()
