import pytest
from aws_cdk.assertions import Match, Template

from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.permissions import actions_of
from guardrail.errors import ConfigError
from runaway_guardrail_cdk.app import cdk_json_context
from tests.infra.conftest import synthesize

pytestmark = pytest.mark.infra


def _context(detector):
    guardrail = cdk_json_context()["guardrail"]
    return {"guardrail": {**guardrail, "detectors": {"athena-watch": detector}}}


def test_function_is_fed_by_state_changes_and_cloudtrail_query_starts(synthesized):
    template = synthesized.service_template
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "runaway-guardrail-athena-watch",
            "Handler": "guardrail.handlers.athena_watch.handler",
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.athena"],
                "detail-type": ["Athena Query State Change"],
                "detail": {"currentState": ["CANCELLED", "FAILED", "SUCCEEDED"]},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.athena"],
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventSource": ["athena.amazonaws.com"], "eventName": ["StartQueryExecution"]},
            }
        },
    )
    template.resource_count_is("AWS::CloudTrail::Trail", 0)


def test_function_is_fed_by_the_guards_query_starts_on_the_signal_bus(synthesized):
    template = synthesized.service_template
    rules = template.find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"source": ["guardrail"], "detail-type": ["Athena Query Started"]}}},
    )
    ((logical_id, rule),) = rules.items()
    assert rule["Properties"]["EventBusName"] == "runaway-guardrail-signals"
    assert "AthenaWatch" in logical_id
    (target,) = rule["Properties"]["Targets"]
    assert "AthenaWatch" in str(target["Arn"]) and "DeadLetterConfig" in target
    buses = template.find_resources("AWS::Events::EventBus")
    assert set(rule.get("DependsOn", [])) & set(buses)  # created after the bus it listens on


def test_role_gets_every_permission_its_adapters_declare(synthesized):
    granted = set()
    for policy in synthesized.service_template.find_resources("AWS::IAM::Policy").values():
        if "AthenaWatch" not in str(policy["Properties"]["Roles"]):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            if statement["Effect"] == "Allow":
                granted |= {actions} if isinstance(actions, str) else set(actions)
    declared = actions_of(
        AthenaCounters.PERMISSIONS,
        AthenaBaselines.PERMISSIONS,
        AthenaQueries.PERMISSIONS,
        DataLocations.PERMISSIONS,
        AthenaWorkgroups.PERMISSIONS,
    )
    assert declared <= granted, declared - granted


def test_create_trail_flag_adds_a_write_only_management_trail(tmp_path):
    synthesized = synthesize(tmp_path, _context({"createTrail": True}))
    template = Template.from_stack(synthesized.service)
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {"IsMultiRegionTrail": False, "EventSelectors": [Match.object_like({"ReadWriteType": "WriteOnly"})]},
    )


def test_malformed_section_fails_synthesis(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"^guardrail\.detectors\.athena-watch\.caller\.maxQueriesPerWindow: expected a whole",
    ):
        synthesize(tmp_path, _context({"caller": {"maxQueriesPerWindow": "lots"}}))
