"""Each process's glue names only elements its BPMN has, and no other module names an element.

Element ids are the contract between a diagram and the code: a renamed task must fail
here, not silently stop raising an escalation or keeping a record.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from lxml import etree

from casework.processes import GLUES, RULES
from casework.processes.glue import ProcessGlue
from processes import PROCESS_DIR

ROOT = Path(__file__).resolve().parents[3]
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
FLOW_NODES = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway",
)
PRODUCT = ("app", "casework", "engine", "notifications", "scheduler", "web")
ELEMENT_HOMES = ("casework/processes/", "processes/forms/")
"""Where element ids may be written: the glue (checked below) and the forms (tests/processes)."""


def flow_nodes(process_id: str) -> set[str]:
    doc = etree.parse(str(PROCESS_DIR / f"{process_id}.bpmn"))
    return {str(e.get("id")) for tag in FLOW_NODES for e in doc.iterfind(f".//bpmn:{tag}", NS)}


def every_element_and_process_id() -> set[str]:
    names: set[str] = set()
    for path in PROCESS_DIR.glob("*.bpmn"):
        names |= flow_nodes(path.stem) | {path.stem}
    return names


def string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


glues = pytest.mark.parametrize("glue", list(GLUES.values()), ids=list(GLUES))


def test_every_process_file_has_a_glue_module() -> None:
    assert sorted(GLUES) == sorted(p.stem for p in PROCESS_DIR.glob("*.bpmn"))


@glues
def test_every_element_a_glue_module_names_is_in_its_process_file(glue: ProcessGlue) -> None:
    assert {str(step) for step in glue.steps} - flow_nodes(glue.process_id) == set()


@glues
def test_every_element_an_escalation_rule_names_is_one_of_its_process_steps(glue: ProcessGlue) -> None:
    named = {str(s) for s in glue.steps}
    for task, rule in glue.escalations.items():
        assert {str(task), *map(str, rule.resolved_by)} <= named, task


@glues
def test_every_school_field_belongs_to_a_step_of_its_process(glue: ProcessGlue) -> None:
    assert {str(task) for task in glue.school_fields} <= {str(s) for s in glue.steps}


def test_escalation_rules_are_keyed_by_process_and_manager_task() -> None:
    assert ("placement_move", "escalate_no_school_place") in RULES
    assert RULES[("pep_review", "escalate_overdue_pep")].resolved_by == {"pep_signed_off"}


def test_no_module_outside_the_glue_and_the_forms_names_a_bpmn_element() -> None:
    names = every_element_and_process_id()
    offenders = {
        str(path.relative_to(ROOT)): sorted(found)
        for package in PRODUCT if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(ELEMENT_HOMES)
        and (found := string_literals(path) & names)
    }
    assert offenders == {}


def test_the_element_check_notices_an_element_id_written_as_text(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text('if task.element_id == "propose_move":\n    pass\n')
    assert string_literals(module) & every_element_and_process_id() == {"propose_move"}
