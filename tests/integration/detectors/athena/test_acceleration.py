"""Acceptance: a loop without any learned history, caught by its acceleration (issue 22's first rows).

The batch runs at its own pace (one query every 40 s) for 80 minutes, then loops. Nothing is learned
beforehand: the watch knows the batch only from this night's counters. CloudTrail's records of the
loop reach the watch 20-75 s late; the guard's own query starts 0.3-0.8 s late. And the other way:
a steady caller of the busy bench, watched from a brand-new deployment minutes before its busy
morning, is not taken for a loop (its pace read from too few starts is not compared with).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

import pytest

from devtools.bench_busy import FRESH, BusyAccount, CallerQuery
from devtools.loops import BATCH, loop_cost
from devtools.replay import ReplayQuery
from guardrail.config import AthenaWatchConfig
from tests.conftest import REGION

pytestmark = pytest.mark.slow  # loops replayed event by event through the handler

CONFIG = AthenaWatchConfig()


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
    watched = watch_replay(replace(BATCH, loop_interval_seconds=interval), {})
    stopped_at = watched.until_stopped().stopped_at

    assert stopped_at is not None
    spent = loop_cost(watched.replay, stopped_at, CONFIG)
    assert spent.after <= timedelta(seconds=60), spent.after
    signature = the_acceleration(watched)
    assert signature["signature"] == "acceleration"
    # what was learned: the batch's own pace in the hour before (one query every 40 s)
    assert signature["baseline_left"]["busiest_per_minute_earlier_hours"] == pytest.approx(1.5, abs=0.1)
    # read from the batch's 90 starts of its first hour: enough to be its pace (36 at least)
    assert signature["baseline_left"]["earlier_hours_starts"] == 90
    assert "read from their 90 starts" in signature["reason"]
    # what was seen: four starts far closer together (5 x 1.5 a minute allowed), all of them the loop's
    left = signature["baseline_left"]
    assert left["per_minute"] > left["allowed_per_minute"] == pytest.approx(7.5, abs=0.5)
    first = datetime.fromisoformat(signature["baseline_left"]["first_started_at"])
    assert first >= min(q.started_at for q in watched.replay.queries() if q.looping)
    print(
        f"\n{interval:g} s loop, CloudTrail only: stopped {spent.after.total_seconds():.0f} s in, "
        f"${spent.usd:.2f}"
    )


def test_a_guarded_loop_is_stopped_within_fifteen_seconds_for_under_a_dollar_without_history(watch_replay):
    watched = watch_replay(replace(BATCH, guarded=True), {})
    watched.run_the_guard()
    stopped_at = watched.until_stopped().stopped_at

    assert stopped_at is not None
    spent = loop_cost(watched.replay, stopped_at, CONFIG)
    assert spent.after <= timedelta(seconds=15), spent.after
    assert spent.usd < 1.0
    assert the_acceleration(watched)["baseline_left"]["queries"] == 4


def test_the_batch_at_its_own_pace_is_never_throttled_nor_alerted_on_for_its_pace(watch_replay):
    watched = watch_replay(replace(BATCH, batch_queries=240, loop_minutes=0, batch_interval_seconds=13.0), {})
    assert watched.until_stopped().stopped_at is None
    rules = {a["Document"]["evidence"].get("rules") for a in watched.deployed.alerts()}
    assert rules == {"cross-region"}  # the daily cross-region notice, nothing about its pace


@dataclass(frozen=True)
class OneBusyCaller(BusyAccount):
    """One of the busy account's callers (its `function`), its traffic drawn as the bench draws it."""

    def queries(self) -> list[ReplayQuery]:
        """The caller's queries only."""
        return [q for q in super().queries() if cast(CallerQuery, q).caller == self.function]


def test_a_steady_caller_watched_from_minutes_before_its_busy_morning_is_not_taken_for_a_loop(watch_replay):
    # the busy bench's brand-new deployment (bench_busy.FRESH, seed 11): deployed at 07:50, the watch
    # noted this caller's pace from the night's last 10 minutes (about 15 of its starts); at 08:00 its
    # random starts come twice as dense, and their clusters (12 within 80-100 s, over the floor of 6 a
    # minute) were throttled as a loop at 08:08 while that pace was compared with
    caller = OneBusyCaller(
        learned_days=0,
        driven_to=timedelta(hours=8, minutes=20),
        seed=FRESH.seed,
        function="reporting-job-3",
        data_region=REGION,
    )
    watched = watch_replay(caller, {})
    assert watched.until_stopped().stopped_at is None
    assert watched.deployed.alerts() == []
