"""Watched regions besides home: a stack per region forwarding to the home bus, and home rights there."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from guardrail.config import GuardrailConfig
from guardrail.errors import ConfigError
from guardrail.recursion import EVENT_SOURCE
from runaway_guardrail_cdk.app import build_stacks, cdk_json_context
from tests.infra.conftest import cfn_lint

pytestmark = pytest.mark.infra

BUS = "runaway-guardrail-signals"
HOME_BUS = f"arn:aws:events:ap-northeast-1:111111111111:event-bus/{BUS}"
WATCHED = ("ap-northeast-1", "us-west-2", "eu-west-1")
OWN = GuardrailConfig().own_functions()


def _rules(template, *, on_signal_bus: bool) -> dict[str, dict]:
    return {
        logical_id: rule["Properties"]
        for logical_id, rule in template.find_resources("AWS::Events::Rule").items()
        if "EventPattern" in rule["Properties"] and ("EventBusName" in rule["Properties"]) == on_signal_bus
    }


def test_one_stack_per_other_watched_region_deployed_after_the_home_service(fleet):
    stacks = fleet.stacks
    assert list(stacks.regions) == ["us-west-2", "eu-west-1"]
    assert [s.stack_name for s in stacks.all] == [
        "RunawayGuardrailState",
        "RunawayGuardrailService",
        "RunawayGuardrailUsWest2",
        "RunawayGuardrailEuWest1",
        "RunawayGuardrailOrganization",
    ]
    for region, stack in stacks.regions.items():
        assert (stack.region, stack.account) == (region, "111111111111")
        assert stacks.service in stack.dependencies
    assert (stacks.service.region, stacks.state.region) == ("ap-northeast-1", "ap-northeast-1")


def test_each_region_forwards_what_the_home_rules_read_to_the_home_bus(fleet):
    home_patterns = sorted(
        json.dumps(rule["EventPattern"], sort_keys=True)
        for rule in _rules(fleet.template(fleet.stacks.service), on_signal_bus=False).values()
    )
    for stack in fleet.stacks.regions.values():
        template = fleet.template(stack)
        forwarded = _rules(template, on_signal_bus=False)
        assert (
            sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in forwarded.values()) == home_patterns
        )
        [guard] = _rules(template, on_signal_bus=True).values()
        assert guard["EventBusName"] == BUS
        assert guard["EventPattern"] == {"source": [EVENT_SOURCE]}  # every detail type the guard publishes
        [(queue_id, queue)] = template.find_resources("AWS::SQS::Queue").items()
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert queue["DeletionPolicy"] == "Retain"
        for rule in [*forwarded.values(), guard]:
            [target] = rule["Targets"]
            assert target["Arn"] == HOME_BUS
            assert "RoleArn" in target
            # what EventBridge cannot forward within its retries is kept, not dropped
            assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        [policy] = template.find_resources("AWS::IAM::Policy").values()
        assert policy["Properties"]["PolicyDocument"]["Statement"] == [
            {"Action": "events:PutEvents", "Effect": "Allow", "Resource": HOME_BUS}
        ]


def test_home_signal_bus_has_a_twin_of_every_detector_rule(fleet):
    template = fleet.template(fleet.stacks.service)
    default_bus = _rules(template, on_signal_bus=False)
    signal_bus = _rules(template, on_signal_bus=True)
    twins = {
        json.dumps(r["EventPattern"], sort_keys=True): r["Targets"][0]["Arn"]
        for r in signal_bus.values()
        if r["EventBusName"] == BUS
    }
    assert len(default_bus) == 4
    for rule in default_bus.values():
        [target] = rule["Targets"]
        assert twins[json.dumps(rule["EventPattern"], sort_keys=True)] == target["Arn"]


def test_a_single_region_app_has_no_twin_and_no_region_stack(synthesized):
    signal_bus = _rules(synthesized.service_template, on_signal_bus=True)
    assert signal_bus  # the guard's own rules, and no twin of an AWS signal's
    assert {json.dumps(r["EventPattern"]["source"]) for r in signal_bus.values()} == {
        json.dumps([EVENT_SOURCE])
    }
    assert {s.node.id for s in synthesized.app.node.children if isinstance(s, cdk.Stack)} == {
        "RunawayGuardrailState",
        "RunawayGuardrailService",
    }
    assert cdk.Token.is_unresolved(synthesized.service.region)  # environment-agnostic, as before


def test_each_region_has_its_signal_bus_for_this_account_and_a_guard_layer(fleet):
    for stack in fleet.stacks.regions.values():
        template = fleet.template(stack)
        template.has_resource_properties("AWS::Events::EventBus", {"Name": BUS})
        [bus] = template.find_resources("AWS::Events::EventBus").values()
        [statement] = bus["Properties"]["Policy"]["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111111111111"}}
        template.has_resource_properties(
            "AWS::Lambda::LayerVersion", {"LayerName": "runaway-guardrail-recursion-guard"}
        )
        template.has_output("RecursionGuardLayerArn", {})
        # organization mode: member accounts' functions may use the layer
        template.has_resource_properties(
            "AWS::Lambda::LayerVersionPermission",
            {"Action": "lambda:GetLayerVersion", "Principal": "*", "OrganizationId": "o-abcdefghij"},
        )
        # the layer's deployment.json names the bus of the region it runs in, by name
        [key] = [
            layer["Properties"]["Content"]["S3Key"]
            for layer in template.find_resources("AWS::Lambda::LayerVersion").values()
        ]
        deployment = (
            fleet.outdir / f"asset.{key.removesuffix('.zip')}/python/guardrail/recursion/deployment.json"
        )
        assert json.loads(deployment.read_text()) == {"signalBus": BUS}


def test_home_functions_act_in_every_watched_region_by_explicit_arns(fleet):
    template = fleet.template(fleet.stacks.service)
    for policy in template.find_resources("AWS::IAM::Policy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        granted = [
            s for s in statements if s["Effect"] == "Allow" and "lambda:PutFunctionConcurrency" in s["Action"]
        ]
        [functions] = granted
        assert sorted(functions["Resource"]) == sorted(
            f"arn:aws:lambda:{region}:111111111111:function:*" for region in WATCHED
        )
        deny, deny_mappings = [s for s in statements if s["Effect"] == "Deny"]
        assert sorted(deny["Resource"]) == sorted(
            f"arn:aws:lambda:ap-northeast-1:111111111111:function:{name}" for name in OWN
        )  # unchanged: the guardrail's own functions run in the home region
        assert (
            deny_mappings["Resource"] == "arn:aws:lambda:ap-northeast-1:111111111111:event-source-mapping:*"
        )
    athena = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "athena:GetQueryExecution" in s["Action"]
    ]
    assert athena
    assert all(
        sorted(s["Resource"]) == sorted(f"arn:aws:athena:{r}:111111111111:workgroup/*" for r in WATCHED)
        for s in athena
    )
    [glue] = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "glue:GetTable" in s["Action"]
    ]
    assert {f"arn:aws:glue:{r}:111111111111:table/*/*" for r in WATCHED} <= set(glue["Resource"])


def test_regions_without_a_known_home_region_are_refused_and_add_nothing():
    context = cdk_json_context()
    app = cdk.App(context={**context, "guardrail": {**context["guardrail"], "regions": ["us-west-2"]}})
    with pytest.raises(
        ConfigError, match=r"^guardrail\.regions and guardrail\.organization need the home region"
    ):
        build_stacks(app, env=cdk.Environment(account="111111111111"))
    assert app.node.children == []


def test_fleet_templates_are_cfn_lint_clean(fleet, tmp_path):
    member = tmp_path / "member.template.json"
    member.write_text(json.dumps(fleet.stacks.organization.member_template))
    templates = [*(str(p) for p in fleet.outdir.glob("*.template.json")), str(member)]
    assert len(templates) == 6
    rules, output = cfn_lint(templates)
    assert rules <= {"W3005"}, output


def test_cdk_nag_checked_every_fleet_stack_and_the_member_stack(fleet):
    """cdk-nag runs at synthesis (an unacknowledged finding fails it); each report says it ran clean."""
    reports = [
        fleet.outdir / "validation-report.json",
        fleet.outdir / "member-stack-set/validation-report.json",
    ]
    for report in reports:
        [plugin] = json.loads(report.read_text())["pluginReports"]
        assert (plugin["pluginName"], plugin["conclusion"], plugin["violations"]) == (
            "AwsSolutions",
            "success",
            [],
        )
    checked = [
        {
            construct["constructPath"].split("/")[0]
            for violation in json.loads(report.read_text())["pluginReports"][0]["suppressedViolations"]
            for construct in violation["violatingConstructs"]
        }
        for report in reports
    ]
    # acknowledged, with reasons: the home service's, and each forwarding stack's dead-letter queue (SQS3)
    assert checked == [
        {"RunawayGuardrailService", "RunawayGuardrailUsWest2", "RunawayGuardrailEuWest1"},
        {"RunawayGuardrailMember"},
    ]
