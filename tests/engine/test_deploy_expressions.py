"""Every expression SpiffWorkflow would evaluate is checked by the sandbox at deploy, not at run time.

tests/engine/bpmn/constructs.bpmn holds one harmless expression in each construct; each test
swaps one of them for a refused one and expects a one-line refusal naming file, element and what.
"""

from __future__ import annotations

import pytest

from engine.errors import DeploymentError
from tests.engine.conftest import BPMN, Harness

CONSTRUCTS = (BPMN / "constructs.bpmn").read_text()
IMPORT_OS = "__import__('os')"


def refusal(wf: Harness, old: str, new: str) -> str:
    """The refusal of constructs.bpmn with ``old`` (which occurs exactly once) replaced by ``new``."""
    assert CONSTRUCTS.count(old) == 1, old
    with pytest.raises(DeploymentError) as error, wf() as svc:
        svc.deploy_text(CONSTRUCTS.replace(old, new), "broken.bpmn")
    message = error.value.message
    assert "\n" not in message
    return message


def test_a_multi_instance_loop_cardinality_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, ">visits_needed<", f">{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'visit': loop cardinality: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_multi_instance_completion_condition_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, ">visited<", f">{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'visit': completion condition: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_standard_loop_condition_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, ">not answered<", f">{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'chase': loop condition: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


@pytest.mark.parametrize(("old", "new", "what"), [
    ("<bpmn:loopDataInputRef>schools<", "<bpmn:loopDataInputRef>__builtins__<", "loop input collection"),
    ("<bpmn:loopDataOutputRef>results<", "<bpmn:loopDataOutputRef>__builtins__<", "loop output collection"),
    ('<bpmn:inputDataItem id="school"', '<bpmn:inputDataItem id="__builtins__"', "input data item"),
    ('<bpmn:outputDataItem id="result"', '<bpmn:outputDataItem id="__builtins__"', "output data item"),
])
def test_a_multi_instance_collection_or_item_that_is_not_a_plain_data_name_is_refused_at_deploy(
        wf: Harness, old: str, new: str, what: str) -> None:
    message = refusal(wf, old, new)
    assert message == (f"broken.bpmn: element 'each_school': {what}: '__builtins__' is not a data name "
                       "(letters, digits and underscores, not starting with an underscore)")


def test_a_service_task_parameter_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, 'value="school_urn"', f'value="{IMPORT_OS}"')
    assert message == ("broken.bpmn: element 'lookup': service task parameter 'urn': "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_message_payload_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, '{"urn": school_urn}', IMPORT_OS)
    assert message == ("broken.bpmn: element 'tell': message payload: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_message_correlation_retrieval_expression_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, "<bpmn:formalExpression>urn<", f"<bpmn:formalExpression>{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'tell': correlation property 'school_urn_property': "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_process_variable_correlation_expression_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, "<spiffworkflow:expression>school_urn<", f"<spiffworkflow:expression>{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'tell': process variable correlation 'school_urn_property': "
                       "Script refused: access to '__import__' is not allowed (line 1)")


@pytest.mark.parametrize(("payload", "element", "what"), [
    ('{"flagged": school_urn}', "flag", "signal payload"),
    ('{"late": school_urn}', "escalate", "escalation payload"),
    ('{"missing": school_urn}', "end_error", "error payload"),
])
def test_a_signal_escalation_or_error_payload_that_imports_is_refused_at_deploy(
        wf: Harness, payload: str, element: str, what: str) -> None:
    message = refusal(wf, payload, IMPORT_OS)
    assert message == (f"broken.bpmn: element '{element}': {what}: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_conditional_event_expression_that_imports_is_refused_at_deploy_naming_it(wf: Harness) -> None:
    message = refusal(wf, "<bpmn:condition>ready<", f"<bpmn:condition>{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'wait_ready': conditional event expression: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_timer_among_several_event_definitions_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, "add_working_days(started_at, 5)", IMPORT_OS)
    assert message == ("broken.bpmn: element 'wait_either': timer expression: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_an_ad_hoc_subprocess_completion_condition_that_imports_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, ">noted<", f">{IMPORT_OS}<")
    assert message == ("broken.bpmn: element 'extras': completion condition: "
                       "Script refused: access to '__import__' is not allowed (line 1)")


def test_a_gateway_condition_that_is_a_statement_not_an_expression_is_refused_at_deploy(wf: Harness) -> None:
    message = refusal(wf, "<bpmn:conditionExpression>extras_wanted<",
                      "<bpmn:conditionExpression>extras_wanted = True<")
    assert message == ("broken.bpmn: element 'decide': condition: "
                       "Script has a syntax error: invalid syntax (line 1)")
