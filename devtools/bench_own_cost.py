"""The guardrail's own monthly cost at the default configuration, in an otherwise quiet account.

A model, not a bill: what the deployed stacks hold (alarms, dashboards, queues, functions and their
memory) is counted in the app synthesized from cdk.json; the invocation scan's GetMetricData use is
the recursion bench's count for `FUNCTIONS` functions; the rest is the default schedule times the
prices and assumptions written below. The event-driven functions (kill switch, watches) cost nothing
while nothing happens; what the Athena watch adds per 1,000 queries is measured, not modelled
(`devtools.bench_watch_cost`), and shown with this section.
"""

from __future__ import annotations

import tempfile
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from devtools import bench_watch_cost
from devtools.bench_recursion import MINUTES_PER_MONTH, scan_cost
from guardrail.detectors.invocation_scan import InvocationScanConfig
from guardrail.handlers import observability as obs
from runaway_guardrail_cdk.app import build_app, cdk_json_context

#: us-east-1 list prices in USD (on-demand, past the free tiers).
PRICES = {
    "alarm_per_month": 0.10,  # CloudWatch standard-resolution metric alarm
    "dashboard_per_month": 3.00,  # CloudWatch dashboard (the first 3 of an account are free)
    "custom_metric_per_month": 0.30,  # CloudWatch metric (EMF too), prorated by the hours it is sent
    "get_metric_data_per_1000_metrics": 0.01,
    "lambda_per_million_requests": 0.20,
    "lambda_arm_per_gb_second": 0.0000133334,
    "logs_ingestion_per_gb": 0.50,
    "dynamodb_per_million_read_units": 0.125,  # on-demand read request units
    "kms_key_per_month": 1.00,  # the alert topic's customer-managed key
}
#: What the model assumes; each is a round number on the cautious side, not a measurement.
ASSUMPTIONS = {
    "functions_in_region": 1_000,
    "scan_quiet_run_billed_ms": 400,  # one GetMetricData call and one small ledger read, warm
    "scan_sweep_run_billed_ms": 3_000,  # ListFunctions pages and GetMetricData for every function
    "scan_log_bytes_per_run": 1_500,  # start and end JSON lines, one EMF line
    # the held records, read by the reconciliation every minute and by FunctionsHeld every 5: four
    # eventually consistent Queries of the ActiveRecords index, each under 4 KB in a quiet ledger
    "ledger_read_units_per_held_read": 2,
}
#: EMF metrics the scan publishes every minute (the other metrics are sent only when events arrive).
ALWAYS_ON_METRICS = (obs.SCAN_GET_METRIC_DATA_CALLS, obs.SCAN_METRICS_QUERIED, obs.FUNCTIONS_HELD)
FUNCTIONS_PREFIX = "runaway-guardrail-"


def deployed_counts() -> dict[str, Any]:
    """What the default app deploys that costs money: alarms, dashboards, queues, function memory."""
    with tempfile.TemporaryDirectory() as outdir:
        app = cdk.App(outdir=outdir, context=cdk_json_context())
        _, service = build_app(app)
        app.synth()
        template = Template.from_stack(service)
    functions = template.find_resources("AWS::Lambda::Function").values()
    return {
        "alarms": len(template.find_resources("AWS::CloudWatch::Alarm")),
        "dashboards": len(template.find_resources("AWS::CloudWatch::Dashboard")),
        "queues": len(template.find_resources("AWS::SQS::Queue")),
        "memory_mb": {
            f["Properties"]["FunctionName"].removeprefix(FUNCTIONS_PREFIX): f["Properties"]["MemorySize"]
            for f in functions
        },
    }


