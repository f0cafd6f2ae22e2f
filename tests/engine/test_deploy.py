"""Deploying BPMN: validation with clear refusals, and content-hash versions."""

from __future__ import annotations

import pytest

from engine.errors import DeploymentError, Forbidden
from tests.engine.conftest import BPMN, MANAGER, SOCIAL_WORKER, Harness

REVIEW = (BPMN / "review.bpmn").read_text()
MANUAL = (BPMN / "manual.bpmn").read_text()
OTHER_PROCESS = '<bpmn:process id="other" isExecutable="false"><bpmn:startEvent id="other_start" /></bpmn:process>'


def test_redeploying_the_same_file_keeps_its_version(wf: Harness) -> None:
    with wf() as svc:
        [again] = svc.deploy_text(REVIEW, "review.bpmn")
        assert again.version == 1


def test_a_changed_file_becomes_the_next_version_and_new_instances_use_it(wf: Harness) -> None:
    with wf() as svc:
        old = svc.start("review", "child-1", {"started_at": "2026-12-01T09:00:00+00:00"}, SOCIAL_WORKER)
        [v2] = svc.deploy_text(REVIEW.replace("Write the draft", "Write the first draft"), "review.bpmn")
        new = svc.start("review", "child-2", {"started_at": "2026-12-01T09:00:00+00:00"}, SOCIAL_WORKER)
        assert v2.version == 2
        assert new.definition_id == v2.id != old.definition_id
        titles = {t.business_key: t.title for t in svc.tasks()}
    assert titles == {"child-1": "Write the draft", "child-2": "Write the first draft"}


def test_a_running_instance_keeps_its_version_after_a_new_deployment(wf: Harness) -> None:
    with wf() as svc:
        instance = svc.start("review", "child-1", {"started_at": "2026-12-01T09:00:00+00:00"}, SOCIAL_WORKER)
        svc.deploy_text(REVIEW.replace('name="Approve the draft"', 'name="Sign off"'), "review.bpmn")
    with wf() as svc:
        [task] = svc.tasks(business_key="child-1")
        svc.complete(task.id, {"summary": "fine", "meeting_date": "2026-12-01", "attendance_percent": 90}, SOCIAL_WORKER)
    with wf() as svc:
        [approve] = svc.tasks(business_key="child-1")
        assert approve.title == "Approve the draft"
        assert svc.instance(instance.id).definition_id == 1


def refused(wf: Harness, text: str) -> str:
    with pytest.raises(DeploymentError) as error, wf() as svc:
        svc.deploy_text(text, "broken.bpmn")
    return error.value.message


def test_a_file_that_breaks_the_bpmn_schema_is_refused_naming_file_line_and_problem(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace('<bpmn:endEvent id="end">', '<bpmn:endEvent id="end" colour="red">'))
    assert message.startswith("broken.bpmn, line ")
    assert "colour" in message


def test_malformed_xml_is_refused_naming_the_file(wf: Harness) -> None:
    assert refused(wf, REVIEW[:400]).startswith("broken.bpmn: not well-formed XML")


def test_a_user_task_outside_any_lane_is_refused_naming_the_element(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace("<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>", ""))
    assert message == "broken.bpmn: element 'approve': user task is not in a lane, so no role may do it"


def test_a_manual_task_outside_any_lane_is_refused_naming_the_element(wf: Harness) -> None:
    message = refused(wf, MANUAL.replace("<bpmn:flowNodeRef>phone_carer</bpmn:flowNodeRef>", ""))
    assert message == "broken.bpmn: element 'phone_carer': manual task is not in a lane, so no role may do it"


def test_a_plain_task_outside_any_lane_is_refused_naming_the_element(wf: Harness) -> None:
    message = refused(wf, MANUAL.replace("<bpmn:flowNodeRef>file_note</bpmn:flowNodeRef>", ""))
    assert message == "broken.bpmn: element 'file_note': task is not in a lane, so no role may do it"


