"""Benchmark of the recursion watch, in-process and without AWS (`run()` returns the numbers).

- The guard's overhead per outgoing call: the same SQS SendMessage / Lambda Invoke with the guard's
  hooks inert (outside a guarded handler) and active (inside one). Calls stop at botocore's
  `before-call` with a canned answer, so parameter building and serialization are measured; signing
  and the network are not (they are the same with or without the guard).
- The scan for 1,000 and 10,000 functions: API calls and metrics requested, counted by fake
  CloudWatch and Lambda clients that answer like the real ones (50 functions a ListFunctions page),
  and the in-process time; in an account, add each call's round trip.
- The monthly API cost, derived from those counts and the default configuration: idle, per
  drill-down, and the ceiling under any input (the hourly drill-down cap at both metrics each).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.detectors.invocation_scan import DrillDownCap, InvocationScan, InvocationScanConfig
from guardrail.detectors.invocation_scan.scan import MOVERS_PER_DRILL_DOWN
from guardrail.recursion import recursion_guard

CALLS = 1000
ROUNDS = 9
FUNCTION_COUNTS = (1_000, 10_000)
LIST_PAGE = 50  # ListFunctions returns at most 50 functions a page
GET_METRIC_DATA_USD_PER_1000_METRICS = 0.01
MINUTES_PER_MONTH = 30 * 24 * 60
SCHEDULED_AT = datetime(2026, 11, 28, 3, 0, 20, tzinfo=UTC)  # minute 180 of the day: a sweep minute


def _canned(model: Any, params: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    if model.name == "SendMessage":
        body = json.loads(params["body"])["MessageBody"]
        return AWSResponse("", 200, {}, None), {
            "MessageId": "m",
            "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
        }
    return AWSResponse("", 200, {}, None), {"StatusCode": 202}


def _per_call_us(send: Any) -> float:
    started = time.perf_counter()
    for _ in range(CALLS):
        send()
    return (time.perf_counter() - started) / CALLS * 1e6


def guard_overhead() -> dict[str, dict[str, float]]:
    """Microseconds per call with the guard inert and active, for SQS and Lambda Invoke."""

    @recursion_guard(max_depth=10_000)  # the guard holds every client, made before or after
    def guarded(event: Any, context: Any, send: Any) -> float:
        return _per_call_us(send)

    credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    session = boto3.session.Session(region_name="us-east-1", **credentials)
    session.events.register("before-call", _canned)
    sqs, lambda_ = session.client("sqs"), session.client("lambda")
    payload = json.dumps({"job": "athena", "items": list(range(200))})
    sends: dict[str, Callable[[], Any]] = {
        "sqs.SendMessage": lambda: sqs.send_message(QueueUrl="https://sqs/q", MessageBody=payload),
        "lambda.Invoke": lambda: lambda_.invoke(FunctionName="f", InvocationType="Event", Payload=payload),
    }
    results = {}
    for name, send in sends.items():
        send()  # warm up the client
        chain = {"guardrail-chain": {"depth": 3, "chain_id": "bench"}}
        rounds = [(_per_call_us(send), guarded(chain, None, send)) for _ in range(ROUNDS)]  # interleaved
        inert, active = min(r[0] for r in rounds), min(r[1] for r in rounds)
        results[name] = {
            "inert_us": round(inert, 1),
            "guarded_us": round(active, 1),
            "overhead_us": round(active - inert, 1),
        }
    return results


class _QuietAccount:
    """A quiet account of `count` functions: 5 invocations every minute, no recursion dropped.

    ListFunctions and GetMetricData are answered at botocore's boundary (`before-call` handlers).
    """

    def __init__(self, count: int) -> None:
        self.names = [f"fn-{i:05d}" for i in range(count)]
        self.list_calls = 0
        self.metric_calls = 0
        self.metrics = 0

    def clients(self) -> tuple[Any, Any]:
        """A Lambda and a CloudWatch client whose calls this account answers, never sent anywhere."""
        session = boto3.session.Session(
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - never sent: every call is answered locally
            region_name="us-east-1",
        )
        lambda_, cloudwatch = session.client("lambda"), session.client("cloudwatch")
        for client, operation, answer in (
            (lambda_, "lambda.ListFunctions", self._list_functions),
            (cloudwatch, "cloudwatch.GetMetricData", self._get_metric_data),
        ):
            client.meta.events.register(f"before-parameter-build.{operation}", _keep_params)
            client.meta.events.register(f"before-call.{operation}", _answer_with(answer))
        return lambda_, cloudwatch

    def _list_functions(self, params: dict[str, Any]) -> dict[str, Any]:
        self.list_calls += 1
        first = int(params.get("Marker") or 0)
        page: dict[str, Any] = {
            "Functions": [{"FunctionName": n} for n in self.names[first : first + LIST_PAGE]]
        }
        if first + LIST_PAGE < len(self.names):
            page["NextMarker"] = str(first + LIST_PAGE)
        return page

    def _get_metric_data(self, params: dict[str, Any]) -> dict[str, Any]:
        queries = params["MetricDataQueries"]
        self.metric_calls += 1
        self.metrics += len(queries)
        minutes = [params["StartTime"] + timedelta(minutes=m) for m in range(61)]
        results = []
        for query in queries:
            quiet = query["MetricStat"]["Metric"]["MetricName"] == "Invocations"
            values = [5.0] * len(minutes) if quiet else []
            results.append({"Id": query["Id"], "Timestamps": minutes[: len(values)], "Values": values})
        return {"MetricDataResults": results}


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Keep the call's API parameters for its `before-call` answer (which sees the wire request)."""
    context["api_params"] = dict(params)


