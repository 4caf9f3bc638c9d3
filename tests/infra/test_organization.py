"""Organization mode: the StackSet, the member template, its enforcement role, the central bus's policy."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.permissions import actions_of
from guardrail.config import GuardrailConfig
from runaway_guardrail_cdk.member import TEMPLATE_BODY_LIMIT
from runaway_guardrail_cdk.organization import GuardrailOrganizationStack

from .conftest import FLEET, HOME

pytestmark = pytest.mark.infra

WATCHED = ["ap-northeast-1", "us-west-2", "eu-west-1"]
CENTRAL_BUS = {"Fn::Sub": "arn:${AWS::Partition}:events:${HomeRegion}:${CentralAccount}:event-bus/${BusName}"}
#: What the central guardrail calls in a member account: its actions' adapters, the Athena watch's lookups,
#: the scan's metrics (the adapters' declarations).
ENFORCEMENT = actions_of(
    LambdaControl.PERMISSIONS,
    EventSources.PERMISSIONS,
    AthenaWorkgroups.PERMISSIONS,
    AthenaQueries.PERMISSIONS,
    DataLocations.PERMISSIONS,
    CloudWatchMetrics.PERMISSIONS,
)
#: What a throttle changes besides the function, and its restore puts back.
MUTATING_PAUSES = {"athena:UpdateWorkGroup", "lambda:UpdateEventSourceMapping"}
NO_RESOURCE_LEVEL = {"lambda:ListFunctions", "lambda:ListEventSourceMappings", "cloudwatch:GetMetricData"}


@pytest.fixture(scope="module")
def member(fleet) -> Template:
    return Template.from_json(fleet.stacks.organization.member_template)


@pytest.fixture(scope="module")
def stack_set(fleet) -> dict:
    template = fleet.template(fleet.stacks.organization)
    [stack_set] = template.find_resources("AWS::CloudFormation::StackSet").values()
    return stack_set["Properties"]


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_stack_set_is_service_managed_auto_deployed_to_the_ous_in_every_watched_region(stack_set):
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert stack_set["CallAs"] == "SELF"
    assert stack_set["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    [group] = stack_set["StackInstancesGroup"]
    assert group["Regions"] == WATCHED
    assert group["DeploymentTargets"] == {
        "OrganizationalUnitIds": FLEET["organization"]["organizationalUnitIds"],
        # the central account watches itself through its own stacks: never a member of its own StackSet
        "Accounts": ["111111111111"],
        "AccountFilterType": "DIFFERENCE",
    }
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack_set["Parameters"]} == {
        "CentralAccount": "111111111111",
        "HomeRegion": "ap-northeast-1",
        "BusName": "runaway-guardrail-signals",
    }


def test_the_stack_set_deploys_the_member_template_which_is_plain_cloudformation(fleet, stack_set):
    body = stack_set["TemplateBody"]
    assert json.loads(body) == fleet.stacks.organization.member_template
    assert len(body) <= TEMPLATE_BODY_LIMIT
    template = json.loads(body)
    assert set(template["Parameters"]) == {"CentralAccount", "HomeRegion", "BusName"}  # no BootstrapVersion
    assert "Rules" not in template
    assert "S3Bucket" not in body and "cdk-hnb659fds" not in body  # no asset, no bootstrap bucket
    assert fleet.stacks.organization in fleet.stacks.all


def test_member_forwards_the_home_rules_signals_and_the_guards_to_the_central_bus(fleet, member):
    home = fleet.template(fleet.stacks.service).find_resources("AWS::Events::Rule")
    home_patterns = sorted(
        json.dumps(r["Properties"]["EventPattern"], sort_keys=True)
        for r in home.values()
        if "EventPattern" in r["Properties"] and "EventBusName" not in r["Properties"]
    )
    rules = [r["Properties"] for r in member.find_resources("AWS::Events::Rule").values()]
    default_bus = [r for r in rules if "EventBusName" not in r]
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in default_bus) == home_patterns
    [guard] = [r for r in rules if "EventBusName" in r]
    assert (guard["EventBusName"], guard["EventPattern"]) == (
        "runaway-guardrail-signals",
        {"source": ["guardrail"]},
    )
    [queue_id] = member.find_resources("AWS::SQS::Queue")
    for rule in rules:
        [target] = rule["Targets"]
        assert target["Arn"] == CENTRAL_BUS
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    [bus] = member.find_resources(
        "AWS::Events::EventBus", {"Properties": {"Name": "runaway-guardrail-signals"}}
    ).values()
    [statement] = bus["Properties"]["Policy"]["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def _enforcement_role(member: Template) -> dict:
    [role] = member.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": "runaway-guardrail-enforcement"}}
    ).values()
    return role


def test_enforcement_role_is_created_once_per_account_in_the_home_region(member):
    role = _enforcement_role(member)
    assert role["Condition"] == "InHomeRegion"
    assert member.to_json()["Conditions"]["InHomeRegion"] == {
        "Fn::Equals": [{"Ref": "AWS::Region"}, {"Ref": "HomeRegion"}]
    }
    assert "Path" not in role["Properties"]  # arn:<partition>:iam::<account>:role/<prefix>-enforcement


def test_only_the_central_guardrails_roles_in_the_organization_may_assume_it(member):
    [statement] = _enforcement_role(member)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccount}:root"}},
        "Condition": {
            "ArnEquals": {
                "aws:PrincipalArn": [
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccount}:role/runaway-guardrail/" + name}
                    for name in sorted(GuardrailConfig().own_functions())
                ]
            },
            "StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"},
        },
    }


def test_the_central_roles_the_members_trust_are_the_guardrail_functions_roles_by_name(fleet):
    """The exact ARNs the member trust names are the central functions' roles (path + function name)."""
    template = fleet.template(fleet.stacks.service)
    functions = template.find_resources("AWS::Lambda::Function").values()
    roles = template.find_resources("AWS::IAM::Role")
    for function in functions:
        [role_id] = function["Properties"]["Role"]["Fn::GetAtt"][:1]
        role = roles[role_id]["Properties"]
        assert (role["Path"], role["RoleName"]) == (
            "/runaway-guardrail/",
            function["Properties"]["FunctionName"],
        )
    assert {f["Properties"]["FunctionName"] for f in functions} == GuardrailConfig().own_functions()


