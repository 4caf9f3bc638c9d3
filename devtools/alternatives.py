"""The guardrail against the alternatives, on the same replay: when each stops the loop, and the bill.

(a) No guardrail: the loop runs until someone notices (the scenario's `noStopHours`).
(b) Lambda's own recursion stop: it cuts a chain at ~16 invocations, so a batch that recurses 672 times
    must set `RecursiveLoop=Allow`, and is then never stopped; left on, it breaks the batch itself.
(c) An AWS Budgets action, modelled: Budgets sees spend 8 to 12 hours after it happens (its documented
    refresh cadence); once the loop's spend is seen over the threshold, the action applies an IAM deny
    policy to the function's role (no Budget Action can stop a Lambda function; denying Athena stops
    the spend).
(d) The guardrail: measured, from the replay through the deployed handlers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from devtools.incident import Timeline
from devtools.scenario import Scenario
from guardrail.detectors.athena.cost import TB, estimate

NATIVE_HOP_LIMIT = 16


@dataclass(frozen=True)
class Alternative:
    """How one protection fares against the loop."""

    name: str
    stops_after: timedelta | None  # from the loop's start; None when nothing stops it in the horizon
    queries: int  # issued by the loop before the stop (or over the horizon)
    scanned_bytes: int
    usd: float
    note: str

    @property
    def scanned_tb(self) -> float:
        """Scanned bytes in TB."""
        return self.scanned_bytes / TB


def query_usd(scenario: Scenario) -> float:
    """What one of the scenario's queries costs (scan and cross-region transfer)."""
    config = scenario.watch_config
    cost = estimate(
        scenario.replay.scanned_bytes,
        cross_region=True,
        usd_per_tb=config.usd_per_tb,
        transfer_usd_per_gb=config.transfer_usd_per_gb,
    )
    return cost.total_micros / 1_000_000


def loop_queries(scenario: Scenario, duration: timedelta) -> int:
    """How many queries the loop issues in `duration` from its start."""
    return max(0, math.ceil(duration.total_seconds() / scenario.replay.loop_interval_seconds))


def _spend(
    name: str, scenario: Scenario, stops_after: timedelta | None, horizon: timedelta, note: str
) -> Alternative:
    count = loop_queries(scenario, horizon if stops_after is None else stops_after)
    return Alternative(
        name,
        stops_after,
        count,
        count * scenario.replay.scanned_bytes,
        round(count * query_usd(scenario), 2),
        note,
    )


def budget_stop(scenario: Scenario, delay: timedelta) -> timedelta:
    """How long after the loop's start a budget that sees spend `delay` late acts on it."""
    per_second = query_usd(scenario) / scenario.replay.loop_interval_seconds
    return timedelta(seconds=scenario.compare.budget_usd / per_second) + delay


def compare(scenario: Scenario, timeline: Timeline) -> list[Alternative]:
    """Every alternative on the replay the timeline comes from."""
    if timeline.loop_started_at is None:
        raise ValueError("the scenario has no loop to stop (loopMinutes is 0)")
    horizon = timedelta(hours=scenario.compare.no_stop_hours)
    batch = scenario.replay.batch_queries
    out = [
        _spend(
            "(a) no guardrail",
            scenario,
            None,
            horizon,
            f"runs until noticed; {scenario.compare.no_stop_hours:g} h modelled",
        ),
        _spend(
            "(b) Lambda recursion stop",
            scenario,
            None,
            horizon,
            f"the batch recurses {batch} times, so it must set RecursiveLoop=Allow and is never stopped; "
            f"left on, it would cut the legitimate batch after {NATIVE_HOP_LIMIT} invocations",
        ),
    ]
    for hours in scenario.compare.budget_cadence_hours:
        budget = budget_stop(scenario, timedelta(hours=hours))
        out.append(
            _spend(
                f"(c) AWS Budgets action, spend seen {hours:g} h late",
                scenario,
                budget,
                horizon,
                f"modelled: threshold ${scenario.compare.budget_usd:g} over normal spend, then an "
                "IAM deny on the function's role",
            )
        )
    looped = [q for q in timeline.issued if q.looping]
    stop = None if timeline.throttled_at is None else timeline.throttled_at - timeline.loop_started_at
    out.append(
        Alternative(
            "(d) Runaway Guardrail",
            stop,
            len(looped),
            sum(q.scanned_bytes for q in looped),
            round(len(looped) * query_usd(scenario), 2),
            "measured: the replay through the deployed rules and handlers",
        )
    )
    return out
