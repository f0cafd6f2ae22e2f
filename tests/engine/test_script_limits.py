"""Scripts are bounded: a runaway script fails its own step within the bound, and every other timer fires.

Each runaway runs in a forked child process whose address space is capped (:func:`in_child`): if a
bound were missing, the child would be killed after a timeout or fail with MemoryError, and the test
would fail, instead of hanging the run or exhausting the machine.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from xml.sax.saxutils import escape

import pytest
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import BusinessCalendar
from engine.clock import FrozenClock
from engine.db import make_engine, session_factory
from engine.errors import DeploymentError, ProcessError, ScriptLimitExceeded, ScriptRefused
from engine.runtime import Runtime
from engine.sandbox import SandboxEnvironment, ScriptLimits, check_source
from engine.timer_pump import FireReport, fire_due_timers
from tests.engine.conftest import SOCIAL_WORKER, TERMS_2026_27, Harness

CPU_SECONDS = 0.2
LIMITS = ScriptLimits(cpu_seconds=CPU_SECONDS)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T = TypeVar("T")

# -- running a runaway safely -----------------------------------------------------------------------


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


def in_child(work: Callable[[], T], timeout: float = 60.0) -> T:
    """``work()`` in a forked process allowed 1 GiB more address space; its result, or the test fails."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    cap = _address_space() + (1 << 30)

    def child() -> None:
        # The parent's objects are shared copy-on-write: a collection walking them would copy every page
        # and charge this child's CPU clock for it, so leave them out of the child's collections.
        gc.freeze()
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            writer.send(("ok", work()))
        except BaseException as error:  # noqa: BLE001 - reported to the test, whatever it was
            writer.send(("raised", f"{type(error).__name__}: {error}"))

    process = context.Process(target=child)
    process.start()
    try:
        if not reader.poll(timeout):
            pytest.fail(f"still running after {timeout:g} s: the bound did not stop it")
        outcome, value = reader.recv()
    finally:
        process.kill()
        process.join()
    if outcome != "ok":
        pytest.fail(f"the child failed: {value}")
    result: T = value
    return result


# -- a process with a runaway script after a timer ---------------------------------------------------

