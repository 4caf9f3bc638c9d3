"""Lambda's per-minute invocation metrics, put into moto's CloudWatch for the invocation scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def publish(
    aws: Any, function: str, counts: dict[int, float], start: Any, metric: str = "Invocations"
) -> None:
    """Put per-minute sums for `function`, `counts` mapping minutes after `start` to a count."""
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": function}],
            "Timestamp": start + timedelta(minutes=minute),
            "Value": value,
            "Unit": "Count",
        }
        for minute, value in counts.items()
    ]
    cloudwatch = aws.client("cloudwatch")
    for first in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[first : first + 500])


def steady(per_minute: float, minutes: int = 60) -> dict[int, float]:
    return dict.fromkeys(range(minutes), per_minute)
