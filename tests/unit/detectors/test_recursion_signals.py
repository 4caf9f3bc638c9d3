"""The recursion signals detector: which events of which account name which functions."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event
from guardrail.domain import Expectation
from guardrail.scope import Scope
from tests.unit.detectors.recursion_events import ACCOUNT, FUNCTION_ARN, envelope, health_event

SCOPE = Scope(ACCOUNT, "us-east-1")
LAYER = SCOPE.layer_arn("runaway-guardrail-recursion-guard")


def findings(event: dict[str, Any]) -> list[Any]:
    return findings_from_event(event, scope=SCOPE, guard_layer=LAYER)


def alarm_event(namespace: str, **extra: Any) -> dict[str, Any]:
    metric = {"namespace": namespace, "name": "RecursiveInvocationsDropped"}
    metric["dimensions"] = {"FunctionName": "nightly-batch"}
    return envelope(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        {
            "alarmName": "dropped",
            "state": {"value": "ALARM", "reason": "threshold crossed", "timestamp": "2026-11-28T02:00:00Z"},
            "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": metric}}]},
        },
        **extra,
    )


def test_health_runaway_termination_notice_names_the_function() -> None:
    [finding] = findings(health_event())
    assert finding.target.name == "nightly-batch"
    assert finding.detector == "aws-recursive-loop"
    assert finding.evidence["event_type_code"] == "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION"


def test_other_lambda_health_events_name_no_function() -> None:
    assert findings(health_event("AWS_LAMBDA_OPERATIONAL_ISSUE")) == []


@pytest.mark.parametrize("where", [{"account": "999999999999"}, {"region": "eu-west-1"}])
def test_events_of_another_account_or_region_give_unverified_findings(where: dict[str, str]) -> None:
    for event in (health_event(**where), alarm_event("AWS/Lambda", **where), refusal_event(**where)):
        [finding] = findings(event)
        assert finding.target.name == "nightly-batch"
        assert "this guardrail acts in account 123456789012, region us-east-1" in finding.doubt


def test_health_names_a_function_of_another_account_unverified_never_the_local_one() -> None:
    foreign = "arn:aws:lambda:us-east-1:999999999999:function:payments-core"
    event = health_event()
    event["detail"]["affectedEntities"] = [{"entityValue": foreign}]
    event["resources"] = [foreign]
    [finding] = findings(event)
    assert finding.target.name == "payments-core"
    assert "is a function of account 999999999999" in finding.doubt


def refusal_event(detail: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A refusal as the guard publishes it, on the signal bus."""
    detail = {
        "function": "nightly-batch",
        "depth": 6,
        "limit": 5,
        "chain_id": "c0ffee",
        "operation": "lambda.Invoke",
        "target": "nightly-batch",
        **(detail or {}),
    }
    return envelope("guardrail", "Recursion Depth Exceeded", detail, **{"resources": [FUNCTION_ARN], **extra})


def test_a_refusal_expects_the_function_to_run_the_guard() -> None:
    [finding] = findings(refusal_event())
    assert finding.target.name == "nightly-batch"
    assert not finding.doubt
    assert finding.expect == Expectation(guard_layer=LAYER)
    assert finding.dedupe_key == "recursion-guard:nightly-batch:c0ffee"


@pytest.mark.parametrize(
    ("detail", "resources", "doubt"),
    [
        (
            {"function": "arn:aws:lambda:us-east-1:999999999999:function:nightly-batch"},
            [],
            "account 999999999999",
        ),
        ({}, ["arn:aws:lambda:us-east-1:123456789012:function:payments-core"], "more than one function"),
        ({}, ["arn:aws:lambda:eu-west-1:123456789012:function:nightly-batch"], "region eu-west-1"),
    ],
)
def test_a_refusal_naming_a_foreign_function_or_two_functions_is_unverified(
    detail: dict[str, Any], resources: list[str], doubt: str
) -> None:
    [finding] = findings(refusal_event(detail, resources=resources))
    assert doubt in finding.doubt
    # a key of its own: a forged signal never uses up the real one's
    assert finding.dedupe_key is not None and finding.dedupe_key.startswith("unverified:recursion-guard:")


@pytest.mark.parametrize(
    "detail",
    [
        {"operation": "x" * 65},
        {"target": "t" * 2049},
        {"function": "has space"},
        {"chain_id": ""},
        {"depth": 0},
    ],
)
def test_a_refusal_with_fields_the_guard_never_writes_is_malformed(detail: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedEvent, match="malformed detail"):
        findings(refusal_event(detail))


def test_dropped_recursion_alarm_on_lambdas_namespace_names_the_function() -> None:
    [finding] = findings(alarm_event("AWS/Lambda"))
    assert finding.target.name == "nightly-batch"


def test_alarm_on_a_custom_namespace_names_no_function() -> None:
    assert findings(alarm_event("Custom/Anything")) == []
