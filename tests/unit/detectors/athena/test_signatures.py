"""The four loop signatures, each against a learned baseline; none speaks without one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guardrail.config.athena_watch import Baselines, Signature
from guardrail.detectors.athena.baseline import DAY, HOUR, Baseline, HourCount, fold, started
from guardrail.detectors.athena.signatures import (
    Now,
    acceleration,
    after_usual_window,
    densest,
    rate_vs_baseline,
    repeated_statement,
    signals,
    steady_growth,
)

CONFIG = Baselines()
T0 = datetime(2026, 11, 1, 0, tzinfo=UTC)
TODAY = T0 + 3 * DAY


def batch(days: int = 3, per_hour: int = 90) -> Baseline:
    """Three nights of a batch active 00:00-08:00, 90 queries an hour, each statement run once."""
    hours = {T0 + d * DAY + h * HOUR: HourCount(per_hour, 0) for d in range(days) for h in range(8)}
    fps = {f"fp{i}": 1 for i in range(40)}
    return fold(started(Baseline(), T0), hours, fps, (T0, T0 + days * DAY - HOUR), CONFIG)


def now(at: datetime, **kwargs) -> Now:
    return Now(at=at, window_queries=kwargs.pop("window", 7), window_minutes=5, **kwargs)


def test_nothing_speaks_while_the_history_is_short():
    young = batch(days=1)
    flood = now(TODAY - 2 * DAY + 9 * HOUR, window=10_000, fingerprint="fp1", fingerprint_runs=10_000)
    assert signals(young, flood, CONFIG) == []
    assert signals(batch(), flood, Baselines(enabled=False)) == []


def test_repeated_statement():
    base = batch()
    at = TODAY + 7 * HOUR + timedelta(minutes=30)
    assert repeated_statement(base, now(at, fingerprint="fp1", fingerprint_runs=5), CONFIG) is None
    signal = repeated_statement(base, now(at, fingerprint="fp1", fingerprint_runs=6), CONFIG)
    assert signal is not None and signal.signature is Signature.REPEATED_STATEMENT
    assert signal.baseline == {"fingerprint": "fp1", "runs_last_2_h": 6, "usual_max_per_hour": 1}
    assert repeated_statement(base, now(at), CONFIG) is None  # no statement text: nothing to compare


def test_after_usual_window():
    base = batch()
    grace = timedelta(minutes=CONFIG.after_window_grace_minutes)
    running = {TODAY + 7 * HOUR: HourCount(90, 0), TODAY + 8 * HOUR: HourCount(20, 0)}
    assert after_usual_window(base, now(TODAY + 8 * HOUR + grace - timedelta(seconds=1)), CONFIG) is None
    signal = after_usual_window(base, now(TODAY + 8 * HOUR + grace, recent_hours=running), CONFIG)
    assert signal is not None and signal.baseline["usual_hours_utc"] == list(range(8))
    assert after_usual_window(base, now(TODAY + 3 * HOUR), CONFIG) is None  # inside its hours
    # a fresh start far from its hours is not "still running" (the quiet-hours rule is for that)
    assert after_usual_window(base, now(TODAY + 15 * HOUR), CONFIG) is None
    two_hours_over = {TODAY + 8 * HOUR: HourCount(30, 0), TODAY + 9 * HOUR: HourCount(30, 0)}
    assert after_usual_window(base, now(TODAY + 10 * HOUR, recent_hours=two_hours_over), CONFIG)
    broken = {TODAY + 9 * HOUR: HourCount(30, 0)}  # nothing at 08: it stopped, then started again
    assert after_usual_window(base, now(TODAY + 10 * HOUR, recent_hours=broken), CONFIG) is None


def test_rate_vs_baseline():
    base = batch()  # 90 an hour: 7.5 in 5 minutes; allowed max(5 x 7.5, 20) = 37.5
    at = TODAY + 2 * HOUR
    assert rate_vs_baseline(base, now(at, window=37), CONFIG) is None
    signal = rate_vs_baseline(base, now(at, window=38), CONFIG)
    assert signal is not None and signal.baseline["usual_queries_per_hour"] == 90
    # where it usually does nothing, the floor holds
    assert rate_vs_baseline(base, now(TODAY + 12 * HOUR, window=20), CONFIG) is None
    assert rate_vs_baseline(base, now(TODAY + 12 * HOUR, window=21), CONFIG) is not None


def test_steady_growth():
    hours = {T0 + d * DAY + 2 * HOUR: HourCount(q, 0) for d, q in enumerate([10, 14, 19])}
    base = fold(started(Baseline(), T0), hours, {}, (T0, TODAY - HOUR), CONFIG)
    at = TODAY + 2 * HOUR + timedelta(minutes=40)
    assert steady_growth(base, now(at, recent_hours={TODAY + 2 * HOUR: HourCount(19, 0)}), CONFIG) is None
    assert (
        steady_growth(base, now(at, recent_hours={TODAY + 2 * HOUR: HourCount(19 + 1, 0)}), CONFIG)
        is not None
    )
    flat = fold(started(Baseline(), T0), {h: HourCount(10, 0) for h in hours}, {}, (T0, TODAY - HOUR), CONFIG)
    assert steady_growth(flat, now(at, recent_hours={TODAY + 2 * HOUR: HourCount(40, 0)}), CONFIG) is None


@given(
    runs=st.integers(0, 10_000),
    window=st.integers(0, 10_000),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_a_scope_that_does_what_it_usually_does_matches_no_signature(runs, window, minute):
    base = batch()
    at = TODAY + timedelta(minutes=minute)
    usual = now(at, window=min(window, 7), fingerprint="fp1", fingerprint_runs=min(runs, 2))
    if at.hour < 8:
        assert signals(base, usual, CONFIG) == []
    found = signals(base, now(at, window=window, fingerprint="fp1", fingerprint_runs=runs), CONFIG)
    assert (Signature.RATE in {s.signature for s in found}) == (
        window > max(5 * (7.5 if at.hour < 8 else 0), 20)
    )
    assert (Signature.REPEATED_STATEMENT in {s.signature for s in found}) == (runs > 5)


def starts(first: datetime, *gaps: float) -> tuple[datetime, ...]:
    """Starts `gaps` seconds apart from `first`."""
    out = [first]
    for gap in gaps:
        out.append(out[-1] + timedelta(seconds=gap))
    return tuple(out)


BATCH_PACE = 90  # one query every 40 s, in queries an hour


def test_acceleration_finds_four_starts_far_closer_than_the_earlier_hours_pace():
    seen = starts(TODAY, 40, 40, 40, 3, 3, 3)  # the batch, then a loop every 3 s
    signal = signals(Baseline(), now(TODAY, starts=seen, earlier_pace=BATCH_PACE), CONFIG)
    assert [s.signature for s in signal] == [Signature.ACCELERATION]
    (found,) = signal
    assert found.baseline == {
        "busiest_per_minute_earlier_hours": 1.5,
        "queries": 4,
        "within_seconds": 9,
        "first_started_at": seen[3].isoformat(),
        "per_minute": 20.0,
        "allowed_per_minute": 7.5,
    }
    assert "4 queries started within 9 s (20.0 a minute" in found.reason
    assert "5x its busiest pace of the day's earlier hours (1.5 a minute; allowed 7.5)" in found.reason


def test_acceleration_needs_a_pace_of_earlier_hours_and_more_than_the_ratio_and_the_floor():
    loop = starts(TODAY, 3, 3, 3)
    assert acceleration(now(TODAY, starts=loop, earlier_pace=0), CONFIG) is None  # its first hour
    assert acceleration(now(TODAY, starts=loop, earlier_pace=300), CONFIG) is None  # 20/min is 4x 5/min
    slow = starts(TODAY, 12, 12, 12)  # 5 a minute: over 5 x 0.5, under the floor of 6
    assert acceleration(now(TODAY, starts=slow, earlier_pace=30), CONFIG) is None
    assert acceleration(now(TODAY, starts=loop[:3], earlier_pace=BATCH_PACE), CONFIG) is None  # 3 starts


def test_acceleration_speaks_without_a_learned_baseline_and_the_others_do_not():
    flood = now(TODAY, window=10_000, fingerprint="fp1", fingerprint_runs=10_000, earlier_pace=BATCH_PACE)
    assert signals(Baseline(), flood, CONFIG) == []
    accelerated = replace(flood, starts=starts(TODAY, 1, 1, 1))
    assert [s.signature for s in signals(Baseline(), accelerated, CONFIG)] == [Signature.ACCELERATION]
    assert signals(Baseline(), accelerated, Baselines(enabled=False)) == []


@given(st.lists(st.integers(0, 600), min_size=0, max_size=30), st.integers(3, 8))
def test_the_densest_run_is_the_closest_of_its_length(offsets, queries):
    seen = tuple(sorted({TODAY + timedelta(seconds=s) for s in offsets}))
    pace = densest(seen, queries)
    if len(seen) < queries:
        assert pace is None
        return
    assert pace is not None and pace.queries == queries
    spans = [(seen[i + queries - 1] - seen[i]).total_seconds() for i in range(len(seen) - queries + 1)]
    assert pace.seconds == max(min(spans), 1.0)
    assert pace.per_hour == int((queries - 1) * 3600 / pace.seconds)
