"""What the benchmarks share: a throwaway database, PostgreSQL if reachable, else SQLite."""

from __future__ import annotations

import multiprocessing
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import func, text
from sqlalchemy.engine import make_url

from engine.db import make_engine

ROOT = Path(__file__).resolve().parent.parent


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


@contextmanager
def bench_database() -> Iterator[tuple[str, str]]:
    """Yields (url, label) of an empty database that is dropped afterwards."""
    base = os.environ.get("VSW_BENCH_DATABASE_URL", "")
    if base:
        if base.startswith("postgresql://"):
            base = "postgresql+psycopg://" + base[len("postgresql://"):]
        name = f"vsw_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as error:  # noqa: BLE001 - fall back to SQLite, and say so
            print(f"PostgreSQL at {make_url(base).render_as_string()} not usable ({type(error).__name__}); using SQLite")
            admin.dispose()
            base = ""
        else:
            url = make_url(base).set(database=name).render_as_string(hide_password=False)
            try:
                yield url, "PostgreSQL"
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
            return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db", "SQLite (WAL)"


# -- many due timers, and scheduler processes racing over them (bench/timers.py, tests/scheduler) --------

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def clone_instances(url: str, template_ids: list[int], total: int) -> int:
    """Copy running instances (state + waiting timers) in bulk SQL until ``total`` exist; returns how many were added.

    Each copy gets fresh task UUIDs throughout its state, and its timer rows point at
    the copied task ids, so the engine loads and fires it like any started instance.
    Only the instance and its waiting timers are copied (no audit, no human tasks).
    """
    from sqlalchemy import insert, select

    from engine.db import session_factory, unit_of_work
    from engine.models import ProcessInstance, TimerRow

    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        templates = list(session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(template_ids))))
        timers = list(session.scalars(select(TimerRow).where(TimerRow.instance_id.in_(template_ids),
                                                            TimerRow.state == "waiting")))
        next_id = (session.scalar(select(func.max(ProcessInstance.id))) or 0) + 1
        instances: list[dict[str, Any]] = []
        timer_rows: list[dict[str, Any]] = []
        copies = max(0, total - len(templates))
        for n in range(copies):
            template = templates[n % len(templates)]
            state, fresh = _fresh_uuids(template.state)
            instance_id = next_id + n
            instances.append({
                "id": instance_id, "definition_id": template.definition_id, "process_id": template.process_id,
                "business_key": f"{template.business_key}-copy-{n}", "status": "running", "version": 1,
                "state_format": template.state_format, "state": state, "started_at": template.started_at,
                "started_by": template.started_by, "updated_at": template.updated_at, "ended_at": None,
            })
            timer_rows.extend({
                "instance_id": instance_id, "task_id": fresh[t.task_id], "element_id": t.element_id,
                "name": t.name, "due_at": t.due_at, "state": "waiting",
            } for t in timers if t.instance_id == template.id)
        for start in range(0, len(instances), 1000):
            session.execute(insert(ProcessInstance), instances[start:start + 1000])
        for start in range(0, len(timer_rows), 2000):
            session.execute(insert(TimerRow), timer_rows[start:start + 2000])
        if engine.dialect.name == "postgresql":
            session.execute(text("SELECT setval(pg_get_serial_sequence('process_instance', 'id'), "
                                 "(SELECT max(id) FROM process_instance))"))
    with engine.connect() as conn:  # after a bulk load, as autovacuum soon would: the planner sees the rows
        conn.execute(text("ANALYZE process_instance" if engine.dialect.name == "postgresql" else "ANALYZE"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE waiting_timer"))
        conn.commit()
    engine.dispose()
    return copies


def _fresh_uuids(state: str) -> tuple[str, dict[str, str]]:
    fresh: dict[str, str] = {}
    return UUID_TEXT.sub(lambda m: fresh.setdefault(m.group(0), str(uuid.uuid4())), state), fresh


def timer_fired_counts(url: str) -> tuple[int, int]:
    """(timer_fired audit rows, timers fired more than once) over the whole database."""
    engine = make_engine(url)
    with engine.connect() as conn:
        fired = conn.execute(text("SELECT count(*) FROM audit_event WHERE action = 'timer_fired'")).scalar_one()
        duplicates = conn.execute(text(
            "SELECT count(*) FROM (SELECT task_id FROM audit_event WHERE action = 'timer_fired' "
            "GROUP BY task_id HAVING count(*) > 1) AS d")).scalar_one()
    engine.dispose()
    return int(fired), int(duplicates)


def scheduler_process(url: str, as_of: str, batch: int, ready: Any, results: Any) -> None:
    """One scheduler PROCESS (multiprocessing target, spawn): its own engine, one pass of the timer job.

    Waits at ``ready`` (a barrier shared with the others and the parent) so all start
    together; puts ``(pid, fired, instances, skipped, failed, finished_monotonic)``.
    """
    from engine.clock import FrozenClock
    from engine.db import session_factory
    from engine.runtime import Runtime
    from scheduler import Jobs

    engine = make_engine(url, pool_size=2, max_overflow=2) if url.startswith("postgresql") else make_engine(url)
    with engine.connect():
        pass  # the connection is open before the race starts
    jobs = Jobs(session_factory(engine), Runtime(), FrozenClock(datetime.fromisoformat(as_of)), batch=batch)
    ready.wait()
    report = jobs.fire_timers()
    finished = time.monotonic()
    engine.dispose()
    results.put((os.getpid(), report.fired, report.instances, report.skipped, report.failed, finished))


def race_schedulers(url: str, as_of: str, processes: int, batch: int = 50) -> tuple[float, list[tuple[Any, ...]]]:
    """Start ``processes`` scheduler processes together; returns (seconds from start to the last one done, reports)."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [context.Process(target=scheduler_process, args=(url, as_of, batch, ready, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    ready.wait(timeout=120)
    started = time.monotonic()
    reports = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise RuntimeError(f"scheduler process {worker.pid} exited with {worker.exitcode}")
    return max(r[-1] for r in reports) - started, reports


def signed_in_client(url: str, username: str, password: str, now: datetime) -> tuple[Any, Any]:
    """The web app on ``url`` with its clock frozen at ``now``, and a Flask test client signed in as
    ``username``: (app, client). Dispose of ``app.extensions["vsw"].engine`` when done."""
    from app.settings import Settings
    from app.wiring import build_runtime
    from engine.clock import FrozenClock
    from web import create_app

    settings = Settings(database_url=url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench-secret", "DATABASE_URL": url,
                      "VSW_CLOCK": FrozenClock(now)}, build_runtime=lambda sessions: build_runtime(settings, sessions))
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "the login page has no CSRF field"
    signed_in = client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
    assert signed_in.status_code == 302, f"signing in answered {signed_in.status_code}"
    return app, client
