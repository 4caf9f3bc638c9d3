"""What watching Athena costs per 1,000 queries, measured by driving the deployed handler.

The stacks are synthesized from cdk.json and deployed into moto in-process (as `devtools.bench_month`
does); the Athena watch's deployed handler (`guardrail.handlers.athena_watch.handler`, its powertools
logger and metrics included) is run by the stand-in's Lambda runtime with the function's deployed
environment, one event per invocation, as Lambda runs it. Every AWS call its clients make is counted
at botocore's boundary (`devtools.aws_meter`), DynamoDB's units from item sizes as DynamoDB bills them.

The traffic: `CALLERS` Lambda functions share one workgroup at each rate, each re-running a few
statements of its own, in turn, evenly spaced; each query yields CloudTrail's StartQueryExecution and
the final state change, late and a share twice, as the incident replay delivers them
(`devtools.replay`). Those queries take 8 s, so CloudTrail's start (20-75 s late) mostly comes after
the state change; one more run at the highest rate has queries of `LONG_QUERY_SECONDS`, whose starts
come first (the state change then also books the bytes to the caller: one counter update more).
The first `WARM_UP` queries of each rate are run and not counted (a container's first calls, a
caller's first baseline). The limits are raised for the bench (`LIMITS`) so that no rate
breaks them: the cost measured is that of watching traffic, not of acting on it (any action would show
in the calls).

What a function in AWS would be billed is computed, not timed: its CPU time here outside the
stand-in's answers, scaled to the CPU share of its memory (Lambda gives a full vCPU at 1,769 MB), plus
an assumed round trip per AWS call (`ASSUMPTIONS`), rounded up to the millisecond per invocation.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from devtools.aws_meter import AwsMeter, Usage, item_bytes, write_units
from devtools.incident import store_tables
from devtools.lambda_runtime import LambdaRuntime, discarded
from devtools.moto_patches import patched
from devtools.replay import IncidentReplay, ReplayQuery
from devtools.stand_in import deploy_guardrail
from guardrail.adapters.athena_baselines import baseline_item
from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import Baseline, HourCount
from guardrail.detectors.athena.booking import caller_scope

#: Queries a minute in one workgroup.
RATES = (1, 10, 100, 1_000)
CALLERS = 10
WARM_UP = 40
MEASURED = 200
STATEMENTS_PER_CALLER = 6
#: The long queries' run: longer than CloudTrail's latest delivery (75 s), so each start comes first.
LONG_QUERY_SECONDS = 180.0
REGION = "us-east-1"
#: Raised for the bench: the highest rate is 100 a minute per caller, 1,000 in the workgroup.
LIMITS = {
    "caller": {"maxQueriesPerWindow": 5_000, "maxQueriesPerDay": 1_000_000},
    "workgroup": {"maxQueriesPerWindow": 50_000, "maxQueriesPerDay": 10_000_000},
}
#: us-east-1 list prices in USD (on-demand, past the free tiers).
PRICES = {
    "dynamodb_per_million_write_units": 0.625,
    "dynamodb_per_million_read_units": 0.125,
    "lambda_per_million_requests": 0.20,
    "lambda_arm_per_gb_second": 0.0000133334,
    "logs_ingestion_per_gb": 0.50,
    "glue_per_million_requests": 1.00,  # Data Catalog requests past the first million a month
    "s3_per_thousand_get_requests": 0.0004,  # GetBucketLocation
    "sns_per_million_publishes": 0.50,
    "custom_metric_per_month": 0.30,  # EMF metrics, prorated by the hours they are sent in
}
#: Calls billed per request, by `service:Operation` (the other calls the watch makes are free:
#: Athena's GetQueryExecution, Lambda's and STS's).
PER_CALL_USD = {
    "glue:GetTable": PRICES["glue_per_million_requests"] / 1e6,
    "s3:GetBucketLocation": PRICES["s3_per_thousand_get_requests"] / 1e3,
    "sns:Publish": PRICES["sns_per_million_publishes"] / 1e6,
}
#: What the computation assumes; round numbers on the cautious side, not measurements.
ASSUMPTIONS = {
    "round_trip_ms_dynamodb": 6,
    "round_trip_ms_dynamodb_transaction": 15,
    "round_trip_ms_other_services": 40,
    "full_vcpu_at_mb": 1_769,
    "platform_log_bytes_per_invocation": 350,  # Lambda's START, END and REPORT lines
    "log_event_overhead_bytes": 26,  # CloudWatch Logs bills 26 bytes per event on top of its text
}


_SERIALIZER = TypeSerializer()


class CountingStream(io.TextIOBase):
    """A text sink that counts the bytes and lines written to it (what CloudWatch Logs would ingest)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0
        self.metrics: set[str] = set()

    def write(self, text: str) -> int:
        """Count `text`; note the EMF metrics it declares."""
        self.bytes += len(text.encode())
        self.lines += text.count("\n")
        if '"CloudWatchMetrics"' in text:
            for line in text.splitlines():
                self.metrics |= _emf_metrics(line)
        return len(text)


