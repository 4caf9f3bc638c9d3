"""The member template deploys into a member account as the StackSet would (moto keeps accounts apart).

moto's CloudFormation stands in for the StackSet's stack instance: one `create_stack` per account and
region with the StackSet's parameters (moto 5.2 cannot run a service-managed StackSet across an
organization), and ignores the event bus's `Policy` (checked on the template in test_organization.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from guardrail.config import GuardrailConfig

pytestmark = pytest.mark.infra

CENTRAL, MEMBER = "111111111111", "222222222222"


@pytest.fixture
def member_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """Credentials of account 222222222222 (an assumed role's, as a StackSet execution role's would be)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        assumed = boto3.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{MEMBER}:role/stack-set-execution", RoleSessionName="stack-set"
        )["Credentials"]
        yield boto3.session.Session(
            aws_access_key_id=assumed["AccessKeyId"],
            aws_secret_access_key=assumed["SecretAccessKey"],
            aws_session_token=assumed["SessionToken"],
            region_name="ap-northeast-1",
        )


def _deploy(session: boto3.session.Session, region: str, template: dict) -> None:
    cloudformation = session.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName="StackSet-runaway-guardrail-member",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "CentralAccount", "ParameterValue": CENTRAL},
            {"ParameterKey": "HomeRegion", "ParameterValue": "ap-northeast-1"},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    status = cloudformation.describe_stacks(StackName="StackSet-runaway-guardrail-member")["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE", status


def test_member_stack_creates_the_role_once_and_the_forwarding_rules_in_each_region(fleet, member_session):
    template = fleet.stacks.organization.member_template
    for region in ("ap-northeast-1", "us-west-2"):
        _deploy(member_session, region, template)

    assert member_session.client("sts").get_caller_identity()["Account"] == MEMBER
    role = member_session.client("iam").get_role(RoleName="runaway-guardrail-enforcement")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{MEMBER}:role/runaway-guardrail-enforcement"
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{CENTRAL}:root"}
    # the central functions' roles by exact ARN: a role anyone creates under the path is not trusted
    assert statement["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": [
            f"arn:aws:iam::{CENTRAL}:role/runaway-guardrail/{name}"
            for name in sorted(GuardrailConfig().own_functions())
        ]
    }
    assert "*" not in json.dumps(statement["Condition"])
    for region, with_role in (("ap-northeast-1", True), ("us-west-2", False)):  # IAM is global: once
        resources = member_session.client("cloudformation", region_name=region).describe_stack_resources(
            StackName="StackSet-runaway-guardrail-member"
        )["StackResources"]
        roles = [
            r["PhysicalResourceId"]
            for r in resources
            if r.get("LogicalResourceId", "").startswith("Enforcement")
        ]
        assert roles == (["runaway-guardrail-enforcement"] if with_role else []), roles

    central_bus = f"arn:aws:events:ap-northeast-1:{CENTRAL}:event-bus/runaway-guardrail-signals"
    for region in ("ap-northeast-1", "us-west-2"):
        events = member_session.client("events", region_name=region)
        default_rules = events.list_rules()["Rules"]
        guard_rules = events.list_rules(EventBusName="runaway-guardrail-signals")["Rules"]
        assert len(default_rules) == 4 and len(guard_rules) == 1
        for rule in [*default_rules, *guard_rules]:
            assert rule["Arn"].startswith(f"arn:aws:events:{region}:{MEMBER}:rule/")
            bus = rule.get("EventBusName", "default")
            [target] = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
            assert target["Arn"] == central_bus
    # nothing landed in the account whose credentials assumed the role
    deployer = boto3.client("iam")
    assert "runaway-guardrail-enforcement" not in [r["RoleName"] for r in deployer.list_roles()["Roles"]]
