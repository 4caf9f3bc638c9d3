"""Acceptance: a loop without any learned history, caught by its acceleration (issue 22's first rows).

The batch runs at its own pace (one query every 40 s) for 80 minutes, then loops. Nothing is learned
beforehand: the watch knows the batch only from this night's counters. CloudTrail's records of the
loop reach the watch 20-75 s late; the guard's own query starts 0.3-0.8 s late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from devtools.replay import IncidentReplay
from guardrail.detectors.athena.cost import estimate

#: Every query scans 1.2 GB of a table in another region: $0.114 a query, about $2.3 a minute at 3 s.
COST = estimate(IncidentReplay().scanned_bytes, cross_region=True, usd_per_tb=5.0, transfer_usd_per_gb=0.09)


def stopped(watched) -> datetime | None:
    """Deliver every event in order; a throttled function issues no more queries. Return the stop time."""
    stopped_at = None
    for delivery in watched.replay.deliveries():
        if stopped_at is not None and delivery.query.started_at > stopped_at:
            continue  # reserved concurrency 0: the function never ran to issue this query
        watched.deployed.clock.now = delivery.deliver_at
        report = watched.deliver(delivery.event)
        if stopped_at is None and any(a["result"] == "throttled" for a in report.get("actions", [])):
            stopped_at = delivery.deliver_at
    return stopped_at


def loop_spent(replay: IncidentReplay, stopped_at: datetime) -> tuple[timedelta, float]:
    """How long after its first query the loop was stopped, and what its queries cost until then."""
    looping = [q for q in replay.queries() if q.looping]
    issued = [q for q in looping if q.started_at <= stopped_at]
    return stopped_at - looping[0].started_at, len(issued) * COST.total_micros / 1e6


def the_acceleration(watched) -> dict:
    (throttled,) = [
        a["Document"] for a in watched.deployed.alerts() if a["Document"]["event_type"] == "throttled"
    ]
    assert throttled["function"] == "nightly-batch"
    assert throttled["evidence"]["rules"] == "acceleration"
    (signature,) = throttled["evidence"]["loop_signatures"]
    return signature


@pytest.mark.parametrize("interval", [2.0, 3.0])
def test_a_loop_known_through_cloudtrail_alone_is_stopped_within_a_minute_without_history(
    watch_replay, interval
):
    replay = IncidentReplay(batch_queries=120, loop_interval_seconds=interval, loop_minutes=4, seed=3)
    watched = watch_replay(replay, {})
    stopped_at = stopped(watched)

    assert stopped_at is not None
    after, usd = loop_spent(watched.replay, stopped_at)
    assert after <= timedelta(seconds=60), after
    signature = the_acceleration(watched)
    assert signature["signature"] == "acceleration"
    # what was learned: the batch's own pace in the hour before (one query every 40 s)
    assert signature["baseline_left"]["busiest_per_minute_earlier_hours"] == pytest.approx(1.5, abs=0.1)
    # what was seen: four starts far closer together (5 x 1.5 a minute allowed), all of them the loop's
    left = signature["baseline_left"]
    assert left["per_minute"] > left["allowed_per_minute"] == pytest.approx(7.5, abs=0.5)
    first = datetime.fromisoformat(signature["baseline_left"]["first_started_at"])
    assert first >= min(q.started_at for q in watched.replay.queries() if q.looping)
    print(f"\n{interval:g} s loop, CloudTrail only: stopped {after.total_seconds():.0f} s in, ${usd:.2f}")


def test_a_guarded_loop_is_stopped_within_fifteen_seconds_for_under_a_dollar_without_history(watch_replay):
    replay = IncidentReplay(batch_queries=120, loop_interval_seconds=3, loop_minutes=4, guarded=True)
    watched = watch_replay(replay, {})
    watched.run_the_guard()
    stopped_at = stopped(watched)

    assert stopped_at is not None
    after, usd = loop_spent(watched.replay, stopped_at)
    assert after <= timedelta(seconds=15), after
    assert usd < 1.0
    assert the_acceleration(watched)["baseline_left"]["queries"] == 4


def test_the_batch_at_its_own_pace_is_never_throttled_nor_alerted_on_for_its_pace(watch_replay):
    replay = IncidentReplay(batch_queries=240, loop_minutes=0, batch_interval_seconds=13.0)
    watched = watch_replay(replay, {})
    assert stopped(watched) is None
    rules = {a["Document"]["evidence"].get("rules") for a in watched.deployed.alerts()}
    assert rules == {"cross-region"}  # the daily cross-region notice, nothing about its pace
