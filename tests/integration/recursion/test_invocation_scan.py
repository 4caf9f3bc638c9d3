"""The invocation scan against CloudWatch data in moto.

moto stores `put_metric_data` points and answers GetMetricData; a query without dimensions sums
every function's points, which stands in for Lambda's account-level aggregate. moto's
ListFunctions ignores paging, so paging is checked with botocore's Stubber.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.stub import Stubber

from devtools.lambda_runtime import lambda_context
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.detectors.invocation_scan import DrillDownCap, InvocationScan, InvocationScanConfig
from guardrail.handlers import invocation_scan
from tests.conftest import ACCOUNT, REGION
from tests.integration.recursion.lambda_metrics import publish, steady


def scan(aws: Any, names: list[str] | None = None, **config: Any) -> InvocationScan:
    functions = LambdaControl(boto3_session=aws) if names is None else FixedFunctions(names)
    settings = InvocationScanConfig(**config)
    return InvocationScan(
        metrics=CloudWatchMetrics(boto3_session=aws),
        functions=functions,
        config=settings,
        cap=DrillDownCap(Unlimited(), settings.max_drill_downs_per_hour),
    )


class Unlimited:
    """Every drill-down allowed (the cap is tested against the ledger below)."""

    def claim_signal(self, key: str, *, now: Any, ttl_seconds: int) -> bool:
        return True

    def release_signal(self, key: str) -> None:
        raise AssertionError(f"nothing to release: {key} was never refused")


class FixedFunctions:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def function_names(self) -> list[str]:
        return self.names


def test_quiet_account_gives_no_finding_and_no_drill_down(aws, deployed, make_function):
    start = deployed.clock()
    for name in ("orders-api", "thumbnailer"):
        make_function(name)
        publish(aws, name, {**steady(40), 60: 42}, start)

    report = scan(aws).run(start + timedelta(minutes=60))

    assert (report.findings, report.drilled_down) == ([], False)


def test_unguarded_runaway_is_caught_and_throttled_through_the_handler(
    aws, deployed, make_function, monkeypatch
):
    start = deployed.clock()
    make_function("orders-api")
    make_function("nightly-batch", reserved=5)
    publish(aws, "orders-api", {**steady(40), 60: 41}, start)
    publish(aws, "nightly-batch", {**steady(2), 59: 800, 60: 2400}, start)
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    scheduled = {
        "version": "0",
        "id": "c8f5f0b8-0000-0000-0000-000000000001",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": (start + timedelta(minutes=60, seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/runaway-guardrail-invocation-scan"],
        "detail": {},
    }

    answer = invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))

    assert answer["drilled_down"] is True
    assert [(r["function"], r["result"]) for r in answer["results"]] == [("nightly-batch", "throttled")]
    assert deployed.reservation("nightly-batch") == 0
    [alert] = deployed.alerts()
    assert alert["Document"]["evidence"]["invocations_per_minute"] == 2400
    # the same minute delivered again (EventBridge retries) does not act twice
    again = invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))
    assert [r["result"] for r in again["results"]] == ["duplicate"]
    # the owner lifts the throttle: the next minute's run reconciles the ledger and stops it again
    aws.client("lambda").put_function_concurrency(
        FunctionName="nightly-batch", ReservedConcurrentExecutions=50
    )
    later = {**scheduled, "id": "c8f5f0b8-0000-0000-0000-000000000002"}
    later["time"] = (start + timedelta(minutes=61, seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reconciled = invocation_scan.handler(later, lambda_context("runaway-guardrail-invocation-scan"))
    assert ("nightly-batch", "drift") in [(r["function"], r["result"]) for r in reconciled["results"]]
    assert deployed.reservation("nightly-batch") == 0
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["drift"]


def test_runaway_already_in_the_baseline_is_caught_by_a_configured_sweep_at_the_ceiling(aws, deployed):
    start = deployed.clock()  # 02:00, so minute 60 is 03:00: a sweep minute
    publish(aws, "looping-for-days", steady(5000, minutes=61), start)
    sweeping = {"full_sweep_every_minutes": 60, "ceiling_invocations_per_minute": 4000}

    quiet_minute = scan(aws, ["looping-for-days"], **sweeping).run(start + timedelta(minutes=59))
    sweep_minute = scan(aws, ["looping-for-days"], **sweeping).run(start + timedelta(minutes=60))

    assert quiet_minute.drilled_down is False
    assert [f.target.name for f in sweep_minute.findings] == ["looping-for-days"]


def test_recursion_dropped_by_lambda_names_the_function(aws, deployed):
    start = deployed.clock()
    publish(aws, "sqs-echo", {**steady(3), 60: 3}, start)
    publish(aws, "sqs-echo", {60: 12}, start, metric="RecursiveInvocationsDropped")

    report = scan(aws, ["sqs-echo", "other"]).run(start + timedelta(minutes=60))
    [finding] = report.findings

    assert (finding.target.name, finding.evidence["rule"]) == ("sqs-echo", "recursive-invocations-dropped")


def test_a_drop_every_minute_drills_down_at_most_the_cap_an_hour(aws, deployed):
    start = deployed.clock()
    names = [f"fn-{i:02d}" for i in range(30)]
    publish(aws, "sqs-echo", dict.fromkeys(range(120), 1.0), start, metric="RecursiveInvocationsDropped")
    client = aws.client("cloudwatch")
    metrics: list[int] = []
    client.meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricData",
        lambda params, **_: metrics.append(len(params["MetricDataQueries"])),
    )
    config = InvocationScanConfig(max_drill_downs_per_hour=2)
    ledger = Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=aws)
    reports = [
        InvocationScan(
            metrics=CloudWatchMetrics(boto3_client=client),
            functions=FixedFunctions(names),
            config=config,
            cap=DrillDownCap(ledger, config.max_drill_downs_per_hour),  # a new container each minute
        ).run(start + timedelta(minutes=minute))
        for minute in range(60, 120)  # 03:00-03:59: one clock hour
    ]

    assert sum(r.drilled_down for r in reports) == 2
    assert sum(r.capped for r in reports) == 58
    assert sum(metrics) == 60 * 2 + 2 * 30  # only the dropped metric per function, twice


def test_drill_down_batches_500_queries_a_call(aws, deployed):
    start = deployed.clock()
    names = [f"fn-{i:04d}" for i in range(1201)]
    publish(aws, "fn-0007", {**steady(1), 60: 4000}, start)
    client = aws.client("cloudwatch")
    batches: list[int] = []
    client.meta.events.register(
        "before-parameter-build.cloudwatch.GetMetricData",
        lambda params, **_: batches.append(len(params["MetricDataQueries"])),
    )
    report = InvocationScan(
        metrics=CloudWatchMetrics(boto3_client=client),
        functions=FixedFunctions(names),
        config=InvocationScanConfig(),
        cap=DrillDownCap(Unlimited(), 1),
    ).run(start + timedelta(minutes=60))

    assert [f.target.name for f in report.findings] == ["fn-0007"]
    assert batches == [2, 500, 500, 201]  # the account check, then the drill-down


def test_function_listing_follows_the_marker_across_pages(aws):
    client = aws.client("lambda")
    with Stubber(client) as stub:
        stub.add_response("list_functions", {"Functions": [{"FunctionName": "a"}], "NextMarker": "m1"}, {})
        stub.add_response("list_functions", {"Functions": [{"FunctionName": "b"}]}, {"Marker": "m1"})
        assert list(LambdaControl(boto3_client=client).function_names()) == ["a", "b"]
