"""Issue 22's loops through the deployed guardrail: when each is stopped, what it spent, and the budget.

Each loop of `devtools.loops.LOOPS` is replayed twice, known through CloudTrail only and with the guard's
query starts, each time into a fresh deployment of the stacks into moto in-process (`devtools.fleet`,
as `make demo` deploys them; the guardrail's home is the batch's region unless the loop names another,
whose events the deployed rules then forward home), default configuration. The replays, the delivery
loop and the account of what a loop spent are the acceptance tests' (`devtools.loops`); the events go
through the deployed rules to the deployed handlers (`devtools.incident.replay_incident`).

Stopped after: from the loop's first query to the delivery that throttled it, in event time. Spent:
the loop's queries started until then, scans and cross-region transfer as the watch prices them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from devtools.bench_incident import duration, replay_deployed
from devtools.loops import LOOPS, Loop, loop_cost, usual_end
from devtools.replay import IncidentReplay
from devtools.scenario import Scenario
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.cost import GB, MICROS_PER_USD, estimate
from guardrail.detectors.athena.pacing import EVIDENCE_USD, LOOP_BUDGET_USD

#: The issue's acceptance: a fast loop on CloudTrail's word within a minute; with the guard's query
#: starts within 15 s and under $1; a loop at the batch's pace within 30 minutes of its usual end.
TRAIL_WITHIN = timedelta(seconds=60)
GUARD_WITHIN = timedelta(seconds=15)
GUARD_UNDER_USD = 1.0
PAST_END_WITHIN = timedelta(minutes=30)
#: A loop slower than this is judged by its usual end, not its first query.
SLOW = 60.0


@dataclass(frozen=True)
class Mode:
    """How the watch learns who started a query: CloudTrail's record only, or the guard's query starts."""

    name: str
    guarded: bool


MODES = (Mode("CloudTrail only", guarded=False), Mode("the guard's query starts", guarded=True))


def usd_per_query(replay: IncidentReplay, config: AthenaWatchConfig) -> float:
    """What one of the replay's queries costs: its scan and its cross-region transfer."""
    cost = estimate(
        replay.scanned_bytes,
        cross_region=True,
        usd_per_tb=config.usd_per_tb,
        transfer_usd_per_gb=config.transfer_usd_per_gb,
    )
    return cost.total_micros / MICROS_PER_USD


def budget_usd(replay: IncidentReplay, config: AthenaWatchConfig) -> float:
    """The dollars the loop may spend before its stop: `LOOP_BUDGET_USD`, and CloudTrail's lag.

    On CloudTrail's word alone, add what the loop runs while CloudTrail delivers its starts (the replay's
    longest lag): no rule can act on a start it has not been told of.
    """
    if replay.guarded:
        return LOOP_BUDGET_USD
    lag = replay.trail_lag_seconds[1]
    return LOOP_BUDGET_USD + usd_per_query(replay, config) * lag / replay.loop_interval_seconds


def scenario_of(loop: Loop, replay: IncidentReplay) -> Scenario:
    """The replay as a scenario of the stand-in: placed at home unless the loop names another home."""
    return Scenario(
        name=loop.name,
        home_region=loop.home_region or replay.athena_region,
        account=replay.account,
        function=replay.function,
        athena_region=replay.athena_region,
        data_region=replay.data_region,
        start=replay.start,
        batch_queries=replay.batch_queries,
        batch_interval_seconds=replay.batch_interval_seconds,
        loop_interval_seconds=replay.loop_interval_seconds,
        loop_minutes=replay.loop_minutes,
        scanned_gb_per_query=replay.scanned_bytes / GB,
        query_seconds=replay.query_seconds,
        trail_lag_seconds=replay.trail_lag_seconds,
        state_lag_seconds=replay.state_lag_seconds,
        duplicate_share=replay.duplicate_share,
        seed=replay.seed,
        history_nights=replay.history_nights,
        guarded_queries=replay.guarded,
        claim_lag_seconds=replay.claim_lag_seconds,
        one_statement=replay.one_statement,
    )


def acceptance(replay: IncidentReplay) -> str:
    """The issue's line for the loop, as the table shows it."""
    if replay.loop_interval_seconds >= SLOW:
        return f"within {PAST_END_WITHIN.total_seconds() / 60:.0f} min of its usual end"
    if replay.guarded:
        return f"within {GUARD_WITHIN.total_seconds():.0f} s, under ${GUARD_UNDER_USD:.0f}"
    return f"within {TRAIL_WITHIN.total_seconds():.0f} s"


def accepted(replay: IncidentReplay, after: timedelta, past_end: timedelta, usd: float) -> bool:
    """Whether the stop meets the issue's acceptance for the loop."""
    if replay.loop_interval_seconds >= SLOW:
        return timedelta(0) < past_end <= PAST_END_WITHIN
    if replay.guarded:
        return after <= GUARD_WITHIN and usd < GUARD_UNDER_USD
    return after <= TRAIL_WITHIN


