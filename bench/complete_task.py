"""Completing a task: the engine facade (with its database commit) against bare SpiffWorkflow.

Run: ``python bench/complete_task.py`` (or ``make bench``). Uses PostgreSQL when
``VSW_BENCH_DATABASE_URL`` is set and reachable, else a temporary SQLite file.

1. service vs bare: the same termly-review process, the same step. Bare is what an
   application on SpiffWorkflow alone does per step: deserialize the stored JSON,
   run the task, run engine steps, serialize. Ours adds the database round trips,
   the version check, materialised tasks and timers, audit and the commit.
2. step 54 vs step 1: a child's 54th termly review (0-18 years, three a year) is its
   own bounded instance, completed in a database that holds every earlier review of
   every child. For contrast, the same 54 reviews as one ever-growing instance in
   bare SpiffWorkflow is printed too (docs/engine.md, "Bounded cost").
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from bench.common import bench_database, migrate  # noqa: E402
from casework.terms import default_term_calendar  # noqa: E402
from engine.calendar import BusinessCalendar  # noqa: E402
from engine.clock import FrozenClock  # noqa: E402
from engine.db import make_engine, session_factory, unit_of_work  # noqa: E402
from engine.runtime import Actor, Runtime  # noqa: E402
from engine.service import WorkflowService  # noqa: E402

BPMN = Path(__file__).with_name("termly_review.bpmn")
PEP_TEXT = ("Attendance 94%. Reading age up 8 months. Target: phonics catch-up three times a week, "
            "funded from Pupil Premium Plus. ") * 20  # a review-sized form: about 2.5 KB
STEPS: list[tuple[str, Actor, dict[str, Any]]] = [
    ("complete_pep", Actor("dt", frozenset({"designated_teacher"})), {"pep": PEP_TEXT, "attendance": 94}),
    ("contribute", Actor("sw", frozenset({"social_worker"})), {"contribution": PEP_TEXT[:600]}),
    ("quality_assure", Actor("vsh", frozenset({"vsh"})), {"rating": "green", "feedback": PEP_TEXT[:300]}),
]
CHILDREN = int(os.environ.get("VSW_BENCH_CHILDREN", "8"))
TERMS = 54


BASELINE_RUNTIME = Runtime(calendar=BusinessCalendar(default_term_calendar()))


def engine_now_spiff(at: datetime) -> object:
    """The bare baseline gets the same sandbox and calendar as the service."""
    return BASELINE_RUNTIME.script_engine(at)


class BareSpiff:
    """Bare SpiffWorkflow per step: deserialize -> run -> serialize, full spec in the blob."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_file(str(BPMN))
        self.spec, self.subs = parser.get_spec("bench_review"), parser.get_subprocess_specs("bench_review")
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.at = datetime(2026, 12, 1, 9, tzinfo=UTC)
        self.blob = ""
        self.step = len(STEPS)

    def next_step(self) -> float:
        """Time one step; starts a new review (untimed) when the last one ended."""
        if self.step == len(STEPS):
            wf = BpmnWorkflow(self.spec, self.subs, script_engine=engine_now_spiff(self.at))
            wf.do_engine_steps()
            self.blob, self.step = self.serializer.serialize_json(wf), 0
        element, _actor, data = STEPS[self.step]
        t0 = time.perf_counter()
        wf = self.serializer.deserialize_json(self.blob)
        wf.script_engine = engine_now_spiff(self.at)
        [task] = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == element]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
        self.blob = self.serializer.serialize_json(wf)
        elapsed = time.perf_counter() - t0
        self.step += 1
        return elapsed