def _emf_metrics(line: str) -> set[str]:
    try:
        document = json.loads(line)
    except ValueError:
        return set()
    out = set()
    for block in document.get("_aws", {}).get("CloudWatchMetrics", []):
        dimensions = ",".join(f"{d}={document.get(d)}" for group in block["Dimensions"] for d in group)
        out |= {f"{m['Name']}[{dimensions}]" for m in block["Metrics"]}
    return out


@dataclass(frozen=True)
class Traffic:
    """One rate's queries: `rate` a minute in workgroup `workgroup`, from `start`."""

    rate: int
    start: datetime
    warm_up: int = WARM_UP
    measured: int = MEASURED
    callers: int = CALLERS
    query_seconds: float = IncidentReplay.query_seconds

    @property
    def count(self) -> int:
        """Every query the rate runs: the warm-up's and the measured ones."""
        return self.warm_up + self.measured

    @property
    def name(self) -> str:
        """The run's name: its rate, and `L` for long queries."""
        return f"{self.rate:04d}" + ("" if self.query_seconds == IncidentReplay.query_seconds else "L")

    @property
    def workgroup(self) -> str:
        """The run's own workgroup."""
        return f"bench-{self.name}-a-minute"

    def replays(self) -> list[IncidentReplay]:
        """One replay shape per caller: its function, the workgroup, the events' lags and duplicates."""
        return [
            IncidentReplay(
                function=f"job-{self.rate}-{n}",
                athena_region=REGION,
                data_region=REGION,
                workgroup=self.workgroup,
                start=self.start,
                seed=self.rate * 100 + n,
                query_seconds=self.query_seconds,
            )
            for n in range(self.callers)
        ]

    def deliveries(self) -> list[tuple[int, datetime, dict[str, Any]]]:
        """(query number, delivery time, event) of every query's events, in delivery order."""
        replays, rng = self.replays(), random.Random(self.rate)  # noqa: S311 - seeded lags, not security
        out = []
        for index, (replay, query) in enumerate(self.queries(replays)):
            for event, at, lag in (
                (replay.start_event(query), query.started_at, replay.trail_lag_seconds),
                (replay.finish_event(query), query.finished_at, replay.state_lag_seconds),
            ):
                for _ in range(2 if rng.random() < replay.duplicate_share else 1):
                    out.append((index, at + timedelta(seconds=rng.uniform(*lag)), event))
        return sorted(out, key=lambda delivery: delivery[1])

    def queries(self, replays: list[IncidentReplay]) -> Iterator[tuple[IncidentReplay, ReplayQuery]]:
        """Every query, in start order: callers in turn, evenly spaced, each re-running its statements."""
        for index in range(self.count):
            replay = replays[index % self.callers]
            at = self.start + timedelta(seconds=index * 60 / self.rate)
            statement = index // self.callers % STATEMENTS_PER_CALLER
            yield (
                replay,
                ReplayQuery(
                    query_id=f"{self.name}-{index:06d}-{replay.function}",
                    started_at=at,
                    finished_at=at + timedelta(seconds=replay.query_seconds),
                    scanned_bytes=replay.scanned_bytes,
                    sql=replay._sql(statement),
                    looping=False,
                ),
            )


