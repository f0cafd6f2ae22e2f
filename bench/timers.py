"""Firing 10,000 due timers on PostgreSQL with one scheduler process, then with three.

Run: ``python -m bench.timers``. Uses ``VSW_BENCH_DATABASE_URL`` or the local
PostgreSQL ``postgresql://postgres@127.0.0.1:5432/postgres``, in a throwaway
database it creates and drops.

Set-up: a few instances of a timer process (``tests/engine/bpmn/timers.bpmn``: a
timer start event, then a two-day wait) are started through the engine, then
cloned in bulk SQL to 10,000, each waiting on its start timer. Each scheduler
process has its own engine and runs one pass of the timer job (claim a batch with
``FOR UPDATE SKIP LOCKED``, fire them all in one transaction, commit). Firing a timer here
means: load the instance, fire it, reach the next timer, save state, write the
audit row, mark the timer fired and insert the next one.

Baseline, measured in the same run: bare SpiffWorkflow firing the same timer in
memory (deserialize the same stored state, refresh timers, run engine steps,
serialize) — no database.

The last two lines are ``timers_per_second_1: <x>`` and ``duplicates: <n>``
(timers fired more than once over both runs, from the audit; must be 0).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.common import bench_database, clone_instances, migrate, race_schedulers, timer_fired_counts  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import make_engine, session_factory, unit_of_work  # noqa: E402
from engine.models import ProcessDefinition, ProcessInstance  # noqa: E402
from engine.runtime import Actor, Runtime  # noqa: E402
from engine.service import WorkflowService  # noqa: E402

BPMN = Path(__file__).resolve().parent.parent / "tests" / "engine" / "bpmn" / "timers.bpmn"
TIMERS = int(os.environ.get("VSW_BENCH_TIMERS", "10000"))
TEMPLATES = 20
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AS_OF = START + timedelta(days=1)  # every start timer is due; the two-day waits they reach are not
STARTER = Actor("bench", frozenset({"social_worker"}))


def seed(url: str, label: str) -> list[int]:
    """TIMERS instances, each with one due start timer: a few started by the engine, the rest cloned."""
    factory = session_factory(make_engine(url))
    clock = FrozenClock(START)
    runtime = Runtime()
    with unit_of_work(factory) as session:
        service = WorkflowService(session, clock, runtime)
        service.deploy_file(BPMN)
        ids = [service.start("timers", f"{label}-{n}", {"begin_at": (START - timedelta(minutes=7 * n)).isoformat()},
                             STARTER).id for n in range(TEMPLATES)]
    clone_instances(url, ids, TIMERS)
    return ids


def bare_rate(url: str, template_id: int, rounds: int = 2000) -> float:
    """Timers per second for bare SpiffWorkflow: deserialize, fire, serialize, in memory."""
    runtime = Runtime()
    factory = session_factory(make_engine(url))
    with factory() as session:
        row = session.scalars(select(ProcessInstance).where(ProcessInstance.id == template_id)).one()
        spec_row = session.get(ProcessDefinition, row.definition_id)
        assert spec_row is not None
        parsed = runtime.spec(spec_row.process_id, spec_row.bpmn_xml, spec_row.filename)
        state, state_format = row.state, row.state_format
    started = time.perf_counter()
    for _ in range(rounds):
        workflow = runtime.serializer.loads(state, state_format, parsed.spec, parsed.subprocess_specs)
        workflow.script_engine = runtime.script_engine(AS_OF)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.WAITING)
                if t.task_spec.bpmn_id == "wait_two_days"]
        runtime.serializer.dumps(workflow)
    return rounds / (time.perf_counter() - started)


def run(url: str, processes: int) -> float:
    seconds, reports = race_schedulers(url, AS_OF.isoformat(), processes)
    fired = sum(r[1] for r in reports)
    failed = sum(r[4] for r in reports)
    per_process = ", ".join(f"{r[1]}" for r in reports)
    print(f"{processes} scheduler(s): fired {fired} timers in {seconds:.2f} s "
          f"({fired / seconds:.0f}/s; per process {per_process}; failed {failed})")
    if fired != TIMERS or failed:
        raise SystemExit(f"expected {TIMERS} timers fired and none failed")
    return float(fired / seconds)


def main() -> None:
    os.environ.setdefault("VSW_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with bench_database() as (url, label):
        migrate(url)
        print(f"database: {label}; due timers per run: {TIMERS}; CPUs: {os.cpu_count()}")
        t0 = time.perf_counter()
        templates = seed(url, "one")
        print(f"set-up: {TIMERS} instances in {time.perf_counter() - t0:.1f} s")
        rate_1 = run(url, 1)
        t0 = time.perf_counter()
        seed(url, "three")
        print(f"set-up: {TIMERS} more instances in {time.perf_counter() - t0:.1f} s")
        rate_3 = run(url, 3)
        bare = bare_rate(url, templates[0])
        fired, duplicates = timer_fired_counts(url)
    print(f"bare SpiffWorkflow, same timer in memory (no database): {bare:.0f}/s")
    print(f"ratio_one_scheduler_vs_bare: {rate_1 / bare:.2f}")
    print(f"timers_per_second_3: {rate_3:.0f}")
    print(f"timer_fired audit rows over both runs: {fired}")
    print(f"timers_per_second_1: {rate_1:.0f}")
    print(f"duplicates: {duplicates}")


if __name__ == "__main__":
    main()