def bare_one_instance_loop(terms: int) -> tuple[float, float, int]:
    """The anti-pattern: every review in one instance (RAG red loops back). Step cost at 1 and at ``terms``."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN))
    spec, subs = parser.get_spec("bench_review"), parser.get_subprocess_specs("bench_review")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    wf = BpmnWorkflow(spec, subs, script_engine=engine_now_spiff(at))
    wf.do_engine_steps()
    blob = serializer.serialize_json(wf)
    per_term = []
    for term in range(terms):
        t0 = time.perf_counter()
        for element, _actor, data in STEPS:
            wf = serializer.deserialize_json(blob)
            wf.script_engine = engine_now_spiff(at)
            [task] = [t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == element]
            task.data.update({**data, "rating": "red"} if element == "quality_assure" and term < terms - 1 else data)
            task.run()
            wf.do_engine_steps()
            blob = serializer.serialize_json(wf)
        per_term.append((time.perf_counter() - t0) / len(STEPS))
    return per_term[0], per_term[-1], len(blob)


def service_terms(url: str) -> tuple[list[float], dict[int, list[float]], list[float]]:
    """Every child's 54 reviews, each its own instance; times of every step and per term.

    After each service step, one bare SpiffWorkflow step of the same process runs, so
    both are measured under the same machine conditions (returned third).
    """
    bare = BareSpiff()
    bare_steps: list[float] = []
    factory = session_factory(make_engine(url))
    clock = FrozenClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    runtime = Runtime(calendar=BusinessCalendar(default_term_calendar()))
    with unit_of_work(factory) as session:
        WorkflowService(session, clock, runtime).deploy_file(BPMN)
    starter = Actor("dt", frozenset({"designated_teacher"}))
    all_steps: list[float] = []
    by_term: dict[int, list[float]] = {}
    for term in range(-2, TERMS + 1):  # terms -2..0 warm caches up and are not counted
        clock.advance(timedelta(days=120))
        for child in range(CHILDREN):
            with unit_of_work(factory) as session:
                instance = WorkflowService(session, clock, runtime).start(
                    "bench_review", f"child-{child}", {"term": term}, starter)
            for element, actor, data in STEPS:
                with unit_of_work(factory) as session:
                    [task] = [t for t in WorkflowService(session, clock, runtime).instance_tasks(instance.id)
                              if t.state == "open" and t.element_id == element]
                t0 = time.perf_counter()
                with unit_of_work(factory) as session:
                    WorkflowService(session, clock, runtime).complete(task.id, data, actor)
                elapsed = time.perf_counter() - t0
                bare_elapsed = bare.next_step()
                if term >= 1:
                    all_steps.append(elapsed)
                    bare_steps.append(bare_elapsed)
                    by_term.setdefault(term, []).append(elapsed)
    return all_steps, by_term, bare_steps


def main() -> None:
    with bench_database() as (url, label):
        migrate(url)
        print(f"database: {label}; children: {CHILDREN}; reviews per child: {TERMS}")
        service_all, by_term, bare = service_terms(url)
    first_terms = [t for term in (1, 2) for t in by_term[term]]
    last_terms = [t for term in (TERMS - 1, TERMS) for t in by_term[term]]
    loop_first, loop_last, loop_blob = bare_one_instance_loop(TERMS)
    service_ms, bare_ms = statistics.median(service_all) * 1000, statistics.median(bare) * 1000
    print(f"service complete (median of {len(service_all)}): {service_ms:.2f} ms incl. commit")
    print(f"bare SpiffWorkflow step (median of {len(bare)}): {bare_ms:.2f} ms, no database")
    print(f"service step, reviews 1-2: {statistics.median(first_terms) * 1000:.2f} ms; "
          f"reviews 53-54: {statistics.median(last_terms) * 1000:.2f} ms")
    print(f"contrast, all 54 reviews in ONE bare instance: step at review 1 {loop_first * 1000:.2f} ms, "
          f"at review 54 {loop_last * 1000:.2f} ms ({loop_last / loop_first:.1f}x), blob {loop_blob // 1024} KB")
    print(f"ratio_service_vs_bare: {service_ms / bare_ms:.2f}")
    print(f"ratio_step54_vs_step1: {statistics.median(last_terms) / statistics.median(first_terms):.2f}")


if __name__ == "__main__":
    main()