class Statistics:
    """Answers GetQueryExecution for the bench's queries at botocore's boundary (moto reports 0 bytes)."""

    def __init__(self, traffic: list[Traffic]) -> None:
        self._answers = {
            query.query_id: replay.query_execution(query)
            for t in traffic
            for replay, query in t.queries(t.replays())
        }
        self._entry = ("before-call.athena.GetQueryExecution", self._answer)

    def __enter__(self) -> Statistics:
        botocore.handlers.BUILTIN_HANDLERS.append(self._entry)
        return self

    def __exit__(self, *_: object) -> None:
        botocore.handlers.BUILTIN_HANDLERS.remove(self._entry)

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        query_id = json.loads(params["body"])["QueryExecutionId"]
        return AWSResponse("local://athena", 200, {}, io.BytesIO()), {
            "QueryExecution": self._answers[query_id]
        }


@dataclass
class Measured:
    """What one rate's measured queries used, summed over the invocations their events made."""

    queries: int
    invocations: int = 0
    usage: Usage = field(default_factory=Usage)
    cpu_seconds: float = 0.0  # the handler's own, outside the stand-in's answers
    billed_ms: int = 0
    log_bytes: int = 0
    log_lines: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    def add(self, status: str, cpu: float, used: Usage, log: tuple[int, int], memory_mb: int) -> None:
        """Count one invocation: its CPU time, its calls, its log output."""
        own = max(cpu - used.stand_in_seconds, 0.0)
        self.invocations += 1
        self.statuses[status] += 1
        self.cpu_seconds += own
        self.billed_ms += billed_ms(own, used, memory_mb)
        self.usage = self.usage.plus(used)
        self.log_bytes += log[0]
        self.log_lines += log[1]


def billed_ms(cpu_seconds: float, used: Usage, memory_mb: int) -> int:
    """One invocation's billed duration: its CPU time at its memory's CPU share, plus the round trips."""
    a = ASSUMPTIONS
    share = min(memory_mb / a["full_vcpu_at_mb"], 1.0)
    waits = 0
    for call, n in used.calls.items():
        if call == "dynamodb:TransactWriteItems":
            waits += n * a["round_trip_ms_dynamodb_transaction"]
        elif call.startswith("dynamodb:"):
            waits += n * a["round_trip_ms_dynamodb"]
        else:
            waits += n * a["round_trip_ms_other_services"]
    return max(1, math.ceil(cpu_seconds * 1000 / share + waits))


