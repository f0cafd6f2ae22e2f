"""Stored state is versioned and tested: golden files at today's format load and run to their end, a
migration registered for an older format is applied in order, and timers reach the serializer and the
parser through SpiffWorkflow's extension points (docs/engine.md, "Stored state")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy.orm import Session, sessionmaker

from engine import state
from engine.clock import FrozenClock
from engine.runtime import SYSTEM, ParsedProcess, Runtime
from engine.state import STATE_FORMAT, StateFormatError
from engine.timers import TIMER_CLASSES, ClockedCycle, ClockedDuration, ClockedTimeDate
from tests.engine.golden.cases import CASES, GOLDEN, ROOT, Driver, golden_files, install, load, runtime_for

GOLDEN_FILES = golden_files()


def parsed(golden: dict[str, Any], runtime: Runtime) -> ParsedProcess:
    bpmn = (GOLDEN / golden["bpmn"]).read_text(encoding="utf-8")
    return runtime.parse(bpmn, Path(golden["bpmn_source"]).name)[golden["process_id"]]


def restore(golden: dict[str, Any], document: dict[str, Any], state_format: int) -> Any:
    runtime = runtime_for(golden["kind"])
    process = parsed(golden, runtime)
    return runtime.serializer.loads(json.dumps(document), state_format, process.spec, process.subprocess_specs)


def tasks_of(workflow: Any) -> dict[str, tuple[Any, ...]]:
    """Every task of a workflow and its subprocesses: spec, state, data and internal data, by id."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        definition = getattr(value, "event_definition", None)  # a caught event an event-based gateway keeps
        if definition is not None:
            return (type(definition).__name__, definition.name, value.payload)
        return value

    workflows = [workflow, *workflow.subprocesses.values()]
    return {str(task.id): (task.task_spec.name, task.state, plain(task.data), plain(task.internal_data))
            for flow in workflows for task in flow.tasks.values()}


# -- the golden files ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_each_golden_file_loads_with_todays_code_and_runs_to_its_end(
    path: Path, factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    golden = load(path)
    case = CASES[golden["case"]]
    driver = Driver(factory, runtime_for(golden["kind"]), clock)
    instance_id = install(driver, golden)
    with driver.service() as svc:  # the engine sees, in the stored state, the tasks and timers the tables hold
        loaded = svc.steps.load(instance_id, clock.now())
    assert loaded.before.ready == {task["id"] for task in golden["human_tasks"]}
    assert {task_id for task_id, _ in loaded.before.timers} == {t["task_id"] for t in golden["waiting_timers"]}

    driver.run(instance_id, case.then)
    assert driver.status(instance_id) == case.ends
    assert (driver.open_tasks(instance_id), driver.waiting_timers(instance_id)) == ([], [])


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_each_golden_state_survives_being_written_back_and_read_again(path: Path) -> None:
    golden = load(path)
    workflow = restore(golden, golden["state"], golden["state_format"])
    runtime = runtime_for(golden["kind"])
    again = restore(golden, json.loads(runtime.serializer.dumps(workflow)), STATE_FORMAT)
    assert tasks_of(again) == tasks_of(workflow)
    assert tasks_of(workflow)  # not vacuous


def test_every_golden_file_records_its_format_its_case_and_the_bpmn_it_ran_on() -> None:
    import hashlib

    assert GOLDEN_FILES
    for path in GOLDEN_FILES:
        golden = load(path)
        assert path.name == f"{golden['case']}.f{golden['state_format']}.json"
        assert golden["case"] in CASES, f"{path.name}: no case '{golden['case']}' in tests/engine/golden/cases.py"
        assert 1 <= golden["state_format"] <= STATE_FORMAT
        assert golden["state"]["serializer_version"]
        bpmn = (GOLDEN / golden["bpmn"]).read_bytes()
        assert hashlib.sha256(bpmn).hexdigest() == golden["bpmn_sha256"], f"{path.name}: its BPMN copy changed"


def test_the_golden_files_cover_every_process_a_user_task_a_timer_a_multi_instance_and_an_event_gateway() -> None:
    goldens = [load(path) for path in GOLDEN_FILES if load(path)["state_format"] == STATE_FORMAT]
    processes = {f"processes/{p.name}" for p in (ROOT / "processes").glob("*.bpmn")}
    assert processes <= {g["bpmn_source"] for g in goldens}
    assert any(g["human_tasks"] for g in goldens) and any(g["waiting_timers"] for g in goldens)
    assert any(t["element_id"] == "confirm_action_done" for g in goldens for t in g["human_tasks"])  # inside the MI
    assert any(t["element_id"] == "reply_or_silence" for g in goldens for t in g["waiting_timers"])  # the gateway


