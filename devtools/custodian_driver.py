"""Runs Cloud Custodian's periodic policy tick by tick on the replay's clock (inside c7n's own virtualenv).

Started by `devtools.bench_custodian` with the Custodian virtualenv's interpreter; it imports c7n and
boto3 from there and nothing of this project. The spec (JSON, argv[1]) gives the stand-in's endpoint,
the policy file, the function, the Invocations datapoints with the moment CloudWatch shows each, and
the schedule's ticks. At each tick it publishes the datapoints CloudWatch would show by then
(`PutMetricData`, at their own minute), runs `custodian run` on the policy with c7n's clock set to the
tick (the replay is in event time; c7n reads `datetime.utcnow()` for the metrics window), and reads the
function's reserved concurrency. It stops at the tick after which the function is at 0, and prints one
JSON line per tick.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import boto3
import c7n.filters.metrics  # type: ignore[import-not-found, unused-ignore]
from c7n.cli import main as custodian  # type: ignore[import-not-found, unused-ignore]


class _Clock(datetime):
    """`datetime` whose utcnow() is the current tick (naive UTC, as c7n expects)."""

    tick: datetime = datetime(1970, 1, 1)

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        return cls.tick


def _naive(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=None)


def run(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every tick up to (and including) the one that stopped the function."""
    c7n.filters.metrics.datetime = _Clock
    session = boto3.session.Session(region_name=spec["region"])
    cloudwatch = session.client("cloudwatch", endpoint_url=spec["endpoint"])
    lam = session.client("lambda", endpoint_url=spec["endpoint"])
    pending = sorted(spec["datapoints"], key=lambda point: point["visible_at"])
    ticks = []
    for tick in spec["ticks"]:
        _Clock.tick = _naive(tick)
        shown = [p for p in pending if _naive(p["visible_at"]) <= _Clock.tick]
        pending = pending[len(shown) :]
        for chunk in range(0, len(shown), 20):
            cloudwatch.put_metric_data(
                Namespace=spec["namespace"],
                MetricData=[
                    {
                        "MetricName": "Invocations",
                        "Dimensions": [{"Name": "FunctionName", "Value": spec["function"]}],
                        "Timestamp": _naive(p["minute"]),
                        "Value": p["count"],
                        "Unit": "Count",
                    }
                    for p in shown[chunk : chunk + 20]
                ],
            )
        sys.argv = ["custodian", "run", "--cache-period", "0", "-s", spec["output_dir"], spec["policy"]]
        try:
            custodian()
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                raise
        reserved = lam.get_function_concurrency(FunctionName=spec["function"]).get(
            "ReservedConcurrentExecutions"
        )
        ticks.append({"tick": tick, "published": len(shown), "reserved": reserved})
        print(json.dumps(ticks[-1]), flush=True)
        if reserved == 0:
            break
    return ticks


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        run(json.load(spec_file))
