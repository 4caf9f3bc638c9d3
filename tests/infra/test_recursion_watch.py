"""The recursion watch in the synthesized service stack."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from guardrail.config import GuardrailConfig
from guardrail.errors import ConfigError
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from guardrail.recursion.chain_key import CHAIN_SECRET_ENV
from runaway_guardrail_cdk.guardrail import RunawayGuardrail
from runaway_guardrail_cdk.signal_bus import LAYER_RUNTIMES
from tests.infra.conftest import synthesize

pytestmark = pytest.mark.infra


def test_watch_and_scan_functions_run_the_handlers(synthesized):
    template = synthesized.service_template
    for name, handler in (
        ("runaway-guardrail-recursion-watch", "guardrail.handlers.recursion_watch.handler"),
        ("runaway-guardrail-invocation-scan", "guardrail.handlers.invocation_scan.handler"),
    ):
        template.has_resource_properties("AWS::Lambda::Function", {"FunctionName": name, "Handler": handler})


def test_scan_runs_every_minute(synthesized):
    synthesized.service_template.has_resource_properties(
        "AWS::Events::Rule",
        {"ScheduleExpression": "rate(1 minute)", "State": "ENABLED", "Targets": Match.any_value()},
    )


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE]},
        {
            "source": ["aws.health"],
            "detail-type": ["AWS Health Event"],
            "detail": {
                "service": ["LAMBDA"],
                "eventTypeCode": ["AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION"],
            },
        },
        {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {
                "state": {"value": ["ALARM"]},
                "configuration": {
                    "metrics": {
                        "metricStat": {
                            "metric": {"namespace": ["AWS/Lambda"], "name": ["RecursiveInvocationsDropped"]}
                        }
                    }
                },
            },
        },
    ],
    ids=["guard", "health", "alarm"],
)
def test_each_recursion_signal_has_a_rule(synthesized, pattern):
    synthesized.service_template.has_resource_properties("AWS::Events::Rule", {"EventPattern": pattern})


@pytest.mark.parametrize("role", ["RecursionWatchScanRole", "RecursionWatchRole"], ids=["scan", "watch"])
def test_scan_and_watch_may_read_metrics(synthesized, role):
    # the watch checks an alarm against Lambda's own RecursiveInvocationsDropped datapoints
    synthesized.service_template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp(role)}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": Match.array_with(["cloudwatch:GetMetricData"]), "Resource": "*"}
                        )
                    ]
                )
            },
        },
    )


def test_guard_layer_holds_only_the_guard_under_python(synthesized):
    synthesized.service_template.has_output("RecursionGuardLayerArn", {})
    synthesized.service_template.resource_count_is("AWS::Lambda::LayerVersion", 2)  # and Powertools
    [layer_root] = [path.parent.parent for path in synthesized.outdir.glob("asset.*/python/guardrail")]
    files = {str(path.relative_to(layer_root)) for path in layer_root.rglob("*") if path.is_file()}
    assert "python/guardrail/recursion/guard.py" in files
    guard_only = {name for name in files if name.startswith("python/guardrail/recursion/")}
    assert files - guard_only == {"python/guardrail/__init__.py"}
    deployment = json.loads((layer_root / "python/guardrail/recursion/deployment.json").read_text())
    assert deployment == {"signalBus": "runaway-guardrail-signals"}  # the guard publishes there


def test_refusals_are_read_from_the_signal_bus_only(synthesized):
    template = synthesized.service_template
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "runaway-guardrail-signals"})
    template.has_output("SignalBusName", {"Value": "runaway-guardrail-signals"})
    [refusals] = template.find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE]}}},
    ).values()
    assert refusals["Properties"]["EventBusName"] == "runaway-guardrail-signals"
    guards = template.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventPattern": {"source": [EVENT_SOURCE]}}}
    ).values()
    others = template.find_resources("AWS::Events::Rule").values()
    # the guard's signals (refusals, and the Athena watch's query starts) on the signal bus; AWS's on default
    assert [r for r in others if "EventBusName" in r["Properties"]] == list(guards)
    assert {r["Properties"]["EventBusName"] for r in guards} == {"runaway-guardrail-signals"}


def test_only_this_accounts_principals_may_put_events_on_the_signal_bus(synthesized):
    template = synthesized.service_template
    policies = template.find_resources("AWS::Events::EventBusPolicy")
    buses = template.find_resources("AWS::Events::EventBus")
    statements = [p["Properties"]["Statement"] for p in policies.values()] + [
        s for b in buses.values() for s in b["Properties"].get("Policy", {}).get("Statement", [])
    ]
    [statement] = statements
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def test_bad_scan_config_is_rejected_at_synth(tmp_path: Path):
    cdk_json = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    context = {**cdk_json["context"]["guardrail"], "detectors": {"invocation-scan": {"spikeRatio": 0.5}}}
    with pytest.raises(
        ConfigError,
        match=r"^guardrail\.detectors\.invocation-scan\.spikeRatio: Input should be greater than 1$",
    ):
        synthesize(tmp_path, {"guardrail": context})


def test_guarding_a_users_function_is_one_line_on_every_python_runtime_of_the_cdk(tmp_path: Path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region="ap-northeast-1"))
    guardrail = RunawayGuardrail(stack, "Guardrail", config=GuardrailConfig())
    newest = max(
        LAYER_RUNTIMES, key=lambda r: tuple(int(p) for p in r.name.removeprefix("python").split("."))
    )
    assert newest.name == lambda_.Runtime.PYTHON_3_14.name  # the pinned aws-cdk-lib's newest Python
    batch = lambda_.Function(
        stack,
        "NightlyBatch",
        runtime=newest,
        handler="batch.handler",
        code=lambda_.Code.from_inline("def handler(event, context): ..."),
    )

    guardrail.guard(batch)

    app.synth()  # the layer's compatible runtimes admit the function's (a mismatch fails synthesis)
    template = Template.from_stack(stack)
    [function] = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "batch.handler"}}
    ).values()
    [layer] = function["Properties"]["Layers"]
    assert "RecursionGuardLayer" in json.dumps(layer)
    [guard_layer] = template.find_resources(
        "AWS::Lambda::LayerVersion", {"Properties": {"LayerName": "runaway-guardrail-recursion-guard"}}
    ).values()
    assert guard_layer["Properties"]["CompatibleRuntimes"] == [
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.14",
    ]
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "NightlyBatch" in json.dumps(policy["Properties"]["Roles"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {s["Action"] for s in statements} == {
        "events:PutEvents",
        "lambda:ListTags",
        "secretsmanager:GetSecretValue",
    }
    [put] = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "SignalBus" in json.dumps(put["Resource"])
    [key_id] = template.find_resources("AWS::SecretsManager::Secret")
    [read] = [s for s in statements if s["Action"] == "secretsmanager:GetSecretValue"]
    assert read["Resource"] == {"Ref": key_id}
    assert function["Properties"]["Environment"]["Variables"][CHAIN_SECRET_ENV] == {"Ref": key_id}
    # the construct's own outputs, under the names the CLI and scripts look up (`guardrail --stack Batch`)
    assert set(template.find_outputs("*")) == {
        "KillSwitchFunctionName",
        "AlertTopicArn",
        "LedgerTableName",
        "SignalBusName",
        "RecursionGuardLayerArn",
    }


def test_guarding_a_function_on_a_python_the_guard_does_not_run_on_names_the_runtimes():
    stack = cdk.Stack(cdk.App(), "Old")
    guardrail = RunawayGuardrail(stack, "Guardrail", config=GuardrailConfig())
    old = lambda_.Function(
        stack,
        "Old",
        runtime=lambda_.Runtime.PYTHON_3_10,
        handler="old.handler",
        code=lambda_.Code.from_inline("def handler(event, context): ..."),
    )
    with pytest.raises(ValueError, match=r"^Old/Old runs python3\.10; .* python3\.11, python3\.12"):
        guardrail.guard(old)


def test_only_guarded_functions_may_read_the_chain_key(tmp_path: Path):
    """The guardrail's own functions never read it; a function not given to guard(fn) cannot."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account="123456789012", region="ap-northeast-1"))
    guardrail = RunawayGuardrail(stack, "Guardrail", config=GuardrailConfig())
    guarded, _unguarded = (
        lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler=f"{name}.handler",
            code=lambda_.Code.from_inline("def handler(event, context): ..."),
        )
        for name in ("Guarded", "Other")
    )
    guardrail.guard(guarded)

    template = Template.from_stack(stack)
    [(key_id, key)] = template.find_resources("AWS::SecretsManager::Secret").items()
    assert key["Properties"]["GenerateSecretString"]["PasswordLength"] == 64
    assert key["DeletionPolicy"] == "Delete"  # replacing it only restarts chains under way at depth 0
    readers = [
        policy["Properties"]["Roles"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if key_id in json.dumps(statement.get("Resource"))
    ]
    assert len(readers) == 1 and "Guarded" in json.dumps(readers) and "Other" not in json.dumps(readers)
    assert "ResourcePolicy" not in json.dumps(template.to_json())  # no other account or service reads it
