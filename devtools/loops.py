"""The loops the Athena watch must stop (issue 22's table), replayed until they are stopped.

Shared by the acceptance tests (`tests/integration/detectors/athena/`, through the handler in process)
and the bench (`devtools/bench_loops.py`, through the deployed stacks): the same replays, the same
delivery loop, the same account of what a loop spent before its stop.

- `until_stopped` delivers a replay's events in the order EventBridge hands them over; once a delivery
  throttles the function, no query it would have started later is delivered (reserved concurrency 0:
  the function never ran to issue it). The learning nights are not delivered: they are written in one
  batch first (`learn_nights`, see `devtools.history`).
- `loop_cost` measures from the loop's first query to the stop, in event time, and prices the loop's
  queries issued until then as the watch does (`cost.estimate`: scan and cross-region transfer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3

from devtools.history import learned_items, write_items
from devtools.replay import Delivery, IncidentReplay, ReplayQuery
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.cost import MICROS_PER_USD, estimate
from guardrail.scope import TAG_GUARDED

#: The batch before each loop: 120 distinct analyses, one every 40 s (80 minutes), so that the loop
#: starts in the batch's second hour, with the pace of its first noted.
BATCH = IncidentReplay(batch_queries=120, loop_interval_seconds=3, loop_minutes=4, seed=3)


@dataclass(frozen=True)
class Loop:
    """One row of the table: a name, the replay, and whether the watch learns its caller's nights first."""

    key: str
    name: str
    replay: IncidentReplay
    #: Where the guardrail is deployed, when not where the batch runs Athena.
    home_region: str | None = None


LOOPS = (
    Loop(
        "learned-3s",
        "batch with two weeks of history, one identical statement, then a loop every 3 s",
        IncidentReplay(
            batch_queries=120, loop_interval_seconds=3, loop_minutes=4, history_nights=14, one_statement=True
        ),
    ),
    Loop(
        "fresh-2s",
        "no history, one identical statement, a loop every 2 s",
        IncidentReplay(batch_queries=120, loop_interval_seconds=2, loop_minutes=4, one_statement=True),
    ),
    Loop(
        "incident-3s",
        "the incident's shape: home ap-northeast-1, the loop in us-west-2 every 3 s, no history",
        BATCH,
        home_region="ap-northeast-1",
    ),
    Loop(
        "slow-150s",
        "the batch's own pace (one query every 150 s), running on past its usual window",
        IncidentReplay(
            batch_queries=100,
            batch_interval_seconds=150,
            loop_interval_seconds=150,
            loop_minutes=45,
            history_nights=14,
            one_statement=True,
        ),
    ),
)


@dataclass
class Stop:
    """How a replay ended: when the function was throttled (None: never), after how many deliveries."""

    stopped_at: datetime | None = None
    deliveries: int = 0
    #: The night's queries the function issued (started before the stop), in start order.
    issued: list[ReplayQuery] = field(default_factory=list)


def throttled(report: Mapping[str, Any]) -> bool:
    """Whether a watch report says a function was throttled."""
    return any(action.get("result") == "throttled" for action in report.get("actions", []))


def until_stopped(replay: IncidentReplay, deliver: Callable[[Delivery], bool]) -> Stop:
    """Deliver the night's events in order until `deliver` says one throttled the function.

    Deliveries of queries started after the throttle are skipped (the function never ran to issue them);
    the others still are (late CloudTrail records and state changes of queries issued before it).
    """
    stop, issued = Stop(), dict[str, ReplayQuery]()
    for delivery in replay.deliveries(history=False):
        if stop.stopped_at is not None and delivery.query.started_at > stop.stopped_at:
            continue  # reserved concurrency 0: the function never ran to issue this query
        issued.setdefault(delivery.query.query_id, delivery.query)
        stop.deliveries += 1
        if deliver(delivery) and stop.stopped_at is None:
            stop.stopped_at = delivery.deliver_at
    stop.issued = sorted(issued.values(), key=lambda q: q.started_at)
    return stop


@dataclass(frozen=True)
class LoopCost:
    """What a loop did before its stop: how long after its first query, how many queries, what cost."""

    after: timedelta
    queries: int
    usd: float


def loop_cost(replay: IncidentReplay, stopped_at: datetime, config: AthenaWatchConfig) -> LoopCost:
    """From the loop's first query to `stopped_at` (event time); its queries issued by then, priced."""
    looping = [q for q in replay.night_queries() if q.looping]
    issued = [q for q in looping if q.started_at <= stopped_at]
    micros = sum(
        estimate(
            q.scanned_bytes,
            cross_region=True,
            usd_per_tb=config.usd_per_tb,
            transfer_usd_per_gb=config.transfer_usd_per_gb,
        ).total_micros
        for q in issued
    )
    return LoopCost(stopped_at - looping[0].started_at, len(issued), micros / MICROS_PER_USD)


def usual_end(replay: IncidentReplay) -> datetime:
    """When the batch's night usually ends: its last legitimate query's start."""
    return replay.start + (replay.batch_queries - 1) * timedelta(seconds=replay.batch_interval_seconds)


def run_the_guard(session: boto3.session.Session, function: str) -> None:
    """Tag `function` `guardrail:guarded=true`: it runs the guard, so its query starts verify."""
    client = session.client("lambda")
    arn = client.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    client.tag_resource(Resource=arn, Tags={TAG_GUARDED: "true"})


def learn_nights(
    session: boto3.session.Session,
    table: str,
    replay: IncidentReplay,
    config: AthenaWatchConfig,
    *,
    away: bool = False,
) -> None:
    """Write what the replay's learning nights leave in the ledger table, in one batch.

    `away`: the batch runs outside the guardrail's home, so its counters are keyed with its place.
    """
    if replay.history_nights:
        write_items(session, table, learned_items(replay, config, away=away))
