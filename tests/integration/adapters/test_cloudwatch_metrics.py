"""GetMetricData paging and batching, with botocore's Stubber (moto returns every datapoint at once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber

from guardrail.adapters.cloudwatch_metrics import QUERIES_PER_CALL, CloudWatchMetrics
from guardrail.detectors.invocation_scan.detect import MetricQuery, Sample
from guardrail.errors import AwsCallFailed
from tests.conftest import offline_client

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
END = START + timedelta(minutes=3)


def stubbed() -> tuple[CloudWatchMetrics, Stubber]:
    client = offline_client("cloudwatch")
    return CloudWatchMetrics(boto3_client=client), Stubber(client)


def expected(token: str | None = None) -> dict:
    params = {"MetricDataQueries": ANY, "StartTime": START, "EndTime": END, "ScanBy": "TimestampAscending"}
    return params if token is None else {**params, "NextToken": token}


def result(query_id: str, minute: int, value: float) -> dict:
    at = START + timedelta(minutes=minute)
    return {"Id": query_id, "Timestamps": [at], "Values": [value], "StatusCode": "Complete"}


def test_samples_follow_next_token_and_split_batches_of_500():
    metrics, stub = stubbed()
    queries = [MetricQuery("Invocations", f"fn-{i}") for i in range(QUERIES_PER_CALL + 1)]
    first_page = {"MetricDataResults": [result("q0", 0, 1.0)], "NextToken": "t1"}
    stub.add_response("get_metric_data", first_page, expected())
    stub.add_response("get_metric_data", {"MetricDataResults": [result("q0", 1, 2.0)]}, expected("t1"))
    stub.add_response("get_metric_data", {"MetricDataResults": [result("q0", 2, 3.0)]}, expected())
    with stub:
        samples = metrics.samples(queries, start=START, end=END)
    stub.assert_no_pending_responses()
    assert samples[queries[0]] == [Sample(START, 1.0), Sample(START + timedelta(minutes=1), 2.0)]
    assert samples[queries[QUERIES_PER_CALL]] == [Sample(START + timedelta(minutes=2), 3.0)]
    assert samples[queries[1]] == []


def test_a_failed_call_escapes_as_aws_call_failed():
    metrics, stub = stubbed()
    stub.add_client_error("get_metric_data", "AccessDenied", "not allowed")
    with stub, pytest.raises(AwsCallFailed, match="AccessDenied"):
        metrics.samples([MetricQuery("Invocations", None)], start=START, end=END)
