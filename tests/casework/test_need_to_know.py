"""The need-to-know tables: every step of every process has a kind of information, every kind has its
readers, and docs/access.md says exactly what the code says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from casework.need_to_know import (
    CATEGORIES,
    ESCALATION_READ_AS,
    INSTANCE_READ_AS,
    READ_AS,
    READERS,
    categories_read_by,
    elements_read_by,
)
from casework.processes import GLUES, KINDS
from casework.rules import AuthorityRules, lane_roles
from casework.users import ROLES
from processes import PROCESS_DIR

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "access.md"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
PROCESSES = sorted(p.stem for p in PROCESS_DIR.glob("*.bpmn"))


def user_tasks(process_id: str) -> set[str]:
    doc = etree.parse(str(PROCESS_DIR / f"{process_id}.bpmn"))
    return {str(e.get("id")) for e in doc.iterfind(".//bpmn:userTask", NS)}


def timers(process_id: str) -> set[str]:
    """Events that wait for a timer: their firing is an entry in the history."""
    doc = etree.parse(str(PROCESS_DIR / f"{process_id}.bpmn"))
    return {str(e.getparent().get("id")) for e in doc.iterfind(".//bpmn:timerEventDefinition", NS)}


def lanes(process_id: str) -> dict[str, str]:
    """Element id -> the name of its lane."""
    doc = etree.parse(str(PROCESS_DIR / f"{process_id}.bpmn"))
    return {str(ref.text): str(lane.get("name"))
            for lane in doc.iterfind(".//bpmn:lane", NS) for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


def markdown_rows(lines: list[str]) -> list[list[str]]:
    """The cells of each row of the markdown table that starts at ``lines[0]``."""
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end != -1 else None]


def docs_readers() -> dict[str, frozenset[str]]:
    text = section(DOC.read_text(encoding="utf-8"), "## Need to know")
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| kind |"))
    header, _, *rows = markdown_rows(lines[first:])
    roles = [cell.lower().replace(" ", "_") for cell in header[2:]]
    assert sorted(roles) == sorted(ROLES), "the table has one column per role"
    readers = {}
    for row in rows:
        kind = row[0].strip("`")
        assert all(cell in ("yes", "no") for cell in row[2:]), row
        readers[kind] = frozenset(role for role, cell in zip(roles, row[2:], strict=True) if cell == "yes")
    return readers


def docs_steps() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    text = section(DOC.read_text(encoding="utf-8"), "## Need to know")
    steps: dict[str, dict[str, str]] = {}
    own: dict[str, str] = {}
    process = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        heading = re.match(r"#### .*\(`(\w+)`\)$", line)
        if heading:
            process = heading.group(1)
            steps[process] = {}
        elif process and (whole := re.match(r"The process's own entries .* are `(\w+)`\.$", line)):
            own[process] = whole.group(1)
        elif process and line.startswith("| step |"):
            for row in markdown_rows(lines[i:])[2:]:
                steps[process][row[0].strip("`")] = row[-1].strip("`")
            process = None
    return steps, own


def test_every_process_has_a_kind_for_each_step() -> None:
    assert sorted(READ_AS) == sorted(GLUES) == PROCESSES
    assert sorted(INSTANCE_READ_AS) == PROCESSES


@pytest.mark.parametrize("process_id", PROCESSES)
def test_every_user_task_and_timer_of_a_process_has_exactly_one_kind_of_information(process_id: str) -> None:
    assert set(READ_AS[process_id]) == user_tasks(process_id) | timers(process_id)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_every_kind_a_process_names_has_its_readers(process_id: str) -> None:
    assert set(READ_AS[process_id].values()) | {INSTANCE_READ_AS[process_id]} <= set(READERS)


def test_every_kind_is_described_and_read_only_by_known_roles() -> None:
    assert sorted(CATEGORIES) == sorted(READERS)
    for kind, roles in READERS.items():
        assert roles <= ROLES, kind


def test_the_administrator_reads_no_case_content() -> None:
    assert categories_read_by({"admin"}) == frozenset()
    assert all(elements_read_by(p, {"admin"}) == frozenset() for p in PROCESSES)


@pytest.mark.parametrize("ks4_approver", ["nominated_officer", "vsh"])
@pytest.mark.parametrize("process_id", PROCESSES)
def test_the_role_that_does_a_step_reads_its_kind_whichever_role_approves_key_stage_4_moves(
    process_id: str, ks4_approver: str
) -> None:
    bound = lane_roles(AuthorityRules(ks4_move_approver_role=ks4_approver))
    lane_of = lanes(process_id)
    for task in user_tasks(process_id):
        role = bound.get(lane_of[task], lane_of[task])
        assert role in READERS[READ_AS[process_id][task]], (task, role)


def test_each_escalation_is_read_as_the_kind_of_the_task_that_raises_it() -> None:
    assert sorted(ESCALATION_READ_AS) == sorted(KINDS)
    assert ESCALATION_READ_AS["no_school_place"] == "school_place"
    assert ESCALATION_READ_AS["area_notice_overdue"] == "care"
    assert ESCALATION_READ_AS["send_decision_overdue"] == "send"


def test_a_designated_teacher_reads_the_school_place_steps_of_a_move_not_the_care_steps() -> None:
    read = elements_read_by("placement_move", {"designated_teacher"})
    assert read is not None
    assert {"discuss_school_choice", "apply_for_school_place", "record_vsh_views"} <= read
    assert not read & {"propose_move", "confirm_care_placement", "sign_off_move"}
    pep = elements_read_by("pep_review", {"designated_teacher"})
    assert pep is not None and "complete_pep_school_age" in pep and "social_worker_contribution" not in pep


def test_a_process_without_a_glue_module_has_no_kinds() -> None:
    assert elements_read_by("web_move", {"designated_teacher"}) is None


def test_the_table_of_readers_in_the_docs_is_the_one_the_code_uses() -> None:
    assert docs_readers() == dict(READERS)


def test_the_tables_of_steps_in_the_docs_are_the_ones_the_code_uses() -> None:
    steps, own = docs_steps()
    assert steps == {p: dict(kinds) for p, kinds in READ_AS.items()}
    assert own == dict(INSTANCE_READ_AS)