def monthly(counts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each cost line: what is counted, how many a month, and USD a month."""
    p, a = PRICES, ASSUMPTIONS
    sweep_every = InvocationScanConfig().full_sweep_every_minutes
    sweeps = MINUTES_PER_MONTH // sweep_every if sweep_every else 0
    quiet_runs = MINUTES_PER_MONTH - sweeps
    functions = a["functions_in_region"]
    metrics = quiet_runs * scan_cost(functions, drill_down=False)["metrics_requested"]
    metrics += sweeps * scan_cost(functions, drill_down=True)["metrics_requested"]
    scan_gb = counts["memory_mb"][obs.INVOCATION_SCAN] / 1024
    scan_seconds = (
        quiet_runs * a["scan_quiet_run_billed_ms"] + sweeps * a["scan_sweep_run_billed_ms"]
    ) / 1000
    log_gb = MINUTES_PER_MONTH * a["scan_log_bytes_per_run"] / 1e9
    held_reads = (MINUTES_PER_MONTH + MINUTES_PER_MONTH // obs.HELD_EVERY_MINUTES) * a[
        "ledger_read_units_per_held_read"
    ]
    lines = {
        "alarms": (counts["alarms"], counts["alarms"] * p["alarm_per_month"]),
        "dashboard": (counts["dashboards"], counts["dashboards"] * p["dashboard_per_month"]),
        "dead-letter queues (no requests while idle)": (counts["queues"], 0.0),
        "scan: Lambda requests": (
            MINUTES_PER_MONTH,
            MINUTES_PER_MONTH * p["lambda_per_million_requests"] / 1e6,
        ),
        "scan: Lambda GB-seconds": (
            round(scan_seconds * scan_gb),
            scan_seconds * scan_gb * p["lambda_arm_per_gb_second"],
        ),
        "scan: GetMetricData metrics": (metrics, metrics / 1000 * p["get_metric_data_per_1000_metrics"]),
        "scan: EMF metrics sent every minute": (
            len(ALWAYS_ON_METRICS),
            len(ALWAYS_ON_METRICS) * p["custom_metric_per_month"],
        ),
        "scan: log ingestion (GB)": (round(log_gb, 3), log_gb * p["logs_ingestion_per_gb"]),
        "scan: ledger read units (held records)": (
            held_reads,
            held_reads * p["dynamodb_per_million_read_units"] / 1e6,
        ),
        "alert topic's KMS key": (1, p["kms_key_per_month"]),
    }
    return {name: {"quantity": q, "usd": round(usd, 2)} for name, (q, usd) in lines.items()}


def run() -> dict[str, Any]:
    """Every number of the section."""
    counts = deployed_counts()
    lines = monthly(counts)
    return {
        "deployed": counts,
        "monthly": lines,
        "total_usd": round(sum(line["usd"] for line in lines.values()), 2),
        "prices": PRICES,
        "assumptions": ASSUMPTIONS,
    }


def markdown(own: dict[str, Any], watch: dict[str, Any]) -> list[str]:
    """The section of docs/bench.md: the idle month, then what Athena queries add (`watch`, measured)."""
    lines = [
        "",
        "## The guardrail's own monthly cost",
        "",
        f"Default configuration, {own['assumptions']['functions_in_region']:,} functions in the region, "
        "nothing else happening (a model from the synthesized template, the schedule and list prices: "
        "`devtools/bench_own_cost.py`).",
        "",
        "| item | quantity a month | USD a month |",
        "| --- | ---: | ---: |",
    ]
    for name, line in own["monthly"].items():
        lines.append(f"| {name} | {line['quantity']:,} | {line['usd']:.2f} |")
    lines += [
        f"| **total** | | **{own['total_usd']:.2f}** |",
        "",
        f"Each 1,000 Athena queries add at most ${watch['usd_per_1000_queries_at_most']} (measured at 1 to "
        "1,000 queries a minute: below), and the Athena watch's EMF metrics cost $0.30 a month each, "
        "prorated by the hours in which they are sent.",
        "",
        "Prices (USD, us-east-1): "
        + ", ".join(f"{name.replace('_', ' ')} {_plain(value)}" for name, value in own["prices"].items())
        + ".",
        "Assumptions: "
        + ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in own["assumptions"].items())
        + ".",
    ]
    return lines + bench_watch_cost.markdown(watch)


def _plain(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".")
