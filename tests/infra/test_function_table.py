"""The function table builds the guardrail's functions: each row's handler, size, role, trigger, alarms.

It also names every detector the findings can carry, by the function that runs it.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import guardrail.detectors
from guardrail.adapters.permissions import Resource, actions_of
from guardrail.config.guardrail import FUNCTION_ROLES, Detectors
from runaway_guardrail_cdk.function_table import ENFORCEMENT, FUNCTIONS, FunctionSpec, Trigger
from runaway_guardrail_cdk.member_role import MEMBER_GRANTS

pytestmark = pytest.mark.infra
PREFIX = "runaway-guardrail"
#: What every function gets besides its declared grants: its logs, the alert key, its dead letters, X-Ray.
EVERY_FUNCTION = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


def _detector_constants() -> dict[str, str]:
    """Every `DETECTOR*` string constant of every module under guardrail.detectors, by where it is."""
    found = {}
    for module_info in pkgutil.walk_packages(guardrail.detectors.__path__, "guardrail.detectors."):
        module = importlib.import_module(module_info.name)
        for attribute, value in vars(module).items():
            if attribute.startswith("DETECTOR") and isinstance(value, str):
                found[f"{module_info.name}.{attribute}"] = value
    return found


def _run_by() -> dict[str, str]:
    return {detector: spec.role for spec in FUNCTIONS.values() for detector in spec.detectors}


def test_the_table_has_one_row_per_function_the_guardrail_never_throttles():
    assert tuple(FUNCTIONS) == FUNCTION_ROLES
    assert all(spec.role == role for role, spec in FUNCTIONS.items())


def test_every_detector_the_findings_name_is_run_by_one_function_and_no_other_is_named():
    detectors = [detector for spec in FUNCTIONS.values() for detector in spec.detectors]
    assert len(detectors) == len(set(detectors))
    assert set(detectors) == set(_detector_constants().values())
    assert {"recursion-guard", "aws-recursive-loop", "invocation-scan", "athena-watch"} <= set(detectors)


def test_each_configured_detector_runs_in_the_function_named_after_it():
    sections = {field.alias for field in Detectors.model_fields.values()}
    assert sections and {section: _run_by()[section] for section in sections} == {s: s for s in sections}


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=FUNCTIONS.keys())
def test_each_row_names_a_handler_that_exists_and_says_what_it_does(spec: FunctionSpec):
    module, _, function = spec.handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
    assert spec.description
    assert (spec.trigger is Trigger.OPERATOR) == (not spec.detectors)  # only the kill switch detects nothing


def _functions(synthesized) -> dict[str, dict]:
    functions = synthesized.service_template.find_resources("AWS::Lambda::Function")
    return {f["Properties"]["FunctionName"].removeprefix(f"{PREFIX}-"): f for f in functions.values()}


def test_each_function_is_built_from_its_row(synthesized):
    functions = _functions(synthesized)
    assert set(functions) == set(FUNCTIONS)
    for role, function in functions.items():
        spec, properties = FUNCTIONS[role], function["Properties"]
        assert (properties["Handler"], properties["Description"]) == (spec.handler, spec.description)
        assert (properties["MemorySize"], properties["Timeout"]) == (spec.memory_size, spec.timeout_seconds)


def test_each_function_may_do_what_enforcement_and_its_row_declare_and_nothing_else(synthesized):
    functions = _functions(synthesized)
    template = synthesized.service_template
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0]: role for role, f in functions.items()}
    granted: dict[str, set[str]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        [role_ref] = policy["Properties"]["Roles"]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        allowed = [s["Action"] for s in statements if s["Effect"] == "Allow"]
        granted[roles[role_ref["Ref"]]] = {
            a for actions in allowed for a in ([actions] if isinstance(actions, str) else actions)
        }
    assert set(granted) == set(FUNCTIONS)
    for role, spec in FUNCTIONS.items():
        assert granted[role] == actions_of(ENFORCEMENT, spec.grants) | EVERY_FUNCTION, role
    assert "dynamodb:Query" in granted["kill-switch"]  # its row adds the AuditTrail index (history)


def test_rules_retry_each_function_as_its_trigger_says_and_none_targets_the_kill_switch(synthesized):
    functions = _functions(synthesized)
    logical_ids = {
        role: logical_id
        for logical_id, f in synthesized.service_template.find_resources("AWS::Lambda::Function").items()
        for role in [f["Properties"]["FunctionName"].removeprefix(f"{PREFIX}-")]
    }
    assert set(logical_ids) == set(functions)
    retries: dict[str, set[int]] = {}
    for rule in synthesized.service_template.find_resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            [role] = [role for role, logical_id in logical_ids.items() if logical_id in str(target["Arn"])]
            retries.setdefault(role, set()).add(target["RetryPolicy"]["MaximumRetryAttempts"])
    expected = {
        role: {spec.trigger.retry_attempts}
        for role, spec in FUNCTIONS.items()
        if spec.trigger is not Trigger.OPERATOR
    }
    assert retries == expected


def test_a_duration_alarm_watches_each_function_whose_row_asks_for_one(synthesized):
    alarms = synthesized.service_template.find_resources("AWS::CloudWatch::Alarm")
    names = {a["Properties"]["AlarmName"] for a in alarms.values()}
    for role, spec in FUNCTIONS.items():
        assert {f"{PREFIX}-{role}-errors", f"{PREFIX}-{role}-throttles"} <= names
        assert (f"{PREFIX}-{role}-duration" in names) == (spec.duration_alarm is not None)


def test_a_member_account_grants_every_functions_calls_there_but_none_on_the_guardrails_own_state():
    everything = actions_of(ENFORCEMENT, *(spec.grants for spec in FUNCTIONS.values()))
    own_state = {Resource.LEDGER, Resource.LEDGER_TABLE, Resource.AUDIT_INDEX, Resource.ALERT_TOPIC}
    assert {grant.resource for grant in MEMBER_GRANTS}.isdisjoint(own_state)
    assert actions_of(MEMBER_GRANTS) == everything - {
        action for action in everything if action.startswith(("dynamodb:", "sns:"))
    }
