"""`rate-vs-baseline` at the edges of a job's hours: the partial hour it ends in is not its rate.

Found by `make bench`'s month: the batch (about 120 queries, one every 40 s) runs 00:00-01:20, so its
hour 01 holds 10-50 queries; the month-end run (three times the analyses in three chains, still within
the 5x ratio of the batch's rate) was throttled at 01:00 as "over 5x its usual 50 an hour".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import (
    DAY,
    HOUR,
    Baseline,
    HourCount,
    fold,
    started,
    usual_queries_per_hour,
)
from guardrail.detectors.athena.signatures import Now, rate_vs_baseline

CONFIG = Baselines()
T0 = datetime(2026, 11, 1, tzinfo=UTC)
TODAY = T0 + 3 * DAY


def batch_ending_in_hour_one(last_hour: int = 30) -> Baseline:
    """Three nights of 90 queries at 00 and `last_hour` at 01 (the batch ends at 01:20)."""
    hours = {}
    for day in range(3):
        hours[T0 + day * DAY] = HourCount(90, 0)
        hours[T0 + day * DAY + HOUR] = HourCount(last_hour, 0)
    return fold(started(Baseline(), T0), hours, {}, (T0, T0 + 3 * DAY - HOUR), CONFIG)


def window(at: datetime, queries: int) -> Now:
    return Now(at=at, window_queries=queries, window_minutes=5)


def test_the_usual_rate_of_a_partial_hour_is_its_busier_neighbours():
    baseline = batch_ending_in_hour_one()
    assert usual_queries_per_hour(baseline, TODAY + HOUR + timedelta(minutes=5), CONFIG) == 90
    assert usual_queries_per_hour(baseline, TODAY + 2 * HOUR, CONFIG) == 30  # after its end: its last hour
    assert usual_queries_per_hour(baseline, TODAY + 5 * HOUR, CONFIG) == 0  # far from its hours


def test_a_run_three_times_as_fast_spilling_into_the_partial_hour_is_not_a_runaway():
    baseline = batch_ending_in_hour_one()
    at = TODAY + HOUR + timedelta(minutes=5)
    assert rate_vs_baseline(baseline, window(at, 23), CONFIG) is None  # 3x the batch's 7.5 in 5 min


def test_a_loop_in_the_partial_hour_is_still_over_five_times_the_rate():
    baseline = batch_ending_in_hour_one()
    at = TODAY + HOUR + timedelta(minutes=25)
    signal = rate_vs_baseline(baseline, window(at, 100), CONFIG)  # one query every 3 s
    assert signal is not None
    assert signal.baseline["usual_queries_per_hour"] == 90
    assert rate_vs_baseline(baseline, window(at, 38), CONFIG) is not None  # over 5 x 7.5
