"""The handlers' shared metrics: outcome counts as EMF lines, and the scan's GetMetricData usage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from botocore.stub import Stubber

from guardrail.domain import Result
from guardrail.handlers import observability as obs


def _emf_lines(text: str) -> list[dict]:
    return [line for line in map(json.loads, filter(None, text.splitlines())) if "_aws" in line]


def test_outcome_counts_group_by_detector_and_result():
    counts = obs.outcome_counts(
        [("invocation-scan", Result.THROTTLED), ("invocation-scan", "throttled"), ("kill-switch", "exempt")]
    )
    assert counts == {("invocation-scan", "throttled"): 2, ("kill-switch", "exempt"): 1}


def test_count_outcomes_publishes_one_emf_line_per_detector_and_result(capsys):
    counts = obs.count_outcomes(
        obs.RECURSION_WATCH,
        [
            ("recursion-guard", "throttled"),
            ("aws-recursive-loop", "duplicate"),
            ("recursion-guard", "throttled"),
        ],
    )

    lines = _emf_lines(capsys.readouterr().out)
    assert counts == {("recursion-guard", "throttled"): 2, ("aws-recursive-loop", "duplicate"): 1}
    published = {(line["Detector"], line["Result"]): line for line in lines}
    assert set(published) == set(counts)
    throttled = published["recursion-guard", "throttled"]
    assert throttled[obs.ACTIONS] == [2.0]
    assert throttled["service"] == obs.RECURSION_WATCH
    [directive] = throttled["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == obs.NAMESPACE
    assert directive["Metrics"] == [{"Name": obs.ACTIONS, "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == sorted(
        ["service", obs.DETECTOR_DIMENSION, obs.RESULT_DIMENSION]
    )


def test_count_outcomes_publishes_nothing_for_no_action(capsys):
    assert obs.count_outcomes(obs.KILL_SWITCH, []) == {}
    assert _emf_lines(capsys.readouterr().out) == []


def test_function_metrics_carry_the_functions_role_as_service(capsys):
    metrics = obs.function_metrics(obs.INVOCATION_SCAN)
    metrics.add_metric(name=obs.FUNCTIONS_HELD, unit="Count", value=3)
    metrics.flush_metrics()

    [line] = _emf_lines(capsys.readouterr().out)
    assert line["service"] == obs.INVOCATION_SCAN
    assert line[obs.FUNCTIONS_HELD] == [3.0]
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == obs.NAMESPACE


def test_metric_data_usage_counts_calls_and_queries_of_the_sessions_clients():
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    usage = obs.MetricDataUsage().attach(session)
    client = session.client("cloudwatch")  # botocore's Stubber answers; no AWS
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations"},
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for i in range(3)
    ]
    window = {"StartTime": datetime(2026, 1, 1, tzinfo=UTC), "EndTime": datetime(2026, 1, 1, 1, tzinfo=UTC)}
    with Stubber(client) as stubber:
        for _ in range(2):
            stubber.add_response("get_metric_data", {"MetricDataResults": []})
        client.get_metric_data(MetricDataQueries=queries, **window)
        client.get_metric_data(MetricDataQueries=queries[:1], **window)

    assert (usage.calls, usage.metrics) == (2, 4)