# -- migrations ---------------------------------------------------------------------------------------------

def _gateway_golden() -> dict[str, Any]:
    return load(GOLDEN / f"gateway_timer_wins.f{STATE_FORMAT}.json")


def test_loads_applies_a_migration_registered_for_an_older_format(monkeypatch: pytest.MonkeyPatch) -> None:
    golden = _gateway_golden()
    # a made-up format 0 that called each task's internal data "internal"
    older = json.loads(json.dumps(golden["state"]))
    for task in older["tasks"].values():
        task["internal"] = task.pop("internal_data")

    def rename_back(document: dict[str, Any]) -> dict[str, Any]:
        for task in document["tasks"].values():
            task["internal_data"] = task.pop("internal")
        return document

    monkeypatch.setitem(state.MIGRATIONS, 0, rename_back)
    assert tasks_of(restore(golden, older, 0)) == tasks_of(restore(golden, golden["state"], STATE_FORMAT))


def test_loads_applies_migrations_one_format_at_a_time_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    golden = _gateway_golden()
    applied: list[int] = []

    def wrap(document: dict[str, Any]) -> dict[str, Any]:  # format 1 -> 2: the document moves under a key
        applied.append(1)
        return {"workflow": document}

    def unwrap(document: dict[str, Any]) -> dict[str, Any]:  # format 2 -> 3: and back (fails if run first)
        applied.append(2)
        return dict(document["workflow"])

    monkeypatch.setattr(state, "STATE_FORMAT", 3)  # today's format 1 is the oldest of three
    monkeypatch.setitem(state.MIGRATIONS, 1, wrap)
    monkeypatch.setitem(state.MIGRATIONS, 2, unwrap)
    workflow = restore(golden, golden["state"], 1)
    assert applied == [1, 2]
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks() if t.task_spec.bpmn_id == "reply_or_silence"]


def test_state_in_a_format_with_no_migration_is_refused_with_a_one_line_reason() -> None:
    golden = _gateway_golden()
    with pytest.raises(StateFormatError) as refused:
        restore(golden, golden["state"], 0)
    assert refused.value.message == (
        "stored state is in format 0, and there is no migration from format 0 to 1 (engine.state.MIGRATIONS)")


def test_state_newer_than_the_code_is_refused_with_a_one_line_reason() -> None:
    golden = _gateway_golden()
    with pytest.raises(StateFormatError) as refused:
        restore(golden, golden["state"], STATE_FORMAT + 1)
    assert refused.value.message == (
        f"stored state is in format {STATE_FORMAT + 1}, newer than this code's format {STATE_FORMAT}: "
        "run the newer code")


# -- extension points, not patches ---------------------------------------------------------------------------

def _timer_definitions(process: ParsedProcess) -> list[Any]:
    found: list[Any] = []
    for spec in [process.spec, *process.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            inner = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            found.extend(d for d in inner if isinstance(d, TimerEventDefinition))
    return found


def test_the_parser_gives_every_timer_in_every_process_the_engine_clock() -> None:
    runtime = Runtime()
    files = [*sorted((ROOT / "processes").glob("*.bpmn")),
             *(ROOT / "tests/engine/bpmn" / name for name in ("timers.bpmn", "review.bpmn", "gateway.bpmn"))]
    timers = [definition for path in files
              for process in runtime.parse(path.read_text(encoding="utf-8"), path.name).values()
              for definition in _timer_definitions(process)]
    assert {type(t) for t in timers} == {ClockedTimeDate, ClockedDuration, ClockedCycle}
    assert all(isinstance(t, TIMER_CLASSES) for t in timers)


def test_a_multi_instance_begun_in_one_process_finishes_in_another(
    factory: sessionmaker[Session], clock: FrozenClock,
) -> None:
    """Each web worker and the scheduler parse their own spec; a PEP's actions, started by one, end in another."""
    case = CASES["pep_review_inside_the_action_multi_instance"]
    first = Driver(factory, runtime_for("processes"), clock)
    with first.service() as svc:
        svc.deploy_file(ROOT / case.bpmn)
        instance_id = svc.start(case.process_id, case.business_key, case.start, SYSTEM).id
    first.run(instance_id, case.before)
    other = Driver(factory, runtime_for("processes"), clock)  # a fresh parse, as in another process
    other.run(instance_id, case.then)
    assert other.status(instance_id) == "completed"
    with other.service() as svc:  # each action's outcome merged once
        outcomes = svc.instance_data(instance_id)["action_outcomes"]
    assert sorted(o["description"] for o in outcomes) == ["Buy a reading scheme", "Speech and language referral"]
