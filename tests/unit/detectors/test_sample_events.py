"""The recursion watch's parsers on AWS's own sample events (tests/events/, sources in SOURCES.md)."""

from __future__ import annotations

import pytest

from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event
from guardrail.scope import Scope
from tests.events import sample

ACCOUNT = "123456789012"  # the samples' account
MANAGEMENT = "999999999999"  # the organizational view's copy is delivered here
HOME = Scope(ACCOUNT, "us-east-1", regions=frozenset({"us-west-2"}))
CENTRAL = Scope(MANAGEMENT, "us-east-1", regions=frozenset({"us-west-2"}), organization=True)
LAYER = HOME.layer_arn("runaway-guardrail-recursion-guard")


def findings(name: str, folder: str = "health", scope: Scope = HOME) -> list:
    return findings_from_event(sample(folder, name), scope=scope, guard_layer=LAYER)


def test_lambdas_loop_notice_names_the_function_where_the_loop_ran():
    [finding] = findings("lambda_runaway_termination")
    assert (finding.target.name, finding.target.account, finding.target.region) == (
        "nightly-batch",
        ACCOUNT,
        "us-east-1",
    )
    assert finding.doubt == ""
    assert (
        finding.evidence["health_event_arn"]
        == sample("health", "lambda_runaway_termination")["detail"]["eventArn"]
    )


def test_the_backup_region_copy_is_the_same_finding():
    [primary] = findings("lambda_runaway_termination")
    [copy] = findings("lambda_runaway_termination_backup_region")
    assert (copy.target, copy.dedupe_key, copy.doubt) == (primary.target, primary.dedupe_key, "")
    assert copy.evidence["delivered_to"] == f"account {ACCOUNT}, region us-west-2"


def test_the_organizational_view_copy_is_the_affected_accounts_finding():
    [own] = findings("lambda_runaway_termination", scope=CENTRAL)
    [copy] = findings("lambda_runaway_termination_organizational_view", scope=CENTRAL)
    assert (copy.target.account, copy.target.region) == (ACCOUNT, "us-east-1")
    assert (copy.dedupe_key, copy.doubt) == (own.dedupe_key, "")


def test_the_arn_form_is_the_same_function_in_the_same_place():
    [by_name] = findings("lambda_runaway_termination")
    [by_arn] = findings("lambda_runaway_termination_arn_entity")
    assert (by_arn.target, by_arn.dedupe_key, by_arn.doubt) == (by_name.target, by_name.dedupe_key, "")


def test_a_health_event_about_another_service_names_no_function():
    assert findings("ec2_instance_store_drive_performance_degraded") == []


def test_the_alarm_on_lambdas_dropped_recursions_names_its_function_with_the_alarms_period():
    [finding] = findings("alarm_recursive_invocations_dropped", "cloudwatch")
    assert finding.target.name == "nightly-batch"
    assert (finding.evidence["alarm"], finding.evidence["metric_period"]) == ("nightly-batch-recursion", 60)


@pytest.mark.parametrize("name", ["alarm_state_change_single_metric", "alarm_state_change_metric_math"])
def test_alarms_on_other_metrics_name_no_function(name):
    assert findings(name, "cloudwatch") == []


def test_the_alarm_actions_payload_is_not_an_eventbridge_event():
    with pytest.raises(UnsupportedEvent, match="not an EventBridge event"):
        findings("powertools_alarm_action_single_metric", "cloudwatch")
