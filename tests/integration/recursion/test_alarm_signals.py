"""Alarms on `RecursiveInvocationsDropped` act only where Lambda's own metric bears them out.

Through the recursion watch's handler on moto. The alarm is created and forced to ALARM with moto's
CloudWatch (PutMetricAlarm, SetAlarmState), as anyone allowed those calls can; moto does not deliver
the state change to EventBridge, so the test builds the event CloudWatch sends from the alarm as
DescribeAlarms returns it, in the shape of AWS's sample (tests/events/cloudwatch/). Lambda's own
datapoints are written with moto's PutMetricData to `AWS/Lambda`, which AWS refuses to anyone but Lambda.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import ACCOUNT, REGION

SAMPLE = Path(__file__).parents[2] / "events" / "cloudwatch" / "alarm_recursive_invocations_dropped.json"
FUNCTIONS = [f"service-{i}" for i in range(6)]


def forced_alarm(aws: Any, name: str, functions: list[str]) -> None:
    """An alarm on the dropped-invocation metric of each function, forced to ALARM with SetAlarmState."""
    metrics = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "RecursiveInvocationsDropped",
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }
        for i, function in enumerate(functions)
    ]
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[*metrics, {"Id": "e1", "Expression": "SUM(METRICS())", "ReturnData": True}],
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="forced")


def state_change(aws: Any, name: str, at: datetime) -> dict[str, Any]:
    """The `CloudWatch Alarm State Change` event CloudWatch sends for the alarm, from AWS's sample."""
    [alarm] = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    event = json.loads(SAMPLE.read_text())
    event |= {
        "account": ACCOUNT,
        "region": REGION,
        "time": f"{at:%Y-%m-%dT%H:%M:%SZ}",
        "resources": [alarm["AlarmArn"]],
    }
    metrics = []
    for query in alarm["Metrics"]:
        if "MetricStat" not in query:
            metrics.append({"id": query["Id"], "expression": query["Expression"], "returnData": True})
            continue
        stat = query["MetricStat"]
        metric = {
            "namespace": stat["Metric"]["Namespace"],
            "name": stat["Metric"]["MetricName"],
            "dimensions": {d["Name"]: d["Value"] for d in stat["Metric"]["Dimensions"]},
        }
        metrics.append(
            {
                "id": query["Id"],
                "metricStat": {"metric": metric, "period": stat["Period"], "stat": stat["Stat"]},
                "returnData": False,
            }
        )
    event["detail"]["alarmName"] = name
    event["detail"]["configuration"]["metrics"] = metrics
    event["detail"]["state"] |= {
        "value": alarm["StateValue"],
        "reason": alarm["StateReason"],
        "timestamp": f"{at:%Y-%m-%dT%H:%M:%S.000+0000}",
    }
    return event


def dropped(aws: Any, function: str, at: datetime, count: float) -> None:
    """Lambda's own datapoint: it dropped `count` recursive invocations of `function` in the minute."""
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "RecursiveInvocationsDropped",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": at,
                "Value": count,
                "Unit": "Count",
            }
        ],
    )


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_a_forced_alarm_naming_six_functions_throttles_none_and_alerts_once(
    aws, deployed, make_function, watch
):
    for name in FUNCTIONS:
        make_function(name, reserved=5, layers=[])
    forced_alarm(aws, "looks-like-a-loop", FUNCTIONS)
    event = state_change(aws, "looks-like-a-loop", now())

    first = watch(event)
    again = watch(event)

    assert [r["result"] for r in first["results"]] == ["unverified"] * 6
    assert [r["result"] for r in again["results"]] == ["unverified"] * 6
    assert [deployed.reservation(name) for name in FUNCTIONS] == [5] * 6
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "unverified"
    assert "RecursiveInvocationsDropped" in alert["Document"]["reason"] + json.dumps(alert["Document"])
    assert all(name in alert["Message"] for name in FUNCTIONS)


def test_a_genuine_alarm_throttles_the_function_lambda_dropped_invocations_of(
    aws, deployed, make_function, watch
):
    for name in FUNCTIONS[:2]:
        make_function(name, reserved=5, layers=[])
    at = now()
    dropped(aws, FUNCTIONS[0], at - timedelta(minutes=2), 14)
    dropped(aws, FUNCTIONS[1], at - timedelta(minutes=2), 0)  # a datapoint of 0: nothing was dropped
    forced_alarm(aws, "nightly-loop", FUNCTIONS[:2])

    results = watch(state_change(aws, "nightly-loop", at))["results"]

    assert {r["function"]: r["result"] for r in results} == {
        FUNCTIONS[0]: "throttled",
        FUNCTIONS[1]: "unverified",
    }
    assert deployed.reservation(FUNCTIONS[0]) == 0
    assert deployed.reservation(FUNCTIONS[1]) == 5


def test_drops_long_before_the_alarm_do_not_bear_it_out(aws, deployed, make_function, watch):
    make_function(FUNCTIONS[0], reserved=5, layers=[])
    at = now()
    dropped(aws, FUNCTIONS[0], at - timedelta(days=1), 3)
    forced_alarm(aws, "stale", FUNCTIONS[:1])

    [result] = watch(state_change(aws, "stale", at))["results"]

    assert result["result"] == "unverified"
    assert deployed.reservation(FUNCTIONS[0]) == 5