def test_a_throttle_never_pauses_a_workgroup_or_mapping_its_owner_exempts(member):
    [policy] = _enforcement_role(member)["Properties"]["Policies"]
    [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert sorted(_list(deny["Action"])) == sorted(MUTATING_PAUSES)
    assert MUTATING_PAUSES <= ENFORCEMENT
    assert deny["Condition"] == {"StringEqualsIgnoreCase": {"aws:ResourceTag/guardrail:exempt": "true"}}
    resources = json.dumps(deny["Resource"])
    assert resources.count(":athena:") == resources.count(":event-source-mapping:") == len(WATCHED)


def test_enforcement_role_may_do_what_enforcement_needs_on_this_account_only(member):
    [policy] = _enforcement_role(member)["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert [s["Effect"] for s in statements].count("Deny") == 1  # NeverOnWhatItsOwnerExempts
    statements = [s for s in statements if s["Effect"] == "Allow"]
    granted = {a for s in statements for a in _list(s["Action"])}
    assert granted == ENFORCEMENT
    for statement in statements:
        actions, resources = set(_list(statement["Action"])), _list(statement["Resource"])
        if resources == ["*"]:
            assert actions <= NO_RESOURCE_LEVEL
            continue
        for resource in resources:
            text = json.dumps(resource)
            if ":s3:::" in text:  # bucket ARNs name no account: the condition keeps them to this one
                assert statement["Condition"] == {
                    "StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
                }
                continue
            assert '{"Ref": "AWS::AccountId"}' in text, text
            assert any(f":{region}:" in text for region in WATCHED), text
    functions = [s for s in statements if "lambda:PutFunctionConcurrency" in _list(s["Action"])]
    [regions] = [{json.dumps(r).split(":lambda:")[1].split(":")[0] for r in s["Resource"]} for s in functions]
    assert regions == set(WATCHED)


def test_the_central_bus_admits_the_organization_and_nothing_else(fleet, synthesized):
    template = fleet.template(fleet.stacks.service)
    [bus] = template.find_resources("AWS::Events::EventBus").values()
    statements = sorted(bus["Properties"]["Policy"]["Statement"], key=lambda s: s["Sid"])
    assert [s["Sid"] for s in statements] == [
        "PutEventsFromTheOrganizationOnly",
        "PutEventsFromThisAccountOnly",
    ]
    assert not template.find_resources("AWS::Events::EventBusPolicy")
    organization, account = statements
    assert organization["Principal"] == {"AWS": "*"}
    assert organization["Action"] == "events:PutEvents"
    assert organization["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    assert account["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "111111111111"}}
    # one account: the bus admits this account only, as before
    [bus] = synthesized.service_template.find_resources("AWS::Events::EventBus").values()
    assert [s["Sid"] for s in bus["Properties"]["Policy"]["Statement"]] == ["PutEventsFromThisAccountOnly"]


def test_guardrail_roles_sit_under_the_path_members_trust_and_may_assume_member_roles(fleet, synthesized):
    for template, organization in (
        (fleet.template(fleet.stacks.service), True),
        (synthesized.service_template, False),
    ):
        functions = template.find_resources("AWS::Lambda::Function")
        roles = template.find_resources("AWS::IAM::Role")
        function_roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
        assert {roles[r]["Properties"]["Path"] for r in function_roles} == {"/runaway-guardrail/"}
        assume = [
            s
            for policy in template.find_resources("AWS::IAM::Policy").values()
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if "sts:AssumeRole" in _list(s["Action"])
        ]
        if not organization:
            assert assume == []
            continue
        assert len(assume) == len(functions)
        for statement in assume:
            assert statement["Resource"] == "arn:aws:iam::*:role/runaway-guardrail-enforcement"
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}


def test_member_accounts_may_use_the_guard_layer(fleet, synthesized):
    fleet.template(fleet.stacks.service).has_resource_properties(
        "AWS::Lambda::LayerVersionPermission",
        {"Action": "lambda:GetLayerVersion", "Principal": "*", "OrganizationId": "o-abcdefghij"},
    )
    synthesized.service_template.resource_count_is("AWS::Lambda::LayerVersionPermission", 0)


def test_a_delegated_administrator_creates_the_stack_set_as_one(tmp_path):
    organization = {**FLEET["organization"], "callAs": "DELEGATED_ADMIN"}
    config = GuardrailConfig.from_context({"organization": organization})
    app = cdk.App(outdir=str(tmp_path))
    stack = GuardrailOrganizationStack(app, "Organization", config=config, env=HOME)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::CloudFormation::StackSet", {"CallAs": "DELEGATED_ADMIN"})
    [stack_set] = template.find_resources("AWS::CloudFormation::StackSet").values()
    assert stack_set["Properties"]["StackInstancesGroup"][0]["Regions"] == ["ap-northeast-1"]  # home alone
