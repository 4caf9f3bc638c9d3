"""Adapter over CloudWatch GetMetricData: Lambda's per-minute sums, 500 queries a call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from guardrail.adapters.clients import client_for
from guardrail.detectors.invocation_scan.detect import NAMESPACE, MetricQuery, Sample

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.client import CloudWatchClient

#: GetMetricData takes at most 500 queries per call; CloudWatch bills per metric queried, not per call.
QUERIES_PER_CALL = 500
_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})


class CloudWatchMetrics:
    """Reads per-minute sums of Lambda metrics."""

    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = ("cloudwatch:GetMetricData",)

    def __init__(
        self,
        *,
        boto3_client: CloudWatchClient | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._client: CloudWatchClient = client_for(
            "cloudwatch",
            boto3_client=boto3_client,
            boto3_session=boto3_session,
            boto_config=boto_config or _RETRIES,
        )

    def samples(
        self, queries: Sequence[MetricQuery], *, start: datetime, end: datetime
    ) -> dict[MetricQuery, list[Sample]]:
        """Per-minute sums in [start, end) for every query, in calls of up to 500 queries."""
        out: dict[MetricQuery, list[Sample]] = {query: [] for query in queries}
        for first in range(0, len(queries), QUERIES_PER_CALL):
            batch = queries[first : first + QUERIES_PER_CALL]
            kwargs: dict[str, Any] = {
                "MetricDataQueries": [_query(f"q{i}", query) for i, query in enumerate(batch)],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            while True:
                page = self._client.get_metric_data(**kwargs)
                for result in page.get("MetricDataResults", []):
                    samples = out[batch[int(result["Id"][1:])]]
                    samples.extend(map(Sample, result.get("Timestamps", []), result.get("Values", [])))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        return out


def _query(query_id: str, query: MetricQuery) -> dict[str, Any]:
    dimensions = [] if query.function is None else [{"Name": "FunctionName", "Value": query.function}]
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": query.metric, "Dimensions": dimensions},
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
