"""The incident replay, measured: the guardrail against the alternatives on the same traffic.

The guardrail's row is measured: the default scenario is replayed through the stacks deployed into
moto (in-process) in the scenario's shape and their real handlers. The other rows are modelled on
the same replay's queries (see `devtools.alternatives`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from moto import mock_aws

from devtools.alternatives import compare
from devtools.fleet import FleetShape, deploy_fleet
from devtools.incident import QueryStatistics, Timeline, build_world, replay_incident
from devtools.lambda_runtime import discarded
from devtools.moto_patches import patched
from devtools.scenario import DEFAULT, Scenario


def replay_deployed(scenario: Scenario) -> tuple[Timeline, list[dict[str, Any]]]:
    """Deploy the guardrail into a fresh moto in the scenario's shape, replay it: its timeline and alerts."""
    with patched(), mock_aws(), tempfile.TemporaryDirectory() as scratch:
        fleet = deploy_fleet(
            Path(scratch),
            FleetShape.of(scenario),
            detectors={"athena-watch": scenario.athena_watch},
            logs=discarded(),
        )
        build_world(fleet.accounts.session(scenario.account, scenario.athena_region), scenario)
        with QueryStatistics(scenario.replay):
            timeline = replay_incident(scenario, fleet)
        alerts = fleet.alerts()
        fleet.lambdas.detach()
    return timeline, alerts


def run(path: Path = DEFAULT) -> dict[str, Any]:
    """Replay the scenario against the deployed guardrail and compare the alternatives."""
    scenario = Scenario.load(path)
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    timeline, _ = replay_deployed(scenario)
    rows = []
    for alternative in compare(scenario, timeline):
        row = asdict(alternative)
        row["stops_after_s"] = (
            None if alternative.stops_after is None else alternative.stops_after.total_seconds()
        )
        del row["stops_after"]
        rows.append(row)
    return {
        "scenario": scenario.name,
        "home_region": scenario.home_region,
        "batch_place": f"account {scenario.account}, {scenario.athena_region}",
        "loop_started_at": _iso(timeline.loop_started_at),
        "limits_left_at": _iso(timeline.limits_left_at),
        "throttled_at": _iso(timeline.throttled_at),
        "events_delivered": timeline.deliveries,
        "alternatives": rows,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def markdown(results: dict[str, Any]) -> list[str]:
    """The comparison as a Markdown table."""
    lines = [
        "",
        f"## The incident replay: {results['scenario']}",
        "",
        f"The loop starts at {results['loop_started_at']}; its query rate leaves the limits at "
        f"{results['limits_left_at']}; the guardrail throttles it at {results['throttled_at']} "
        f"({results['events_delivered']:,} events delivered through the deployed rules). The guardrail's"
        f" home is {results['home_region']}; the batch and Athena run in {results['batch_place']}, whose"
        " events the deployed rules forward home.",
        "",
        "| protection | loop stopped after | loop queries | TB scanned | cost of the loop | how |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in results["alternatives"]:
        seconds = row["stops_after_s"]
        stopped = "never" if seconds is None else duration(seconds)
        lines.append(
            f"| {row['name']} | {stopped} | {row['queries']:,} | {row['scanned_bytes'] / 2**40:,.2f} "
            f"| ${row['usd']:,.2f} | {row['note']} |"
        )
    return lines


def duration(seconds: float) -> str:
    """A stop time as people read it: seconds under two minutes, then minutes, then hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