def run(
    rates: tuple[int, ...] = RATES, *, warm_up: int = WARM_UP, measured: int = MEASURED
) -> dict[str, Any]:
    """Deploy, drive each rate through the deployed handler, and price what it used."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    start = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    traffic = [Traffic(rate, start + timedelta(days=n), warm_up, measured) for n, rate in enumerate(rates)]
    long = Traffic(
        max(rates), start + timedelta(days=len(rates)), warm_up, measured, query_seconds=LONG_QUERY_SECONDS
    )
    with (
        patched(),
        mock_aws(),
        tempfile.TemporaryDirectory() as scratch,
    ):
        session = boto3.session.Session(region_name=REGION)
        _, deployment = deploy_guardrail(session, Path(scratch), {"athena-watch": LIMITS}, discarded())
        store_tables(session, traffic[0].replays()[0])
        name = deployment.outputs["KillSwitchFunctionName"].removesuffix("-kill-switch") + "-athena-watch"
        memory = int(session.client("lambda").get_function_configuration(FunctionName=name)["MemorySize"])
        with Statistics([*traffic, long]), AwsMeter(session) as meter:
            results = {t.rate: drive(t, deployment.lambdas, name, meter, memory) for t in traffic}
            long_result = drive(long, deployment.lambdas, name, meter, memory)
    priced_rates = {str(rate): priced(m, memory) for rate, (m, _) in results.items()}
    priced_long = priced(long_result[0], memory)
    metrics = sorted(set().union(long_result[1], *(found for _, found in results.values())))
    worst = max(row["usd_per_1000_queries"] for row in [*priced_rates.values(), priced_long])
    return {
        "rates_per_minute": priced_rates,
        "long_queries": {"rate_per_minute": long.rate, "query_seconds": long.query_seconds, **priced_long},
        "usd_per_1000_queries_at_most": worst,
        "emf_metrics": metrics,
        "monthly_usd": {
            str(n): round(n / 1000 * worst + len(metrics) * PRICES["custom_metric_per_month"], 2)
            for n in (10_000, 100_000, 1_000_000)
        },
        "baseline_at_its_bound": baseline_at_its_bound(),
        "memory_mb": memory,
        "callers": CALLERS,
        "warm_up_queries": warm_up,
        "measured_queries": measured,
        "prices": PRICES,
        "per_call_usd": PER_CALL_USD,
        "assumptions": ASSUMPTIONS,
    }


def baseline_at_its_bound() -> dict[str, Any]:
    """What a learned baseline costs once full: a caller active every minute of `historyDays` days.

    Not in the rates' figures (their tables are new): the item every scope's hourly fold writes whole
    grows with the learned hours to this size, then stays there; computed from the item the adapter
    writes (`athena_baselines.baseline_item`), priced as a PutItem each hour.
    """
    learning = Baselines()
    since = datetime(2026, 10, 1, tzinfo=UTC)
    hours = {
        since + timedelta(hours=n): HourCount(139, 139 * 600_000_000, frozenset(range(60)))
        for n in range(learning.history_days * 24)
    }
    fingerprints = {f"{n:016x}": 40 for n in range(learning.top_fingerprints)}
    baseline = Baseline(since, since + timedelta(hours=len(hours) - 1), hours, fingerprints, version=1)
    item = baseline_item(caller_scope(f"job@arn:aws:iam::{'1' * 12}:role/job-role"), baseline, learning)
    size = item_bytes({name: _SERIALIZER.serialize(value) for name, value in item.items()})
    units = write_units(size, size)
    folds = 30 * 24
    return {
        "item_bytes": size,
        "write_units_per_fold": units,
        "usd_per_scope_month": round(folds * units * PRICES["dynamodb_per_million_write_units"] / 1e6, 3),
    }


def drive(
    traffic: Traffic, lambdas: LambdaRuntime, name: str, meter: AwsMeter, memory_mb: int
) -> tuple[Measured, set[str]]:
    """Run every delivery through the deployed handler; add up what the measured queries' events used.

    Returns the measured usage and the EMF metrics the handler sent.
    """
    module = importlib.import_module("guardrail.handlers.athena_watch")
    setattr(module, "_watch", None)  # noqa: B010 - a cold container for each rate
    stream = CountingStream()
    log_handler = module.logger.registered_handler
    saved = log_handler.setStream(stream)  # the logger keeps the stream it was imported with
    last: list[tuple[float, Usage, tuple[int, int]]] = []

    def timed(event: Any, context: Any) -> Any:
        began, calls, logged = time.thread_time(), meter.usage.snapshot(), (stream.bytes, stream.lines)
        with redirect_stdout(stream):  # the EMF line is printed
            result = module.handler(event, context)
        used = meter.usage.since(calls)
        last[:] = [(time.thread_time() - began, used, (stream.bytes - logged[0], stream.lines - logged[1]))]
        return result

    lambdas.register(name, timed)
    measured = Measured(traffic.measured)
    try:
        for index, _, event in traffic.deliveries():
            result = lambdas.run(name, event)
            if index >= traffic.warm_up:
                cpu, used, log = last[0]
                measured.add(result["status"], cpu, used, log, memory_mb)
    finally:
        log_handler.setStream(saved)
        lambdas.handlers.pop(name, None)
    return measured, stream.metrics


def priced(measured: Measured, memory_mb: int) -> dict[str, Any]:
    """One rate's usage per 1,000 queries, and what it costs."""
    p, a, usage = PRICES, ASSUMPTIONS, measured.usage
    per = 1000 / measured.queries
    log_bytes = (
        measured.log_bytes
        + measured.invocations * a["platform_log_bytes_per_invocation"]
        + (measured.log_lines + 3 * measured.invocations) * a["log_event_overhead_bytes"]
    )
    gb_seconds = measured.billed_ms / 1000 * memory_mb / 1024
    usd = {
        "dynamodb_writes": usage.write_units * p["dynamodb_per_million_write_units"] / 1e6,
        "dynamodb_reads": usage.read_units * p["dynamodb_per_million_read_units"] / 1e6,
        "lambda_requests": measured.invocations * p["lambda_per_million_requests"] / 1e6,
        "lambda_duration": gb_seconds * p["lambda_arm_per_gb_second"],
        "logs": log_bytes / 1e9 * p["logs_ingestion_per_gb"],
        "other_calls": sum(n * PER_CALL_USD.get(call, 0.0) for call, n in usage.calls.items()),
    }
    return {
        "invocations_per_query": round(measured.invocations / measured.queries, 3),
        "statuses": dict(measured.statuses),
        "calls_per_query": {call: round(n / measured.queries, 2) for call, n in sorted(usage.calls.items())},
        "write_units_per_query": round(usage.write_units / measured.queries, 2),
        "read_units_per_query": round(usage.read_units / measured.queries, 2),
        "billed_ms_per_invocation": round(measured.billed_ms / measured.invocations, 1),
        "cpu_ms_per_invocation_here": round(measured.cpu_seconds * 1000 / measured.invocations, 2),
        "log_bytes_per_invocation": round(log_bytes / measured.invocations),
        "usd_per_1000_by_item": {item: round(value * per, 5) for item, value in usd.items()},
        "usd_per_1000_queries": round(sum(usd.values()) * per, 4),
    }


