"""The synthesized app: stateful resources, functions, IAM, outputs, cfn-lint and cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from constructs import Construct

from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import (
    ACTIVE_INDEX,
    ACTIVE_INDEX_PARTITION_KEY,
    ACTIVE_INDEX_SORT_KEY,
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
    Ledger,
)
from guardrail.adapters.permissions import Resource, actions_of, merged
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.config import GuardrailConfig
from guardrail.enforcement import ACTIONS
from runaway_guardrail_cdk.app import cdk_json_context
from runaway_guardrail_cdk.nag import add_checks
from runaway_guardrail_cdk.state import GuardrailState
from tests.infra.conftest import cfn_lint

pytestmark = pytest.mark.infra


OWN = GuardrailConfig().own_functions()


def test_stateful_logical_ids_are_pinned(synthesized):
    resources = synthesized.state_template.to_json()["Resources"]
    stateful = {
        logical_id: resource["Type"]
        for logical_id, resource in resources.items()
        if resource["Type"] in {"AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::KMS::Key"}
    }
    assert stateful == {
        "GuardrailLedger": "AWS::DynamoDB::Table",
        "GuardrailAlertTopic": "AWS::SNS::Topic",
        "GuardrailAlertKey": "AWS::KMS::Key",
    }
    for logical_id in stateful:
        assert resources[logical_id]["DeletionPolicy"] == "Retain"


def test_ledger_table_has_pitr_ttl_and_the_keys_the_code_uses(synthesized):
    synthesized.state_template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "runaway-guardrail-ledger",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "DeletionProtectionEnabled": True,
        },
    )


def test_ledger_has_the_sparse_indexes_status_and_history_read(synthesized):
    [table] = synthesized.state_template.find_resources("AWS::DynamoDB::Table").values()
    assert table["Properties"]["GlobalSecondaryIndexes"] == [
        {
            "IndexName": index,
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for index, partition, sort in [
            (ACTIVE_INDEX, ACTIVE_INDEX_PARTITION_KEY, ACTIVE_INDEX_SORT_KEY),
            (AUDIT_INDEX, AUDIT_INDEX_PARTITION_KEY, AUDIT_INDEX_SORT_KEY),
        ]
    ]
    assert "dynamodb:Scan" not in actions_of(Ledger.PERMISSIONS)


def test_only_the_kill_switch_may_query_the_audit_trail_index(synthesized):
    readers = [
        role
        for role, statements in _policies(synthesized.service_template).items()
        if any(f"/index/{AUDIT_INDEX}" in json.dumps(s["Resource"]) for s in statements)
    ]
    assert len(readers) == 1
    assert "KillSwitch" in readers[0]


def test_alert_topic_is_kms_encrypted_and_refuses_plain_http(synthesized):
    template = synthesized.state_template
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": ["GuardrailAlertKey", "Arn"]}}
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_stack_outputs_follow_the_contract(synthesized):
    assert set(synthesized.state_template.find_outputs("*")) >= {"AlertTopicArn", "LedgerTableName"}
    assert "KillSwitchFunctionName" in synthesized.service_template.find_outputs("*")


def test_kill_switch_function_runs_the_handler_with_its_settings(synthesized):
    synthesized.service_template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "runaway-guardrail-kill-switch",
            "Handler": "guardrail.handlers.kill_switch.handler",
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "GUARDRAIL_CONFIG": Match.any_value(),
                        "GUARDRAIL_LEDGER_TABLE": Match.any_value(),
                        "GUARDRAIL_ALERT_TOPIC_ARN": Match.any_value(),
                        "GUARDRAIL_ACCOUNT": {"Ref": "AWS::AccountId"},
                        "GUARDRAIL_PARTITION": {"Ref": "AWS::Partition"},
                    }
                )
            },
            "Tags": Match.array_with([{"Key": "guardrail:component", "Value": "runaway-guardrail"}]),
        },
    )
    synthesized.service_template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/aws/lambda/runaway-guardrail-kill-switch", "RetentionInDays": 90},
    )
    # the configuration the function reads back is cdk.json's, validated by the same model
    [function] = synthesized.service_template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": "runaway-guardrail-kill-switch"}}
    ).values()
    written = json.loads(function["Properties"]["Environment"]["Variables"]["GUARDRAIL_CONFIG"])
    assert GuardrailConfig.parse(written) == GuardrailConfig.from_context(cdk_json_context()["guardrail"])


def _policies(template: Template) -> dict[str, list[dict]]:
    return {
        logical_id: policy["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
    }


def _actions(statement: dict) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def _allowed(statements: list[dict]) -> set[str]:
    return set().union(*(_actions(s) for s in statements if s["Effect"] == "Allow"))


#: What the actions call, by kind of resource: the adapters behind them declare it.
ACTING = merged(LambdaControl.PERMISSIONS, EventSources.PERMISSIONS, AthenaWorkgroups.PERMISSIONS)
ENFORCEMENT = actions_of(
    LambdaControl.PERMISSIONS,
    EventSources.PERMISSIONS,
    AthenaWorkgroups.PERMISSIONS,
    Ledger.PERMISSIONS,
    SnsAlerts.PERMISSIONS,
)
DECLARED = ENFORCEMENT | actions_of(
    CloudWatchMetrics.PERMISSIONS,
    AthenaCounters.PERMISSIONS,
    AthenaBaselines.PERMISSIONS,
    AthenaQueries.PERMISSIONS,
    DataLocations.PERMISSIONS,
)
LOGS_AND_KMS = {"logs:CreateLogStream", "logs:PutLogEvents", "kms:GenerateDataKey", "kms:Decrypt"}
#: Failed asynchronous invocations go to the dead-letter queue (the on-failure destination's grant).
DEAD_LETTERS = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
#: Active tracing (cdk.json `tracing`, on by default): Lambda's X-Ray segments.
TRACING = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_iam_is_built_from_the_adapters_declared_actions(synthesized):
    policies = _policies(synthesized.service_template)
    [kill_switch] = [statements for logical_id, statements in policies.items() if "KillSwitch" in logical_id]
    assert _allowed(kill_switch) == ENFORCEMENT | LOGS_AND_KMS | DEAD_LETTERS | TRACING
    for statements in policies.values():
        assert _allowed(statements) >= ENFORCEMENT | LOGS_AND_KMS | DEAD_LETTERS | TRACING
        assert _allowed(statements) <= DECLARED | LOGS_AND_KMS | DEAD_LETTERS | TRACING
        assert not any("*" in action for action in _allowed(statements))


#: Permissions of an action whose resource is not its target: on '*' (no resource-level permissions), or
#: on event source mappings.
NOT_ON_TARGET = {
    "lambda:ListEventSourceMappings": "*",
    "lambda:GetEventSourceMapping": ":event-source-mapping:*",
    "lambda:UpdateEventSourceMapping": ":event-source-mapping:*",
}


def test_every_function_may_apply_and_undo_every_registered_action_on_its_kind(synthesized):
    for statements in _policies(synthesized.service_template).values():
        for action in ACTIONS.values():
            on_target = set(ACTING[Resource(action.kind.value)])
            grants = [s for s in statements if s["Effect"] == "Allow" and _actions(s) >= on_target]
            assert grants, f"{action.__name__} is not granted"
            assert all(f":{action.kind.value}" in json.dumps(g["Resource"]) for g in grants)
        ledger = [s for s in statements if _actions(s) >= actions_of(Ledger.PERMISSIONS)]
        assert any(f"/index/{ACTIVE_INDEX}" in json.dumps(s["Resource"]) for s in ledger)


def test_event_source_mappings_are_listed_on_star_and_paused_by_mapping_arn(synthesized):
    for statements in _policies(synthesized.service_template).values():
        for permission, resource in NOT_ON_TARGET.items():
            grants = [s for s in statements if s["Effect"] == "Allow" and permission in _actions(s)]
            assert grants, f"{permission} is not granted"
            for grant in grants:
                granted = json.dumps(grant["Resource"])
                assert granted.endswith(f'{resource}"') or granted.endswith(f'{resource}"]]}}')
                assert ":function:" not in granted


def test_guardrail_may_not_change_its_own_functions(synthesized):
    policies = _policies(synthesized.service_template)
    functions = synthesized.service_template.find_resources("AWS::Lambda::Function")
    assert len(policies) == len(functions) >= 1
    for statements in policies.values():
        deny, deny_mappings = [s for s in statements if s["Effect"] == "Deny"]
        assert _actions(deny) == {"lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"}
        assert _denied_names(deny["Resource"]) == OWN
        assert "*" not in json.dumps(deny["Resource"])  # no prefix: exact ARNs only
        assert _actions(deny_mappings) == {"lambda:UpdateEventSourceMapping"}
        assert _denied_names(deny_mappings["Condition"]["ArnLike"]["lambda:FunctionArn"]) == OWN
    # the exact names the runtime exempts are the deployed ones, and no prefix is trusted
    assert {f["Properties"]["FunctionName"] for f in functions.values()} == OWN


def _denied_names(resources):
    """The function names in a list of `Fn::Join`ed function ARNs."""
    return {json.dumps(arn).rsplit(":function:", 1)[1].split('"')[0] for arn in resources}


def test_function_asset_holds_only_the_guardrail_package(synthesized):
    functions = synthesized.service_template.find_resources("AWS::Lambda::Function").values()
    keys = {f["Properties"]["Code"]["S3Key"] for f in functions}
    assert len(keys) == 1, "every guardrail function shares one code asset"
    asset = synthesized.outdir / f"asset.{keys.pop().removesuffix('.zip')}"
    assert {p.name for p in asset.iterdir()} == {"guardrail"}
    assert not list(asset.rglob("__pycache__"))


def test_synthesis_needs_no_aws_lookups(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert "missing" not in manifest


def test_cfn_lint_is_clean_but_for_cdks_role_dependency(synthesized):
    templates = sorted(str(p) for p in synthesized.outdir.glob("*.template.json"))
    rules, output = cfn_lint(templates)
    assert rules <= {"W3005"}, output


def test_email_addresses_become_subscriptions():
    stack = cdk.Stack(cdk.App(), "Bare")
    GuardrailState(stack, "State", config=GuardrailConfig(alert_emails=("a@example.com", "b@example.com")))
    subscriptions = Template.from_stack(stack).find_resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == [
        "a@example.com",
        "b@example.com",
    ]
    assert {s["Properties"]["Protocol"] for s in subscriptions.values()} == {"email"}


def test_cdk_nag_runs_at_synthesis_and_fails_unacknowledged_findings(tmp_path: Path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Careless")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["lambda:*"], resources=["*"]))
    add_checks(app)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Action::lambda:\*\]"):
        app.synth()


def _team_app(tmp_path: Path) -> tuple[cdk.App, Construct]:
    """A team's stack: its own plain queue (cdk-nag would flag it) beside a construct of ours."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Team")
    sqs.Queue(stack, "TeamQueue")
    ours = Construct(stack, "Ours")
    iam.Role(ours, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    return app, ours


def test_checks_on_a_construct_leave_the_teams_own_resources_to_the_team(tmp_path: Path):
    app, ours = _team_app(tmp_path)
    add_checks(ours)
    app.synth()  # the same app fails its synthesis with the app-wide checks (below)
    reports = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert all(report["conclusion"] == "success" for report in reports)


def test_checks_on_a_construct_still_fail_its_own_findings(tmp_path: Path):
    app, ours = _team_app(tmp_path)
    sqs.Queue(ours, "OurQueue")
    add_checks(ours)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-SQS3") as failed:
        app.synth()
    assert "Team/Ours/OurQueue" in str(failed.value)
    assert "Team/TeamQueue" not in str(failed.value)


def test_checks_on_the_app_are_the_app_wide_opt_in(tmp_path: Path):
    app, _ = _team_app(tmp_path)
    add_checks(app)
    with pytest.raises(RuntimeError, match=r"Team/TeamQueue"):
        app.synth()