def test_manual_and_plain_tasks_in_a_lane_open_for_the_lanes_role_and_only_it_may_complete_them(
        wf: Harness) -> None:
    wf.deploy("manual.bpmn")
    with wf() as svc:
        instance = svc.start("manual_steps", "child-1", {}, SOCIAL_WORKER)
        [phone] = svc.tasks(business_key="child-1")
    assert (phone.element_id, phone.role) == ("phone_carer", "social_worker")
    with pytest.raises(Forbidden, match="social_worker"), wf() as svc:
        svc.complete(phone.id, {}, MANAGER)
    with wf() as svc:
        svc.complete(phone.id, {}, SOCIAL_WORKER)
        [note] = svc.tasks(business_key="child-1")
    assert (note.element_id, note.role) == ("file_note", "manager")
    with pytest.raises(Forbidden, match="manager"), wf() as svc:
        svc.complete(note.id, {}, SOCIAL_WORKER)
    with wf() as svc:
        svc.complete(note.id, {}, MANAGER)
        assert svc.instance(instance.id).status == "completed"


def test_a_script_that_imports_is_refused_at_deploy_naming_the_element(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace("drafted_at = now()", "import os"))
    assert message.startswith("broken.bpmn: element 'stamp': script: ")
    assert "import" in message


def test_a_timer_expression_reaching_for_dunders_is_refused_at_deploy(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace("add_working_days(started_at, 5)", "().__class__.__mro__"))
    assert "element 'draft_due': timer expression" in message and "is not allowed" in message


def test_a_sequence_flow_to_a_missing_element_is_refused(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace('targetRef="approve"', 'targetRef="nowhere"'))
    assert message.startswith("broken.bpmn")
    assert "nowhere" in message


def test_a_file_with_no_executable_process_is_refused(wf: Harness) -> None:
    message = refused(wf, REVIEW.replace('isExecutable="true"', 'isExecutable="false"'))
    assert "no executable process" in message


def test_a_file_whose_one_process_has_no_is_executable_attribute_deploys_and_runs(wf: Harness) -> None:
    with wf() as svc:
        [definition] = svc.deploy_text(REVIEW.replace(' isExecutable="true"', ""), "review.bpmn")
        svc.start("review", "child-1", {"started_at": "2026-12-01T09:00:00+00:00"}, SOCIAL_WORKER)
        [task] = svc.tasks(business_key="child-1")
    assert (definition.process_id, definition.version) == ("review", 2)
    assert (task.element_id, task.role) == ("draft", "social_worker")


def test_a_process_marked_not_executable_is_not_deployed_beside_one_without_the_attribute(wf: Harness) -> None:
    text = REVIEW.replace(' isExecutable="true"', "").replace("</bpmn:definitions>", OTHER_PROCESS + "</bpmn:definitions>")
    with wf() as svc:
        deployed = svc.deploy_text(text, "review.bpmn")
    assert [d.process_id for d in deployed] == ["review"]


def test_two_processes_without_the_is_executable_attribute_are_refused_naming_both(wf: Harness) -> None:
    other = OTHER_PROCESS.replace(' isExecutable="false"', "")
    text = REVIEW.replace(' isExecutable="true"', "").replace("</bpmn:definitions>", other + "</bpmn:definitions>")
    message = refused(wf, text)
    assert message == (
        "broken.bpmn: no executable process: the processes 'review', 'other' have no isExecutable attribute, "
        'so mark the one to run isExecutable="true"'
    )


def test_a_refused_deployment_stores_nothing(wf: Harness) -> None:
    refused(wf, REVIEW.replace("drafted_at = now()", "import os").replace("Write the draft", "Changed"))
    with wf() as svc:
        assert svc.deployer.newest("review").version == 1


def test_every_file_in_processes_deploys(wf: Harness) -> None:
    from processes import PROCESS_DIR

    with wf() as svc:
        deployed = svc.deploy_directory(PROCESS_DIR)
    assert "placement_move" in {d.process_id for d in deployed}
