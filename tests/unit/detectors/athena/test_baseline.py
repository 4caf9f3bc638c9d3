"""Learned baselines: folding settled hours (idempotent, bounded), and what is normal at an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import (
    DAY,
    HOUR,
    Baseline,
    HourCount,
    due,
    fingerprint_allowance,
    fold,
    learned,
    same_hours,
    started,
    usual_hours_of_day,
    usual_queries_per_hour,
)

CONFIG = Baselines()
T0 = datetime(2026, 11, 1, 0, tzinfo=UTC)  # a Sunday


def nights(days: int, per_hour: int = 90, hours: range = range(8)) -> dict[datetime, HourCount]:
    """A nightly batch: `per_hour` queries in each of `hours`, for `days` days from T0."""
    return {
        T0 + d * DAY + h * HOUR: HourCount(per_hour, per_hour * 2**30) for d in range(days) for h in hours
    }


def learned_from(days: int, **kwargs) -> Baseline:
    last = T0 + days * DAY - HOUR
    return fold(started(Baseline(), T0), nights(days, **kwargs), {"a": 1, "b": 2}, (T0, last), CONFIG)


def test_a_scope_first_seen_has_no_history_and_nothing_is_learned():
    baseline = started(Baseline(), T0 + 30 * timedelta(minutes=1))
    assert baseline.since == T0
    assert not learned(baseline, T0 + DAY, CONFIG)
    assert started(baseline, T0 + 5 * DAY) == baseline


def test_an_hour_is_due_once_it_settled():
    baseline = started(Baseline(), T0)
    assert due(baseline, T0 + HOUR + timedelta(minutes=14), CONFIG) is None
    assert due(baseline, T0 + HOUR + timedelta(minutes=15), CONFIG) == (T0, T0)
    folded = fold(baseline, {}, {}, (T0, T0), CONFIG)
    assert due(folded, T0 + HOUR + timedelta(minutes=50), CONFIG) is None
    assert due(folded, T0 + 3 * HOUR + timedelta(minutes=20), CONFIG) == (T0 + HOUR, T0 + 2 * HOUR)


def test_folding_copies_settled_hours_and_keeps_the_top_fingerprints():
    baseline = learned_from(3)
    assert baseline.folded_through == T0 + 3 * DAY - HOUR
    assert baseline.hours[T0 + 2 * DAY + 7 * HOUR] == HourCount(90, 90 * 2**30)
    assert T0 + 8 * HOUR not in baseline.hours  # an hour without queries takes no room
    assert baseline.fingerprints == {"a": 1, "b": 2}
    assert learned(baseline, T0 + 3 * DAY, CONFIG)


def test_the_record_is_bounded_by_history_days_and_top_fingerprints():
    config = Baselines(history_days=7, weekly_after_days=7, top_fingerprints=3)
    hours = nights(30, hours=range(24))
    fps = {f"fp{i:02}": i for i in range(20)}
    baseline = fold(started(Baseline(), T0), hours, fps, (T0, T0 + 30 * DAY - HOUR), config)
    assert len(baseline.hours) == 7 * 24
    assert min(baseline.hours) == T0 + 23 * DAY
    assert baseline.fingerprints == {"fp19": 19, "fp18": 18, "fp17": 17}
    assert fingerprint_allowance(baseline, "fp00", config) == 17  # outside a full list: at most its least
    assert fingerprint_allowance(baseline, "fp18", config) == 18


@given(
    counts=st.dictionaries(st.integers(0, 71), st.integers(0, 500), max_size=72),
    fps=st.dictionaries(st.text("abcdef", min_size=1, max_size=4), st.integers(1, 50), max_size=80),
)
def test_folding_is_idempotent_and_bounded(counts, fps):
    hours = {T0 + n * HOUR: HourCount(q, q) for n, q in counts.items()}
    span = (T0, T0 + 71 * HOUR)
    once = fold(started(Baseline(), T0), hours, fps, span, CONFIG)
    assert fold(once, hours, fps, span, CONFIG) == once
    assert len(once.fingerprints) <= CONFIG.top_fingerprints
    assert all(c.queries > 0 for c in once.hours.values())


def test_an_hour_is_compared_with_the_same_hour_of_each_day_then_of_the_same_weekday():
    short = learned_from(3)
    at = T0 + 3 * DAY + 2 * HOUR
    assert same_hours(short, at, CONFIG) == [at - DAY, at - 2 * DAY, at - 3 * DAY]
    assert usual_queries_per_hour(short, at, CONFIG) == 90
    assert usual_queries_per_hour(short, at + 10 * HOUR, CONFIG) == 0
    assert usual_hours_of_day(short, at, CONFIG) == frozenset(range(8))
    weekly = learned_from(21, hours=range(8))
    at = T0 + 21 * DAY + 3 * HOUR
    assert same_hours(weekly, at, CONFIG) == [at - 7 * DAY, at - 14 * DAY, at - 21 * DAY]


def test_the_weekday_view_sees_a_weekly_late_start():
    hours = nights(21)
    for week in range(3):  # every Wednesday the batch runs 08:00-12:00 instead
        for h in range(8):
            hours.pop(T0 + (3 + 7 * week) * DAY + h * HOUR)
        hours.update({T0 + (3 + 7 * week) * DAY + h * HOUR: HourCount(90, 0) for h in range(8, 12)})
    baseline = fold(started(Baseline(), T0), hours, {}, (T0, T0 + 21 * DAY - HOUR), CONFIG)
    wednesday = T0 + 24 * DAY + 10 * HOUR
    assert usual_queries_per_hour(baseline, wednesday, CONFIG) == 90
    assert usual_hours_of_day(baseline, wednesday, CONFIG) == frozenset(range(8, 12))
