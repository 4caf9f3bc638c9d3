"""The recursion signals detector: which events of which account name which functions."""

from __future__ import annotations

from typing import Any

import pytest

from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event

ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nightly-batch"


def envelope(source: str, detail_type: str, detail: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-28T02:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
        **extra,
    }


def health_event(code: str = "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION", **extra: Any) -> dict[str, Any]:
    """An AWS Health event of the shape AWS documents for a recursive loop Lambda stopped."""
    return envelope(
        "aws.health",
        "AWS Health Event",
        {
            "eventArn": f"arn:aws:health:us-east-1::event/LAMBDA/{code}/{code}_abc123",
            "service": "LAMBDA",
            "eventTypeCode": code,
            "eventTypeCategory": "accountNotification",
            "startTime": "Sat, 28 Nov 2026 02:00:00 GMT",
            "eventDescription": [{"language": "en_US", "latestDescription": "Lambda stopped a loop."}],
            "affectedEntities": [{"entityValue": FUNCTION_ARN}],
        },
        resources=[FUNCTION_ARN],
        **extra,
    )


def alarm_event(namespace: str) -> dict[str, Any]:
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
    )


def test_health_runaway_termination_notice_names_the_function() -> None:
    [finding] = findings_from_event(health_event(), account=ACCOUNT)
    assert finding.target.name == "nightly-batch"
    assert finding.detector == "aws-recursive-loop"
    assert finding.evidence["event_type_code"] == "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION"


def test_other_lambda_health_events_name_no_function() -> None:
    assert findings_from_event(health_event("AWS_LAMBDA_OPERATIONAL_ISSUE"), account=ACCOUNT) == []


def test_events_from_another_account_are_refused() -> None:
    with pytest.raises(UnsupportedEvent, match="from account 999999999999"):
        findings_from_event(health_event(account="999999999999"), account=ACCOUNT)


def test_dropped_recursion_alarm_on_lambdas_namespace_names_the_function() -> None:
    [finding] = findings_from_event(alarm_event("AWS/Lambda"), account=ACCOUNT)
    assert finding.target.name == "nightly-batch"


def test_alarm_on_a_custom_namespace_names_no_function() -> None:
    assert findings_from_event(alarm_event("Custom/Anything"), account=ACCOUNT) == []
