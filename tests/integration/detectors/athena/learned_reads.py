"""What the incident's night reads of the learning nights, compared between a replay and the batch write."""

from __future__ import annotations

from datetime import timedelta

from devtools.replay import IncidentReplay
from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.booking import caller_scope, placed, workgroup_scope

NIGHTS = IncidentReplay(batch_queries=40, batch_interval_seconds=200, history_nights=2, loop_minutes=0)
CALLER = "nightly-batch@arn:aws:iam::123456789012:role/nightly-batch-role"


def reads(deployed, replay: IncidentReplay, away: tuple[str, str] | None = None) -> dict[str, object]:
    """What the incident's night reads of the learning nights, at a few moments of it.

    `away`: the nights ran outside the guardrail's home, so their counters carry their place.
    """
    table, config = deployed.settings.ledger_table, AthenaWatchConfig()
    counters = AthenaCounters(table, ttl_hours=config.counter_ttl_hours, boto3_session=deployed.session)
    seen: dict[str, object] = {}
    for scope in (caller_scope(placed(CALLER, away)), workgroup_scope(placed(replay.workgroup, away))):
        for minutes in (0, 45, 90):
            at = replay.start + timedelta(minutes=minutes)
            # a new adapter for each read: no baseline cached from an earlier one
            baseline = AthenaBaselines(table, config.baselines, boto3_session=deployed.session).baseline(
                scope, at
            )
            seen[f"{scope} baseline {minutes}"] = (baseline.since, baseline.hours, baseline.fingerprints)
            seen[f"{scope} totals {minutes}"] = counters.totals(scope, at, window_minutes=5)
            baselines = AthenaBaselines(table, config.baselines, boto3_session=deployed.session)
            seen[f"{scope} recent {minutes}"] = baselines.recent_hours(scope, at)
    return seen


def empty(deployed) -> None:
    client, table = deployed.session.client("dynamodb"), deployed.settings.ledger_table
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