def markdown(watch: dict[str, Any]) -> list[str]:
    """What watching Athena costs, measured, as the bench page's lines."""
    lines = [
        "",
        "### What the Athena watch adds per 1,000 queries, measured",
        "",
        f"The deployed Athena-watch handler ({watch['memory_mb']} MB, arm64) driven on the stand-in "
        f"(`devtools/bench_watch_cost.py`): {watch['callers']} Lambda callers in one workgroup, each query's "
        "CloudTrail start and state change delivered late and 5 % twice, as the incident replay does; "
        f"{watch['measured_queries']} queries counted at each rate after {watch['warm_up_queries']} not "
        "counted. The queries take 8 s, so CloudTrail's start (20-75 s late) mostly comes after the state "
        "change; in the last row they run longer than CloudTrail's lag, so the start comes first and the "
        "state change also books the bytes to the caller. Every AWS call the handler made is counted at "
        "botocore's boundary; DynamoDB's units are computed from item sizes as on-demand DynamoDB bills "
        "them (`devtools/aws_meter.py`).",
        "",
        "| queries a minute | write units / query | read units / query | invocations / query "
        "| billed ms / invocation | log bytes / invocation | USD per 1,000 queries |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    long = watch["long_queries"]
    rows = [(f"{int(rate):,}", row) for rate, row in watch["rates_per_minute"].items()]
    long_label = f"{long['rate_per_minute']:,}, queries of {long['query_seconds']:.0f} s (start first)"
    rows.append((long_label, long))
    for label, row in rows:
        lines.append(
            f"| {label} | {row['write_units_per_query']} | {row['read_units_per_query']} "
            f"| {row['invocations_per_query']} | {row['billed_ms_per_invocation']} "
            f"| {row['log_bytes_per_invocation']:,} | {row['usd_per_1000_queries']} |"
        )
    worst = max((row for _, row in rows), key=lambda row: row["usd_per_1000_queries"])
    items = ", ".join(
        f"{item.replace('_', ' ')} ${usd}" for item, usd in worst["usd_per_1000_by_item"].items()
    )
    calls = ", ".join(f"{call} {n}" for call, n in worst["calls_per_query"].items())
    months = ", ".join(f"{int(n):,} queries ${usd:.2f}" for n, usd in watch["monthly_usd"].items())
    lines += [
        "",
        f"At the dearest row, per 1,000 queries: {items}. Calls per query: {calls}.",
        f"A month of queries at that figure, with the {len(watch['emf_metrics'])} EMF metrics it sent "
        f"(${PRICES['custom_metric_per_month']:.2f} each): {months}.",
        f"Not in these figures (the bench's tables are new): a learned baseline, once full "
        f"({Baselines().history_days} days of a caller active every minute), is "
        f"{watch['baseline_at_its_bound']['item_bytes'] / 1000:.0f} KB, and each scope's hourly fold "
        f"writes it whole: {watch['baseline_at_its_bound']['write_units_per_fold']} write units, "
        f"${watch['baseline_at_its_bound']['usd_per_scope_month']} a month per caller or workgroup.",
        "",
        "Prices (USD, us-east-1): "
        + ", ".join(f"{name.replace('_', ' ')} {_plain(value)}" for name, value in watch["prices"].items())
        + ". Assumptions: "
        + ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in watch["assumptions"].items())
        + ". Billed duration: the handler's CPU time here outside the stand-in's answers, at its memory's "
        "share of a vCPU, plus one round trip per call; logs: what the handler wrote, Lambda's own lines "
        "and CloudWatch's per-event bytes.",
    ]
    return lines


def _plain(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".")