SCRIPT = """\
if payload == "loop":
    while True:
        pass
elif payload == "power":
    result = 10 ** 10 ** n
elif payload == "list":
    result = [0] * 10 ** n
elif payload == "ljust":
    result = "a".ljust(10 ** n)
elif payload == "comprehension":
    result = [i for i in range(10 ** n)]
elif payload == "number":
    result = 10 ** n
else:
    result = "done"
"""
CONDITION = 'payload != "condition" or sum(range(10 ** n)) >= 0'
RUNAWAY_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_runaway"
                  targetNamespace="http://vsw.example/test">
  <bpmn:process id="runaway" name="Runaway script" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_sw" name="social_worker"><bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="Wait a day">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="t_wait"><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="work" name="Work">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{escape(SCRIPT)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route" default="f_default">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f_ok</bpmn:outgoing><bpmn:outgoing>f_default</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="after" name="After the work">
      <bpmn:incoming>f_ok</bpmn:incoming><bpmn:incoming>f_default</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="work"/>
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="route"/>
    <bpmn:sequenceFlow id="f_ok" sourceRef="route" targetRef="after">
      <bpmn:conditionExpression>{escape(CONDITION)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_default" sourceRef="route" targetRef="after"/>
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

SIZE = "would build a value larger than 1,000,000 items"
DIGITS = "would build a number of more than 4,000 digits"
CPU = f"ran for more than {CPU_SECONDS:g} seconds of CPU time"
# (payload, n, the start of the failed step's message)
PAYLOADS = [
    ("loop", 0, f"script in element 'work' {CPU} (line 3: pass)"),
    ("power", 8, f"script in element 'work' {DIGITS} (line 5: result = 10 ** 10 ** n)"),
    ("list", 9, f"script in element 'work' {SIZE} (line 7: result = [0] * 10 ** n)"),
    ("ljust", 10, f"script in element 'work' {SIZE} (line 9: result = \"a\".ljust(10 ** n))"),
    ("comprehension", 12, f"script in element 'work' {CPU} (line 11: result = [i for i in range(10 ** n)])"),
    ("number", 5000, f"script in element 'work' {DIGITS} (line 13: result = 10 ** n)"),
    ("condition", 12, f"expression in element 'route' {CPU} (line 1)"),
]


@pytest.fixture
def runaway(factory: sessionmaker[Session], clock: FrozenClock) -> Harness:
    harness = Harness(factory, clock, Runtime(calendar=BusinessCalendar(TERMS_2026_27), limits=LIMITS))
    with harness() as svc:
        svc.deploy_text(RUNAWAY_XML, "runaway.bpmn")
    return harness


def start(wf: Harness, payload: str, n: int) -> int:
    with wf() as svc:
        return svc.start("runaway", f"child-{payload}", {"payload": payload, "n": n}, SOCIAL_WORKER).id


def pump_in_own_process(db_url: str, runtime: Runtime, clock: FrozenClock) -> tuple[FireReport, float]:
    """One pass of the timer pump, with its own database engine; and the CPU time the pass took."""
    engine = make_engine(db_url)
    try:
        began = time.thread_time()
        report = fire_due_timers(session_factory(engine), runtime, clock)
        return report, time.thread_time() - began
    finally:
        engine.dispose()


@pytest.mark.parametrize(("payload", "n", "message"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_a_runaway_fails_its_own_step_within_the_bound_while_five_other_timers_fire_in_the_same_pass(
    runaway: Harness, db_url: str, payload: str, n: int, message: str,
) -> None:
    # The baseline, measured in the same run: a pass firing six harmless instances' timers.
    for _ in range(6):
        start(runaway, "harmless", 0)
    runaway.clock.set(START + timedelta(days=1))
    baseline_report, baseline = in_child(lambda: pump_in_own_process(db_url, runaway.runtime, runaway.clock))
    assert baseline_report.fired == 6
    runaway_id = start(runaway, payload, n)  # the oldest of the next six: the pump reaches it first
    others = [start(runaway, "harmless", 0) for _ in range(5)]
    runaway.clock.set(START + timedelta(days=2))

    report, cpu = in_child(lambda: pump_in_own_process(db_url, runaway.runtime, runaway.clock))

    assert cpu < baseline + 3 * CPU_SECONDS, f"the pass took {cpu:.2f} s of CPU time (baseline {baseline:.2f} s)"
    assert (report.fired, report.instances, report.failed) == (5, 5, 1)
    [(failed_id, reason)] = report.failures
    assert failed_id == runaway_id
    assert reason == message
    with runaway() as svc:
        for other in others:
            assert [t.element_id for t in svc.instance_tasks(other) if t.state == "open"] == ["after"]
            assert svc.instance_data(other)["result"] == "done"
        # nothing of the failed step was saved: still waiting for its timer, no result, no timer fired
        assert [t.element_id for t in svc.waiting_timers(runaway_id)] == ["wait"]
        assert svc.instance_tasks(runaway_id) == []
        assert "result" not in svc.instance_data(runaway_id)
        assert "timer_fired" not in [event.action for event in svc.history(runaway_id)]


def test_the_failed_step_raises_script_limit_exceeded_a_process_error_naming_the_element(
    runaway: Harness, db_url: str,
) -> None:
    runaway_id = start(runaway, "loop", 0)
    as_of = START + timedelta(days=1)

    def fire() -> tuple[str, bool, str]:
        engine = make_engine(db_url)
        try:
            with session_factory(engine)() as session:
                from engine.service import WorkflowService

                WorkflowService(session, FrozenClock(as_of), runaway.runtime).fire_instance_timers(runaway_id, as_of)
        except ProcessError as error:
            return type(error).__name__, isinstance(error, ScriptLimitExceeded), error.message
        finally:
            engine.dispose()
        return "nothing raised", False, ""

    kind, is_limit, message = in_child(fire)
    assert (kind, is_limit) == ("ScriptLimitExceeded", True)
    assert message == f"script in element 'work' {CPU} (line 3: pass)"


# -- the sandbox on its own ----------------------------------------------------------------------------

def execute(script: str, limits: ScriptLimits = LIMITS) -> tuple[str, float]:
    """Run a script in the bounded sandbox: what it raised (or left in task data), and its CPU time."""
    env = SandboxEnvironment(limits=limits)
    began = time.thread_time()
    try:
        context: dict[str, Any] = {}
        env.execute(script, context)
        outcome = f"stored {sorted(context)}"
    except ScriptLimitExceeded as error:
        outcome = error.message
    return outcome, time.thread_time() - began


SCRIPTS = [
    ("while True:\n    pass", f"script {CPU} (line 2: pass)"),
    ("x = 10**10**8", f"script {DIGITS} (line 1: x = 10**10**8)"),
    ("x = [0]*10**9", f"script {SIZE} (line 1: x = [0]*10**9)"),
    ('x = "a".ljust(10**10)', f'script {SIZE} (line 1: x = "a".ljust(10**10))'),
    ("x = [i for i in range(10**12)]", f"script {CPU} (line 1: x = [i for i in range(10**12)])"),
    ("x = sum(range(10**12))", f"script {CPU} (line 1: x = sum(range(10**12)))"),
    ("x = list(range(10**12))", f"script {SIZE} (line 1: x = list(range(10**12)))"),
    ("x = [1 for a in range(1000) for b in range(1000) for c in range(1000)]", f"script {CPU} (line 1: "),
    ("def f(n):\n    return f(n + 1)\nx = f(0)", "script called itself too deeply"),
    ("x = 1 << 10**8", f"script {DIGITS}"),
    ("x = math.prod([10**100] * 100)", f"script {DIGITS}"),
    ("x = str.center('a', 10**10)", f"script {SIZE}"),
    ("x = ('\\t' * 10).expandtabs(10**9)", f"script {SIZE}"),
    ("x = 'abc'.replace('', 'y' * 10**6)", f"script {SIZE}"),
    ("x = ','.join(['a' * 1000] * 2000)", f"script {SIZE}"),
    ("x = (1).to_bytes(10**10, 'big')", f"script {SIZE}"),
    ("x = [0] * 10**6\nx.extend(x)", f"script {SIZE}"),
    ("x = [0] * 10**6\nx += x", f"script {SIZE}"),
    ("x = 'a' * 10**6\nx *= 2", f"script {SIZE}"),
    ("x = sum([[0] * 1000] * 2000, [])", f"script {SIZE}"),
    ("w = 10**10\nx = f'{1:>{w}}'", f"script {SIZE}"),
    ("x = '%10000000000s' % 'a'", f"script {SIZE}"),
    ("x = '%*s' % (10**10, 'a')", f"script {SIZE}"),
    ("x = ['a' * 10**6] * 1000", "script would store a value larger than 1,000,000 items in 'x'"),
    ("x = 1\nfor i in range(14000):\n    x = x + x", "script would store a number of more than 4,000 digits in 'x'"),
    ("x = []\nfor i in range(10000):\n    x = [x]", "script would store data nested too deeply in 'x'"),
    # the bound cannot be caught and ignored
    ("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
     f"script {CPU}"),
    ("while True:\n    try:\n        while True:\n            pass\n    except:\n        pass", f"script {CPU}"),
    ("try:\n    x = [0] * 10**9\nexcept:\n    x = 1", f"script {SIZE}"),
]


@pytest.mark.parametrize(("script", "message"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_each_runaway_script_fails_with_a_clear_message_within_the_bound(script: str, message: str) -> None:
    outcome, cpu = in_child(lambda: execute(script))
    assert outcome.startswith(message)
    assert cpu < 3 * CPU_SECONDS, f"{cpu:.2f} s of CPU time"


def test_a_script_whose_memory_keeps_growing_is_stopped_by_the_memory_bound() -> None:
    limits = ScriptLimits(cpu_seconds=30, max_memory_mb=64)
    outcome, cpu = in_child(lambda: execute("keep = []\nwhile True:\n    keep.append([0] * 10**5)", limits))
    assert outcome == "script used more than 64 MB of memory (line 3: keep.append([0] * 10**5))"
    assert cpu < 5


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("sum(range(10**12))", f"expression {CPU} (line 1)"),
        ("max(i for i in range(10**12))", f"expression {CPU} (line 1)"),
        ("sorted(range(10**12))", f"expression {SIZE} (line 1)"),
        ("len(range(10**12))", f"expression {SIZE} (line 1)"),
        ("10**10**8 > 0", f"expression {DIGITS} (line 1)"),
        ("len('a' * 10**10)", f"expression {SIZE} (line 1)"),
        ("(lambda f: f(f))(lambda f: f(f))", "expression called itself too deeply"),
    ],
)
def test_each_runaway_expression_fails_with_a_clear_message_within_the_bound(expression: str, message: str) -> None:
    def evaluate() -> tuple[str, float]:
        began = time.thread_time()
        try:
            SandboxEnvironment(limits=LIMITS).evaluate(expression, {})
        except ScriptLimitExceeded as error:
            return error.message, time.thread_time() - began
        return "nothing raised", 0.0

    outcome, cpu = in_child(evaluate)
    assert outcome.startswith(message)
    assert cpu < 3 * CPU_SECONDS


def test_a_long_range_is_lazy_so_a_loop_that_stops_early_still_works() -> None:
    env = SandboxEnvironment(limits=LIMITS)
    data: dict[str, Any] = {}
    env.execute("for i in range(10**12):\n    if i == 5:\n        break\nfirst = i\nbig = 10**12 - 1 in range(10**12)\n"
                "last = range(10**12)[-1]\nkind = isinstance(range(10**12), range)", data)
    assert data == {"i": 5, "first": 5, "big": True, "last": 10**12 - 1, "kind": True}


def test_bounded_scripts_mean_what_plain_python_means() -> None:
    script = """\
a = b = [1]
a += [2]
a *= 2
s = 'ab'
s += 'cd'
n = 7
n **= 2
n <<= 2
n %= 100
calls = []
def key():
    calls.append(1)
    return 'k'
d = {'k': [1]}
d[key()] += [2]
d['k'][0:1] += [9, 8]
t = (1,) + (2,) * 2
text = '%s-%05.1f' % ('a', 2.25) + '%(x)s' % {'x': 'y'}
f = f'{3.14159:.2f}|{s!r:>8}|{7:03d}|{s:*^9}|{12345:,}'
joined = ', '.join(str(i) for i in range(3)).center(12, '.').replace('.', '-')
total = sum(v * v for v in range(10)) + math.prod([2, 3]) + (1 << 10)
sorted_by = sorted(['bb', 'a', 'ccc'], key=lambda v: -len(v))
"""
    bounded: dict[str, Any] = {}
    SandboxEnvironment().execute(script, bounded)
    plain: dict[str, Any] = {"math": __import__("math")}
    exec(script, plain)  # noqa: S102 - the same script, unbounded, for comparison
    expected = {k: list(v) if isinstance(v, tuple) else v for k, v in plain.items()
                if k not in ("__builtins__", "key", "math")}
    assert bounded == expected
    assert bounded["calls"] == [1]  # d[key()] += ... still calls key() once


@pytest.mark.parametrize("script", ["__vsw_tick = None", "x = __vsw_mul", "def f(__vsw_tick):\n    return 1"])
def test_a_script_cannot_name_the_bounds_own_helpers(script: str) -> None:
    with pytest.raises(ScriptRefused, match="access to '__vsw_"):
        check_source(script)


def test_one_threads_runaway_does_not_touch_another_threads_budget() -> None:
    outcome: list[str] = []

    def runaway() -> None:
        outcome.append(execute("while True:\n    pass")[0])

    worker = threading.Thread(target=runaway, daemon=True)  # daemon: were it unbounded, the run still ends
    worker.start()
    env = SandboxEnvironment(limits=LIMITS)
    quick, began = 0, time.monotonic()
    while worker.is_alive() and time.monotonic() - began < 30:
        assert env.evaluate("x + 1", {"x": quick}) == quick + 1
        quick += 1
    assert outcome == [f"script {CPU} (line 2: pass)"]
    assert quick > 0


# -- at deploy, and when saved -------------------------------------------------------------------------

def one_element_xml(script: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs_one"
                  targetNamespace="http://vsw.example/test">
  <bpmn:process id="one" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="deep" name="Deep"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="deep"/>
    <bpmn:sequenceFlow id="f2" sourceRef="deep" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("x = " + "(" * 100_000 + "1" + ")" * 100_000, "too many nested parentheses"),
        ("x = " + "-" * 100_000 + "1", "it nests too deeply to be compiled"),
        ("x = " + "[" * 100_000 + "]" * 100_000, "too many nested parentheses"),
        ("x = " + "+".join(["1"] * 100_000), "it nests too deeply to be compiled"),
        ("x = " + "-" * 300 + "1", "it nests more than 200 levels deep"),
        ("x = 1\n" * 200_000, "it is longer than 1,000,000 characters"),
    ],
    ids=["parentheses", "minus", "brackets", "sum", "300-deep", "long"],
)
def test_a_deeply_nested_script_is_refused_at_deploy_with_one_line_naming_the_element(
    wf: Harness, script: str, problem: str,
) -> None:
    with pytest.raises(DeploymentError) as refused, wf() as svc:
        svc.deploy_text(one_element_xml(script), "deep.bpmn")
    message = refused.value.message
    assert message.startswith("deep.bpmn: element 'deep': script: ")
    assert problem in message
    assert "\n" not in message and len(message) < 200


def test_a_huge_number_fails_the_step_as_a_process_error_naming_the_line_not_a_value_error_at_save(
    wf: Harness,
) -> None:
    with wf() as svc:
        svc.deploy_text(one_element_xml("x = 10**5000"), "huge.bpmn")
    with pytest.raises(ProcessError) as failure, wf() as svc:
        svc.start("one", "child-1", {}, SOCIAL_WORKER)
    assert isinstance(failure.value, ScriptLimitExceeded)
    assert failure.value.message == f"script in element 'deep' {DIGITS} (line 1: x = 10**5000)"
    with wf() as svc:
        assert svc.instances("child-1") == []


def test_a_number_grown_past_the_digit_limit_fails_the_step_naming_the_variable(wf: Harness) -> None:
    with wf() as svc:
        svc.deploy_text(one_element_xml("x = 1\nfor i in range(14000):\n    x = x + x"), "grown.bpmn")
    with pytest.raises(ScriptLimitExceeded) as failure, wf() as svc:
        svc.start("one", "child-1", {}, SOCIAL_WORKER)
    assert failure.value.message == "script in element 'deep' would store a number of more than 4,000 digits in 'x'"
    with wf() as svc:
        assert svc.instances("child-1") == []


# -- configuration ------------------------------------------------------------------------------------

def test_the_runtime_gives_every_step_its_limits_with_safe_defaults() -> None:
    assert Runtime().limits == ScriptLimits(cpu_seconds=2.0, max_size=1_000_000, max_int_digits=4_000,
                                            max_memory_mb=256)
    engine = Runtime(limits=LIMITS).script_engine(START)
    assert engine.environment.limits is LIMITS


@pytest.mark.parametrize(
    ("field", "value"),
    [("cpu_seconds", 0), ("cpu_seconds", -1.0), ("max_size", 10), ("max_int_digits", 5000), ("max_memory_mb", 1)],
)
def test_limits_out_of_range_are_refused_naming_the_setting(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        ScriptLimits(**{field: value})