def _answer_with(answer: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
    def handler(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://bench.invalid", 200, {}, None), answer(context["api_params"])

    return handler


def scan_cost(count: int, *, drill_down: bool) -> dict[str, Any]:
    """API calls, metrics requested and time of one scan over `count` functions."""
    account = _QuietAccount(count)
    lambda_, cloudwatch = account.clients()
    sweep_every = 60 if drill_down else 0  # a sweep minute forces one drill-down over every function
    config = InvocationScanConfig(full_sweep_every_minutes=sweep_every)
    scan = InvocationScan(
        metrics=CloudWatchMetrics(boto3_client=cloudwatch),
        functions=LambdaControl(boto3_client=lambda_),
        config=config,
        cap=DrillDownCap(_NoLedger(), config.max_drill_downs_per_hour),
    )
    started = time.perf_counter()
    report = scan.run(SCHEDULED_AT)
    return {
        "drilled_down": report.drilled_down,
        "get_metric_data_calls": account.metric_calls,
        "metrics_requested": account.metrics,
        "list_functions_calls": account.list_calls,
        "seconds_in_process": round(time.perf_counter() - started, 3),
    }


class _NoLedger:
    """Every drill-down allowed: one scan is measured, not the cap (the cap is priced in the model)."""

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        return True

    def release_signal(self, key: str) -> None:
        return None


def monthly_cost(
    quiet: dict[str, Any], drill: dict[str, Any], config: InvocationScanConfig
) -> dict[str, float]:
    """USD a month of GetMetricData (ListFunctions is free): idle, per drill-down, and the ceiling.

    Idle: the account-level check every minute, no sweep (the default). Ceiling, under any input (a
    rise and a drop every minute included): every minute's check, plus `max_drill_downs_per_hour`
    drill-downs every hour, each reading both per-function metrics, and every minute the functions
    those drill-downs watch by name (`MOVERS_PER_DRILL_DOWN` each); a configured sweep adds its own.
    """
    usd = GET_METRIC_DATA_USD_PER_1000_METRICS / 1000
    per_function = drill["metrics_requested"] - quiet["metrics_requested"]  # one metric per function
    idle = MINUTES_PER_MONTH * quiet["metrics_requested"]
    hours = MINUTES_PER_MONTH // 60
    ceiling = idle + hours * config.max_drill_downs_per_hour * 2 * per_function
    ceiling += MINUTES_PER_MONTH * config.max_drill_downs_per_hour * MOVERS_PER_DRILL_DOWN
    if config.full_sweep_every_minutes:
        ceiling += MINUTES_PER_MONTH // config.full_sweep_every_minutes * per_function
    return {
        "get_metric_data_usd": round(idle * usd, 2),
        "usd_per_drill_down": round(2 * per_function * usd, 4),
        "ceiling_usd": round(ceiling * usd, 2),
    }


def run() -> dict[str, Any]:
    """Every number the bench reports."""
    config = InvocationScanConfig()
    scans: dict[str, Any] = {}
    for count in FUNCTION_COUNTS:
        quiet, drill = scan_cost(count, drill_down=False), scan_cost(count, drill_down=True)
        scans[str(count)] = {
            "quiet_minute": quiet,
            "drill_down": drill,
            "monthly": monthly_cost(quiet, drill, config),
        }
    return {
        "guard_per_call": guard_overhead(),
        "scan": scans,
        "sweep_every_minutes": config.full_sweep_every_minutes,
        "max_drill_downs_per_hour": config.max_drill_downs_per_hour,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
