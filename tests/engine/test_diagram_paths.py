"""The way an instance came through its process, worked out from the BPMN (engine/diagram_paths.py): which
flows lie between the steps it passed and where it waits, where the BPMN alone cannot tell, and how the
engine's own record of the instance narrows it. No database: the shipped and test BPMN files only."""

from __future__ import annotations

import re
from pathlib import Path

from engine.diagram_paths import Trail, graph, has_drawing, taken
from processes import PROCESS_DIR

COUNCIL = (Path(__file__).parents[1] / "web" / "bpmn" / "council_review.bpmn").read_text(encoding="utf-8")
MOVE = (PROCESS_DIR / "placement_move.bpmn").read_text(encoding="utf-8")
FORK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="fork" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:userTask id="decide" />
    <bpmn:exclusiveGateway id="which" />
    <bpmn:endEvent id="yes_end" />
    <bpmn:endEvent id="no_end" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="decide" />
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="which" />
    <bpmn:sequenceFlow id="yes" sourceRef="which" targetRef="yes_end" />
    <bpmn:sequenceFlow id="no" sourceRef="which" targetRef="no_end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_the_graph_knows_the_start_the_ends_the_subprocess_ways_in_and_out_and_who_catches_a_message() -> None:
    move = graph(MOVE, "placement_move")
    assert move.starts == ["move_needed"]
    assert "move_approved" in move.ends and "arrangements_made" not in move.ends  # that one ends a subprocess
    assert ("arrange_move", "arrangements_started") in move.entries
    assert ("arrangements_made", "arrange_move#exit") in move.entries
    assert move.catchers == {"placement_cancelled": ["placement_cancelled"]}
    assert graph(COUNCIL, "council_review").catchers == {"school_reply": ["school_reply"]}
    assert graph(COUNCIL, "no_such_process").kinds == {} and graph("<not xml", "council_review").kinds == {}


def test_a_file_has_a_drawing_only_with_diagram_layout() -> None:
    assert has_drawing(COUNCIL) and has_drawing(MOVE)
    assert not has_drawing(re.sub(r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", COUNCIL, flags=re.S))
    assert not has_drawing(FORK) and not has_drawing("<not xml")


def test_flows_are_marked_from_the_steps_passed_to_where_the_instance_waits_and_no_further() -> None:
    council = graph(COUNCIL, "council_review")
    started = taken(council, [], ["review_case", "review_due", "school_reply"])
    assert started.flows == ["flow_to_both", "flow_to_review", "flow_to_reply"]
    assert started.through == ["review_started", "both_at_once"]
    replied = taken(council, ["school_reply"], ["review_case", "review_due"])
    assert replied.flows == started.flows  # the join is not known to be reached from the BPMN alone


def test_a_step_the_reader_may_not_read_stops_the_path_so_nothing_beyond_it_is_marked() -> None:
    move = graph(MOVE, "placement_move")
    everyone = taken(move, ["propose_move"], ["confirm_care_placement", "discuss_school_choice"])
    assert {"flow_to_propose_move", "flow_to_arrange_move", "flow_split_to_care"} <= set(everyone.flows)
    teacher = taken(move, [], ["discuss_school_choice"])  # the proposal (care) is not theirs to read
    assert teacher.flows == [] and teacher.through == ["move_needed"]


def test_without_the_engines_record_a_gateway_whose_ways_meet_again_marks_both_and_with_it_only_the_one_taken(
) -> None:
    move = graph(MOVE, "placement_move")
    waits = ["confirm_care_placement", "discuss_school_choice"]
    guessed = taken(move, ["propose_move"], waits)
    assert {"flow_planned_move", "flow_emergency_care_first"} <= set(guessed.flows)
    ran = Trail(steps=frozenset({
        ("move_needed", "propose_move"), ("propose_move", "arrange_move"), ("arrangements_started", "emergency_route"),
        ("emergency_route", "arrangements_split"), ("arrangements_split", "confirm_care_placement"),
        ("arrangements_split", "arrange_education"), ("education_started", "discuss_school_choice")}),
        ran=frozenset({"move_needed", "propose_move", "arrange_move", "arrangements_started", "emergency_route",
                       "arrangements_split", "arrange_education", "education_started"}))
    known = taken(move, ["propose_move"], waits, path=ran)
    assert "flow_emergency_care_first" not in known.flows
    assert {"flow_planned_move", "flow_split_to_care", "flow_split_to_education",
            "flow_to_discuss_school_choice"} <= set(known.flows)


def test_a_finished_instance_marks_its_end_only_when_one_end_can_have_been_reached() -> None:
    fork = graph(FORK, "fork")
    guessed = taken(fork, ["decide"], ended=True)
    assert (guessed.flows, guessed.through) == (["f1"], ["s"])  # yes or no: the BPMN alone cannot say
    known = taken(fork, ["decide"], path=Trail(frozenset({("s", "decide"), ("decide", "which"), ("which", "no_end")}),
                                               frozenset({"s", "decide", "which", "no_end"})), ended=True)
    assert known.flows == ["f1", "f2", "no"] and known.through == ["s", "which", "no_end"]
    council = graph(COUNCIL, "council_review")
    done = taken(council, ["review_case", "school_reply"], ended=True)
    assert done.flows[-1] == "flow_to_finished" and "review_overdue" not in done.through
