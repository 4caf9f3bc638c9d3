"""Adapter over CloudWatch GetMetricData: Lambda's per-minute sums, 500 queries a call.

The invocation scan reads its samples through it; the recursion watch reads `RecursiveInvocationsDropped`
to check an alarm against Lambda's own metric (`guardrail.detectors.recursion_alarms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, adaptive_retries
from guardrail.adapters.permissions import Grant, Resource
from guardrail.detectors.invocation_scan.detect import (
    NAMESPACE,
    RECURSIVE_INVOCATIONS_DROPPED,
    MetricQuery,
    Sample,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.client import CloudWatchClient  # noqa: F401 - the adapter's type parameter
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDataQueryTypeDef, MetricStatTypeDef

#: GetMetricData takes at most 500 queries per call; CloudWatch bills per metric queried, not per call.
QUERIES_PER_CALL = 500


class CloudWatchMetrics(AwsAdapter["CloudWatchClient"]):
    """Reads per-minute sums of Lambda metrics."""

    SERVICE = "cloudwatch"
    RETRIES = adaptive_retries(8)
    PERMISSIONS = (Grant(Resource.ANY, ("cloudwatch:GetMetricData",)),)

    @translated("GetMetricData")
    def samples(
        self, queries: Sequence[MetricQuery], *, start: datetime, end: datetime
    ) -> dict[MetricQuery, list[Sample]]:
        """Per-minute sums in [start, end) for every query, in calls of up to 500 queries, every page."""
        out: dict[MetricQuery, list[Sample]] = {query: [] for query in queries}
        paginator = self._client.get_paginator("get_metric_data")
        for first in range(0, len(queries), QUERIES_PER_CALL):
            batch = queries[first : first + QUERIES_PER_CALL]
            pages = paginator.paginate(
                MetricDataQueries=[_query(f"q{i}", query) for i, query in enumerate(batch)],
                StartTime=start,
                EndTime=end,
                ScanBy="TimestampAscending",
            )
            for page in pages:
                for result in page.get("MetricDataResults", []):
                    samples = out[batch[int(result["Id"][1:])]]
                    samples.extend(map(Sample, result.get("Timestamps", []), result.get("Values", [])))
        return out

    def recursive_drops(self, function: str, *, start: datetime, end: datetime) -> float:
        """The sum of `function`'s `RecursiveInvocationsDropped` datapoints in [start, end)."""
        query = MetricQuery(RECURSIVE_INVOCATIONS_DROPPED, function)
        return sum(sample.value for sample in self.samples([query], start=start, end=end)[query])


def _query(query_id: str, query: MetricQuery) -> MetricDataQueryTypeDef:
    dimensions: list[DimensionTypeDef] = []
    if query.function is not None:
        dimensions.append({"Name": "FunctionName", "Value": query.function})
    stat: MetricStatTypeDef = {
        "Metric": {"Namespace": NAMESPACE, "MetricName": query.metric, "Dimensions": dimensions},
        "Period": 60,
        "Stat": "Sum",
    }
    return {"Id": query_id, "MetricStat": stat, "ReturnData": True}