def measure(loop: Loop, mode: Mode) -> dict[str, Any]:
    """Replay the loop in `mode` into a fresh deployment; when it was stopped, by what, for how much."""
    replay = replace(loop.replay, guarded=mode.guarded)
    scenario = scenario_of(loop, replay)
    config = scenario.watch_config
    began = time.perf_counter()
    timeline, alerts = replay_deployed(scenario)
    row: dict[str, Any] = {
        "loop": loop.key,
        "name": loop.name,
        "known_through": mode.name,
        "home_region": scenario.home_region,
        "athena_region": scenario.athena_region,
        "loop_every_s": replay.loop_interval_seconds,
        "usd_per_query": round(usd_per_query(replay, config), 4),
        "budget_usd": round(budget_usd(replay, config), 2),
        "acceptance": acceptance(replay),
        "events_delivered": timeline.deliveries,
        "seconds": round(time.perf_counter() - began, 1),
    }
    if timeline.throttled_at is None:
        return row | {"stopped": False, "accepted": False, "within_budget": False}
    spent = loop_cost(replay, timeline.throttled_at, config)
    past_end = timeline.throttled_at - usual_end(replay)
    throttles = [a for a in alerts if a.get("event_type") == "throttled"]
    signatures = throttles[0]["evidence"].get("loop_signatures", []) if throttles else []
    return row | {
        "stopped": True,
        "stopped_after_s": round(spent.after.total_seconds(), 1),
        "past_usual_end_min": round(past_end.total_seconds() / 60, 1),
        "loop_queries": spent.queries,
        "spent_usd": round(spent.usd, 2),
        "within_budget": spent.usd <= budget_usd(replay, config),
        "accepted": accepted(replay, spent.after, past_end, spent.usd),
        "rules": throttles[0]["evidence"].get("rules", "") if throttles else "",
        "reason": signatures[0]["reason"] if signatures else (throttles[0]["reason"] if throttles else ""),
    }


def run() -> dict[str, Any]:
    """Every loop in both modes."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    rows = []
    for loop in LOOPS:
        for mode in MODES:
            # a process of its own: the handlers' modules keep their watch (clients, settings, cached
            # baselines) for the process's life, as a warm container does, and each deployment is new
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.append(pool.submit(measure, loop, mode).result())
    return {"loop_budget_usd": LOOP_BUDGET_USD, "evidence_usd": EVIDENCE_USD, "rows": rows}


def markdown(results: dict[str, Any]) -> list[str]:
    """The loops' table, with the budget and the acceptance each is held to."""
    lines = [
        "",
        "## Issue 22's loops: when each is stopped, and what it spent",
        "",
        "Each loop replayed into a fresh deployment of the stacks (moto in-process, default configuration,"
        " `devtools/bench_loops.py`; the replays and the delivery loop are the acceptance tests',"
        " `devtools/loops.py`): a batch of 1.2 GB queries reading a table in ap-northeast-1 from Athena in"
        " us-west-2 ($0.114 a query), then the loop. Stopped after: from the loop's first query to the"
        " delivery that throttled it, event time (for the slow loop: past the night's usual end). Spent:"
        " the loop's queries started until then. Budget: what the loop may spend before the stop, "
        f"${results['loop_budget_usd']:.2f} (evidence bought for ${results['evidence_usd']:.2f} at the "
        "caller's cost, and as much again for the stop to land), plus, on CloudTrail's word, what it "
        "runs while CloudTrail delivers its starts (up to 75 s). See docs/athena-watch.md.",
        "",
        "| loop | known through | stopped after | loop queries | spent | budget | acceptance | met | by |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in results["rows"]:
        if not row["stopped"]:
            lines.append(
                f"| {row['name']} | {row['known_through']} | not stopped | | | ${row['budget_usd']:.2f} "
                f"| {row['acceptance']} | no | |"
            )
            continue
        slow = row["loop_every_s"] >= SLOW
        after = (
            f"{row['past_usual_end_min']:.1f} min past its usual end"
            if slow
            else duration(row["stopped_after_s"])
        )
        met = ("yes" if row["accepted"] else "**no**") + (
            ", in budget" if row["within_budget"] else ", **over budget**"
        )
        lines.append(
            f"| {row['name']} | {row['known_through']} | {after} | {row['loop_queries']} | "
            f"${row['spent_usd']:.2f} | ${row['budget_usd']:.2f} | {row['acceptance']} | {met} | "
            f"`{row['rules']}` |"
        )
    lines += ["", "What each throttle said (the alert's reason for its first loop signature):", ""]
    lines += [f"- {row['name']}, {row['known_through']}: {row.get('reason', '')}" for row in results["rows"]]
    return lines
