"""The sandboxed script engine: known escapes are refused, ordinary scripts still work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.calendar import BusinessCalendar
from engine.errors import ScriptRefused
from engine.sandbox import (
    SAFE_BUILTINS,
    SandboxedScriptEngine,
    SandboxEnvironment,
    ScriptSyntaxError,
    check_source,
)

FROZEN_NOW = datetime(2026, 12, 11, 9, 30, tzinfo=UTC)

# Expressions that escape an unrestricted eval, each with a word the refusal must name.
ESCAPE_EXPRESSIONS = [
    ("__import__('os')", "__import__"),
    ("().__class__.__mro__[1].__subclasses__()", "__"),
    ("(lambda: 0).__globals__", "__globals__"),
    ('"{0.__class__}".format(1)', "format"),
    ('"{x.__class__}".format_map({"x": 1})', "format_map"),
    ("open('/etc/passwd')", "'open'"),
    ("eval('1')", "'eval'"),
    ("getattr(1, '__class__')", "'getattr'"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "__"),
    ("type(1)", "'type'"),
    ('f"{(1).__class__}"', "'__class__'"),
    ("globals()", "'globals'"),
    ("vars()", "'vars'"),
    ("[g for g in [(x for x in [1])]][0].gi_frame", "'gi_frame'"),
    ("str.mro()", "'mro'"),
    ("datetime.now()", "wall clock"),
    ("\uff45val('1')", "'eval'"),  # a fullwidth letter is normalised to plain 'eval' by the parser
]
# Statements (scripts) that escape an unrestricted exec.
ESCAPE_SCRIPTS = [
    ("import os", "import statements are not allowed (line 1)"),
    ("from os import path", "import statements are not allowed (line 1)"),
    ("x = 1\nimport os", "import statements are not allowed (line 2)"),
    ("class A:\n    pass", "class definitions are not allowed"),
    ("def f():\n    global y\n    y = 1", "global statements are not allowed (line 2)"),
    ("def f():\n    yield 1", "yield is not allowed"),
    ("async def f():\n    pass", "async functions are not allowed"),
    ("try:\n    1 / 0\nexcept Exception as _e:\n    pass", "'_e'"),
    ("match 1:\n    case int(__class__=c):\n        pass", "'__class__'"),
    ("def f(__x):\n    return __x", "'__x'"),
]
ALL_ESCAPES = [(f"result = {expr}", word) for expr, word in ESCAPE_EXPRESSIONS] + ESCAPE_SCRIPTS


@pytest.fixture
def env() -> SandboxEnvironment:
    return SandboxEnvironment()


def calendar_engine() -> SandboxedScriptEngine:
    return SandboxedScriptEngine(BusinessCalendar().script_functions(lambda: FROZEN_NOW))


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def one_script_workflow(script: str, engine: SandboxedScriptEngine, data: dict[str, Any] | None = None,
                        ) -> BpmnWorkflow:
    """start -> script task -> end, parsed from text with the Spiff parser."""
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="http://example.org/sandbox-test">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="script" name="Script">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    wf = BpmnWorkflow(parser.get_spec("proc"), parser.get_subprocess_specs("proc"), script_engine=engine)
    if data:
        wf.get_tasks(spec_name="start")[0].data.update(data)
    return wf


def script_task_data(wf: BpmnWorkflow) -> dict[str, Any]:
    data: dict[str, Any] = wf.get_tasks(spec_name="script")[0].data
    return data


# -- escapes are refused -------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "word"), ESCAPE_EXPRESSIONS)
def test_escape_expressions_are_refused_before_they_run(
    env: SandboxEnvironment, expression: str, word: str
) -> None:
    with pytest.raises(ScriptRefused) as refused:
        env.evaluate(expression, {})
    assert refused.value.message.startswith("Script refused: ")
    assert word in refused.value.message
    assert "(line 1)" in refused.value.message


@pytest.mark.parametrize(("script", "word"), ALL_ESCAPES)
def test_escape_scripts_are_refused_and_leave_task_data_alone(
    env: SandboxEnvironment, script: str, word: str
) -> None:
    data = {"x": 1}
    with pytest.raises(ScriptRefused) as refused:
        env.execute(script, data)
    assert word in refused.value.message
    assert data == {"x": 1}


@pytest.mark.parametrize(("script", "word"), ALL_ESCAPES)
def test_escape_scripts_are_refused_at_deploy_time_by_validate(script: str, word: str) -> None:
    with pytest.raises(ScriptRefused) as refused:
        SandboxedScriptEngine().validate(script)
    assert word in refused.value.message


@pytest.mark.parametrize(("script", "word"), ALL_ESCAPES)
def test_escape_scripts_fail_inside_a_real_workflow(script: str, word: str) -> None:
    wf = one_script_workflow(script, calendar_engine())
    with pytest.raises(Exception) as failure:
        wf.do_engine_steps()
    refusals = [e for e in exception_chain(failure.value) if isinstance(e, ScriptRefused)]
    assert refusals, f"no ScriptRefused in the chain of {failure.value!r}"
    assert word in refusals[0].message
    assert "Script refused" in str(failure.value)
    assert "result" not in script_task_data(wf)


def test_a_syntax_error_is_a_refusal_that_is_also_a_syntax_error(env: SandboxEnvironment) -> None:
    # SpiffWorkflow's DMN engine relies on validate() raising SyntaxError for unparsable text.
    with pytest.raises(ScriptSyntaxError) as refused:
        env.evaluate("1 +", {})
    assert refused.value.message.startswith("Script has a syntax error: ")
    assert isinstance(refused.value, SyntaxError)
    assert isinstance(refused.value, ScriptRefused)
    assert refused.value.lineno == 1


def test_the_safe_builtins_hold_no_way_to_import_or_introspect() -> None:
    for name in ("open", "eval", "exec", "getattr", "type", "globals", "print", "object", "compile"):
        assert name not in SAFE_BUILTINS
    assert SAFE_BUILTINS["len"] is len
    # The interpreter's own imports (time, for strftime) are the only ones that work.
    with pytest.raises(ImportError, match="'os' is not allowed"):
        SAFE_BUILTINS["__import__"]("os")


def test_dates_can_be_formatted_and_parsed_inside_the_sandbox(env: SandboxEnvironment) -> None:
    assert env.evaluate('date(2026, 12, 24).strftime("%d %B %Y")', {}) == "24 December 2026"
    assert env.evaluate('datetime.strptime("24/12/2026", "%d/%m/%Y")', {}) == datetime(2026, 12, 24)


def test_a_builtin_outside_the_allow_list_is_simply_undefined(env: SandboxEnvironment) -> None:
    with pytest.raises(NameError, match="print"):
        env.evaluate("print(1)", {})


def test_task_data_cannot_replace_the_safe_builtins(env: SandboxEnvironment) -> None:
    planted = {"__builtins__": {"len": lambda _x: 99}}
    assert env.evaluate("len([1])", dict(planted)) == 1


def test_the_math_namespace_cannot_be_changed_by_a_script(env: SandboxEnvironment) -> None:
    with pytest.raises(AttributeError, match="read-only"):
        env.execute("math.floor = None", {})
    assert env.evaluate("math.floor(2.5)", {}) == 2


# -- ordinary scripts and expressions work -------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ("x + 1", {"x": 1}, 2),
        ("len(items) > 2", {"items": [1, 2, 3]}, True),
        ("math.floor(2.5)", {}, 2),
        ("math.sqrt(16)", {}, 4.0),
        ("timedelta(days=2)", {}, timedelta(days=2)),
        ("date(2026, 12, 24) + timedelta(days=1)", {}, date(2026, 12, 25)),
        ("sorted(items, key=lambda i: -i)", {"items": [1, 3, 2]}, [3, 2, 1]),
        ("[i * 2 for i in items if i > 1]", {"items": [1, 2, 3]}, [4, 6]),
        ('f"{name} is {age}"', {"name": "Sam", "age": 9}, "Sam is 9"),
        ('f"{date(2026, 12, 24):%d/%m/%Y}"', {}, "24/12/2026"),
        ('child["school"].upper()', {"child": {"school": "oak"}}, "OAK"),
        ("add_working_days(now(), 10)", {}, "2026-12-29T09:30:00+00:00"),
    ],
)
def test_ordinary_expressions_evaluate_against_task_data(expression: str, data: dict[str, Any],
                                                         expected: Any) -> None:
    engine = calendar_engine()
    assert engine.environment.evaluate(expression, data) == expected


def test_a_script_assigns_task_data_and_leaves_no_functions_or_builtins_behind() -> None:
    env = calendar_engine().environment
    data: dict[str, Any] = {"x": 1}
    env.execute("def double(v):\n    return v * 2\ny = double(x)\nwhen = add_working_days(now(), 1)", data)
    assert data == {"x": 1, "y": 2, "when": "2026-12-14T09:30:00+00:00"}
    json.dumps(data)


def test_dates_a_script_leaves_in_task_data_are_stored_as_iso_text(env: SandboxEnvironment) -> None:
    data: dict[str, Any] = {}
    env.execute("start = date(2026, 9, 3)\nnested = {'at': datetime(2026, 9, 3, 9, 0, tzinfo=timezone.utc)}",
                data)
    assert data == {"start": "2026-09-03", "nested": {"at": "2026-09-03T09:00:00+00:00"}}


def test_a_value_that_cannot_be_stored_as_json_is_a_clear_error(env: SandboxEnvironment) -> None:
    with pytest.raises(ValueError, match="'gap' holds a timedelta"):
        env.execute("gap = timedelta(days=1)", {})


def test_a_script_can_raise_a_clear_error_of_its_own(env: SandboxEnvironment) -> None:
    with pytest.raises(ValueError, match="no placement"):
        env.execute("if not placements:\n    raise ValueError('no placement')", {"placements": []})


def test_compiled_code_is_cached_per_source_text() -> None:
    assert check_source("x + 1", "eval") is check_source("x + 1", "eval")
    assert check_source("x + 1", "eval") is not check_source("x + 1", "exec")


def test_a_function_with_a_private_name_cannot_be_offered_to_scripts() -> None:
    with pytest.raises(ValueError, match="not a public identifier"):
        SandboxedScriptEngine({"_secret": lambda: 1})


def test_a_legitimate_script_runs_in_a_real_workflow_and_stores_iso_text() -> None:
    wf = one_script_workflow('deadline = add_working_days("2026-12-21T09:00:00+00:00", 3)', calendar_engine())
    wf.do_engine_steps()
    assert wf.is_completed()
    data = script_task_data(wf)
    assert data == {"deadline": "2026-12-24T09:00:00+00:00"}
    assert "__builtins__" not in wf.last_task.data
    # The whole workflow still serializes: nothing unserializable leaked into task data.
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    assert "2026-12-24T09:00:00+00:00" in serializer.serialize_json(wf)


def test_a_script_in_a_workflow_reads_task_data_and_skips_christmas() -> None:
    wf = one_script_workflow("reminder = add_working_days(due, -3)", calendar_engine(),
                             data={"due": "2026-12-31T09:00:00+00:00"})
    wf.do_engine_steps()
    assert script_task_data(wf)["reminder"] == "2026-12-24T09:00:00+00:00"


def test_a_timer_date_expression_uses_the_calendar_and_yields_iso_text() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
                  targetNamespace="http://example.org/sandbox-test">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>add_working_days(now(), 10)</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    wf = BpmnWorkflow(parser.get_spec("proc"), parser.get_subprocess_specs("proc"), script_engine=calendar_engine())
    wf.do_engine_steps()
    assert [event.value for event in wf.waiting_events()] == ["2026-12-29T09:30:00+00:00"]
