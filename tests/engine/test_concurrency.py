"""Races and crashes: exactly one of two racing completions wins; a killed process loses only its own step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from engine.errors import Conflict
from engine.models import ProcessInstance
from engine.service import WorkflowService
from tests.conftest import on_postgres
from tests.engine.conftest import OTHER_SOCIAL_WORKER, SOCIAL_WORKER, Harness

DRAFT = {"summary": "Settled well", "meeting_date": "2026-12-03", "attendance_percent": 96}
ROOT = Path(__file__).resolve().parents[2]


def race_once(wf: Harness) -> list[str]:
    with wf() as svc:
        instance = svc.start("review", "child-race", {"started_at": wf.clock.now().isoformat()}, SOCIAL_WORKER)
        [task] = svc.instance_tasks(instance.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(actor_index: int) -> None:
        actor = (SOCIAL_WORKER, OTHER_SOCIAL_WORKER)[actor_index]
        barrier.wait()
        try:
            with wf() as svc:
                svc.complete(task.id, {**DRAFT, "summary": f"by {actor.user_id}"}, actor)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with wf() as svc:
        row = svc.instance(instance.id)
        history = [e.action for e in svc.history(instance.id)]
        open_tasks = [t.element_id for t in svc.instance_tasks(instance.id) if t.state == "open"]
        data = svc.instance_data(instance.id)  # the stored state loads
    assert history.count("task_completed") == 1, history
    assert open_tasks == ["approve"], open_tasks
    assert row.version == 3 and row.status == "running"
    winner = [e for e in outcomes if e == "won"]
    assert data["summary"] in {"by sam", "by sid"} and len(winner) == 1
    return sorted(outcomes)


def test_two_racing_completions_of_one_task_give_one_success_and_one_conflict_every_round(wf: Harness) -> None:
    rounds = 200 if on_postgres() else 40
    results = [race_once(wf) for _ in range(rounds)]
    assert results == [["conflict", "won"]] * rounds


CHILD = """
import os, signal, sys
from sqlalchemy.orm import Session
from engine.db import make_engine, session_factory, unit_of_work
from engine.clock import FrozenClock
from engine.runtime import Actor
from engine.service import WorkflowService
from tests.engine.conftest import TERMS_2026_27
from engine.calendar import BusinessCalendar
from engine.runtime import Runtime
from tests.engine.forms import FORMS
from datetime import datetime, timezone

def die_before_commit(self):
    os.kill(os.getpid(), signal.SIGKILL)

url, task_id = sys.argv[1], sys.argv[2]
Session.commit = die_before_commit  # the process dies with the whole step flushed but not committed
factory = session_factory(make_engine(url))
runtime = Runtime(forms=FORMS, calendar=BusinessCalendar(TERMS_2026_27))
with unit_of_work(factory) as session:
    svc = WorkflowService(session, FrozenClock(datetime(2026, 12, 1, 9, tzinfo=timezone.utc)), runtime)
    svc.complete(task_id, {"summary": "lost", "meeting_date": "2026-12-03", "attendance_percent": 50},
                 Actor("sam", frozenset({"social_worker"})))
print("not killed")
"""


def test_a_process_killed_while_completing_a_task_leaves_the_last_committed_state_which_continues(
    wf: Harness, db_url: str
) -> None:
    with wf() as svc:
        instance = svc.start("review", "child-crash", {"started_at": wf.clock.now().isoformat()}, SOCIAL_WORKER)
        [task] = svc.instance_tasks(instance.id)
        before = svc.instance(instance.id).version
    child = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, task.id], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    with wf() as svc:
        row = svc.session.get(ProcessInstance, instance.id)
        assert row is not None and row.version == before
        assert svc.task(task.id).state == "open"
        assert "task_completed" not in [e.action for e in svc.history(instance.id)]
    with wf() as svc:
        svc.complete(task.id, DRAFT, SOCIAL_WORKER)
    with wf() as svc:
        assert [t.element_id for t in svc.instance_tasks(instance.id) if t.state == "open"] == ["approve"]
        assert svc.instance_data(instance.id)["summary"] == "Settled well"


def test_a_service_never_commits_its_session(wf: Harness) -> None:
    session = wf.factory()
    try:
        svc = WorkflowService(session, wf.clock, wf.runtime)
        svc.start("review", "child-uncommitted", {"started_at": wf.clock.now().isoformat()}, SOCIAL_WORKER)
        session.rollback()
    finally:
        session.close()
    with wf() as svc:
        assert svc.instances("child-uncommitted") == []
