"""The four loop signatures, each against a learned baseline; none speaks without one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from guardrail.config.athena_watch import Baselines, Signature
from guardrail.detectors.athena.baseline import DAY, HOUR, Baseline, HourCount, Run, fold, runs_of, started
from guardrail.detectors.athena.signatures import (
    Now,
    acceleration,
    after_usual_window,
    densest,
    overrun,
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
@example(runs=0, window=21, minute=23 * 60)  # 23:00 borders the batch's first hour
@example(runs=0, window=21, minute=8 * 60 + 30)  # and 08:30 its last
def test_a_scope_that_does_what_it_usually_does_matches_no_signature(runs, window, minute):
    base = batch()
    at = TODAY + timedelta(minutes=minute)
    usual = now(at, window=min(window, 7), fingerprint="fp1", fingerprint_runs=min(runs, 2))
    if at.hour < 8:
        assert signals(base, usual, CONFIG) == []
    found = signals(base, now(at, window=window, fingerprint="fp1", fingerprint_runs=runs), CONFIG)
    # the usual rate is the busiest of the hour and its neighbours: 08:00 and 23:00 border the batch's
    busy = at.hour < 9 or at.hour == 23
    assert (Signature.RATE in {s.signature for s in found}) == (window > max(5 * (7.5 if busy else 0), 20))
    assert (Signature.REPEATED_STATEMENT in {s.signature for s in found}) == (runs > 5)


def starts(first: datetime, *gaps: float) -> tuple[datetime, ...]:
    """Starts `gaps` seconds apart from `first`."""
    out = [first]
    for gap in gaps:
        out.append(out[-1] + timedelta(seconds=gap))
    return tuple(out)


BATCH_PACE = 90  # one query every 40 s, in queries an hour
BATCH_STARTS = 90  # an hour of it: the starts its pace was read from


def test_acceleration_finds_four_starts_far_closer_than_the_earlier_hours_pace():
    seen = starts(TODAY, 40, 40, 40, 3, 3, 3)  # the batch, then a loop every 3 s
    looping = now(
        TODAY, starts=seen, earlier_pace=BATCH_PACE, earlier_starts=BATCH_STARTS, usd_per_query=0.114
    )
    signal = signals(Baseline(), looping, CONFIG)
    assert [s.signature for s in signal] == [Signature.ACCELERATION]
    (found,) = signal
    assert found.baseline == {
        "busiest_per_minute_earlier_hours": 1.5,
        "earlier_hours_starts": 90,
        "fewest_earlier_starts": 36,
        "queries": 4,
        "within_seconds": 9,
        "first_started_at": seen[3].isoformat(),
        "per_minute": 20.0,
        "allowed_per_minute": 7.5,
        "usd_per_query": 0.114,
        "evidence_budget_usd": 0.5,
    }
    assert "4 queries started within 9 s (20.0 a minute" in found.reason
    earlier = (
        "5x its busiest pace of the day's earlier hours (1.5 a minute, read from their 90 starts; allowed"
    )
    assert earlier in found.reason
    assert "4 starts read: what $0.50 buys at its $0.114 a query (4 at least, 12 at most)" in found.reason


def test_acceleration_needs_a_pace_of_earlier_hours_and_more_than_the_ratio_and_the_floor():
    loop = starts(TODAY, 3, 3, 3)
    noted = {"earlier_starts": BATCH_STARTS}
    assert acceleration(now(TODAY, starts=loop, earlier_pace=0, **noted), CONFIG) is None  # its first hour
    assert (
        acceleration(now(TODAY, starts=loop, earlier_pace=300, **noted), CONFIG) is None
    )  # 20/min: 4x 5/min
    slow = starts(TODAY, 12, 12, 12)  # 5 a minute: over 5 x 0.5, under the floor of 6
    assert acceleration(now(TODAY, starts=slow, earlier_pace=30, **noted), CONFIG) is None
    assert (
        acceleration(now(TODAY, starts=loop[:3], earlier_pace=BATCH_PACE, **noted), CONFIG) is None
    )  # 3 starts
    assert acceleration(now(TODAY, starts=loop, earlier_pace=BATCH_PACE, **noted), CONFIG) is not None


@given(st.integers(0, 200), st.integers(1, 3600))
def test_acceleration_needs_the_earlier_pace_read_from_enough_starts(earlier_starts, earlier_pace):
    loop = starts(TODAY, 1, 1, 1)  # 4 starts (no cost known: 4 read) a second apart: 60 a minute
    seen = now(TODAY, starts=loop, earlier_pace=earlier_pace, earlier_starts=earlier_starts)
    found = acceleration(seen, CONFIG)
    assert (found is not None) == (earlier_starts >= 36 and earlier_pace * 5 < 3600)
    if found is not None:
        assert found.baseline["earlier_hours_starts"] == earlier_starts
        assert f"read from their {earlier_starts} starts" in found.reason


def test_acceleration_speaks_without_a_learned_baseline_and_the_others_do_not():
    flood = now(
        TODAY,
        window=10_000,
        fingerprint="fp1",
        fingerprint_runs=10_000,
        earlier_pace=BATCH_PACE,
        earlier_starts=BATCH_STARTS,
    )
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


def nights(count: int, *, start_hour: int = 0, minutes: int = 250, per_hour: int = 24) -> dict:
    """`count` learned nights from T0, active from `start_hour` for `minutes`, `per_hour` queries an hour."""
    hours: dict = {}
    for day in range(count):
        begin = T0 + day * DAY + start_hour * HOUR
        for offset in range(0, minutes + 1, 60):
            end = min(offset + 59, minutes)
            hours[begin + offset * timedelta(minutes=1)] = HourCount(
                per_hour, per_hour * 2**30, frozenset({0, end - offset})
            )
    return hours


def learned_nights(count: int = 14, **kwargs) -> Baseline:
    return fold(started(Baseline(), T0), nights(count, **kwargs), {}, (T0, T0 + count * DAY - HOUR), CONFIG)


def runs_tonight(minutes: int, per_hour: int = 24) -> dict:
    """Tonight's hours as the counters hold them, from 00:00 for `minutes` (every 2.5 min a query)."""
    today = T0 + 14 * DAY
    return {
        today + h * HOUR: HourCount(
            per_hour, per_hour * 2**30, frozenset(range(0, min(60, minutes - 60 * h + 1), 2))
        )
        for h in range(minutes // 60 + 1)
    }


def test_runs_are_activity_without_a_half_hour_break():
    hours = {
        T0: HourCount(3, 30, frozenset({0, 10, 40})),
        T0 + HOUR: HourCount(2, 20, frozenset({5, 20})),  # 25 min after 00:40: the same run
        T0 + 2 * HOUR: HourCount(1, 10, frozenset({0})),  # 40 min after 01:20: a new run
        T0 + 4 * HOUR: HourCount(1, 10),  # its minutes not recorded: taken as 04:00-04:59
    }
    assert runs_of(hours) == [
        Run(T0, T0 + timedelta(minutes=80), queries=5, scanned=50),
        Run(T0 + 2 * HOUR, T0 + 2 * HOUR, queries=1, scanned=10),
        Run(T0 + 4 * HOUR, T0 + 4 * HOUR + timedelta(minutes=59), queries=1, scanned=10),
    ]


def test_overrun_throttles_a_run_going_on_past_its_learned_end_with_the_window_as_evidence():
    base = learned_nights()  # 14 nights, 00:00-04:10
    today = T0 + 14 * DAY
    on_time = now(today + timedelta(minutes=250), recent_hours=runs_tonight(250))
    assert overrun(base, on_time, CONFIG) is None
    within_margin = now(today + timedelta(minutes=264), recent_hours=runs_tonight(264))
    assert overrun(base, within_margin, CONFIG) is None
    past = now(today + timedelta(minutes=266), recent_hours=runs_tonight(266))
    signal = overrun(base, past, CONFIG)
    assert signal is not None and signal.signature is Signature.OVERRUN
    assert signal.baseline["runs_compared"] == 14
    assert (signal.baseline["usual_start_utc"], signal.baseline["usual_end_utc"]) == ("00:00", "04:10")
    assert (signal.baseline["usual_minutes_at_most"], signal.baseline["margin_minutes"]) == (250, 15)
    assert signal.baseline["run_minutes"] == 266
    assert "running for 266 min since 00:00 UTC" in signal.reason
    assert (
        "its 14 runs starting near this time took at most 250 min (margin 15 min: the grace" in signal.reason
    )


def spread_nights() -> Baseline:
    """Two weeks learned: 7 nights of 200 min, then 7 of 250 (a spread of 50 min)."""
    return fold(
        started(Baseline(), T0),
        {**nights(7, minutes=200), **{h + 7 * DAY: c for h, c in nights(7, minutes=250).items()}},
        {},
        (T0, T0 + 14 * DAY - HOUR),
        CONFIG,
    )


def test_the_margin_is_the_spread_of_the_learned_runs_and_other_times_of_day_are_not_compared():
    spread = spread_nights()
    today = T0 + 14 * DAY
    assert (
        overrun(spread, now(today + timedelta(minutes=290), recent_hours=runs_tonight(290)), CONFIG) is None
    )
    found = overrun(spread, now(today + timedelta(minutes=302), recent_hours=runs_tonight(302)), CONFIG)
    assert found is not None and found.baseline["margin_minutes"] == 50
    # a run that starts at 12:00 is compared with none of the nights: nothing to say
    noon = {today + 12 * HOUR + h * HOUR: c for h, c in enumerate(runs_tonight(600).values())}
    assert overrun(spread, now(today + 22 * HOUR, recent_hours=noon), CONFIG) is None


def test_overrun_speaks_of_a_run_far_past_its_usual_size_before_its_end():
    base = learned_nights(per_hour=24)  # 120 queries a night, 5 hours of 24
    today = T0 + 14 * DAY
    flood = {today: HourCount(4 * 120 + 1, 0, frozenset(range(0, 60, 2)))}
    found = overrun(base, now(today + timedelta(minutes=58), recent_hours=flood), CONFIG)
    assert found is not None and "over 4x its largest of 14 runs" in found.reason
    assert overrun(Baseline(), now(today, recent_hours=flood), CONFIG) is None  # nothing learned


def test_acceleration_reads_more_starts_of_a_cheap_caller_and_four_of_a_dear_one():
    loop = starts(TODAY, *[3] * 11)  # 12 starts, one every 3 s
    cheap = now(
        TODAY, starts=loop[:4], earlier_pace=BATCH_PACE, earlier_starts=BATCH_STARTS, usd_per_query=0.0005
    )
    assert acceleration(cheap, CONFIG) is None  # 4 starts of 100 MB queries: not yet a pace to act on
    found = acceleration(replace(cheap, starts=loop), CONFIG)
    assert found is not None and found.baseline["queries"] == 12
    assert "12 starts read: what $0.50 buys at its $0.001 a query" in found.reason
    dear = acceleration(replace(cheap, starts=loop[:4], usd_per_query=0.152), CONFIG)
    assert dear is not None and dear.baseline["queries"] == 4


@given(
    st.lists(st.integers(0, 300), max_size=3),
    st.floats(min_value=0, max_value=10_000, allow_nan=False),
    st.integers(0, 3600),
)
def test_fewer_than_four_starts_never_accelerate_whatever_the_queries_cost(offsets, usd, earlier_pace):
    seen = tuple(sorted({TODAY + timedelta(seconds=s) for s in offsets}))
    assert (
        acceleration(
            now(TODAY, starts=seen, earlier_pace=earlier_pace, earlier_starts=200, usd_per_query=usd), CONFIG
        )
        is None
    )


def test_a_dear_run_is_given_a_shorter_margin_and_a_cheap_one_a_longer_one():
    base = learned_nights()  # 14 nights, 00:00-04:10, 24 queries an hour
    today = T0 + 14 * DAY

    def at(minutes: int, usd: float):
        return overrun(
            base,
            now(today + timedelta(minutes=minutes), recent_hours=runs_tonight(minutes), usd_per_query=usd),
            CONFIG,
        )

    # $2 a query, 0.4 a minute: $0.80 a minute; $0.50 buys 37 s, so the margin is its floor, 10 min
    dear = at(262, 2.0)
    assert dear is not None and dear.baseline["margin_minutes"] == 10
    assert "(margin 10 min: what $0.50 buys at its $0.916 a minute)" in dear.reason
    assert at(262, 0.0) is None  # no cost known: the 15 min grace
    # $0.08 a query, 120 queries in 264 min: $0.036 a minute, and $0.50 buys 14 min
    assert at(263, 0.08) is None
    midway = at(264, 0.08)
    assert midway is not None and midway.baseline["margin_minutes"] == 14
    # 100 MB a query: an hour (the ceiling) past its longest night
    assert at(309, 0.0005) is None
    assert at(311, 0.0005) is not None


def test_the_learned_spread_outlasts_a_shorter_paced_margin():
    spread = spread_nights()
    today = T0 + 14 * DAY
    late = now(today + timedelta(minutes=290), recent_hours=runs_tonight(290), usd_per_query=2.0)
    assert overrun(spread, late, CONFIG) is None  # 40 min past its longest: within the spread of 50
    found = overrun(
        spread, replace(late, at=today + timedelta(minutes=302), recent_hours=runs_tonight(302)), CONFIG
    )
    assert found is not None and found.baseline["margin_minutes"] == 50
    assert "(margin 50 min: the spread of those runs' lengths)" in found.reason


@given(st.floats(min_value=0, max_value=10_000, allow_nan=False), st.integers(0, 2), st.integers(251, 279))
def test_one_or_two_late_queries_never_make_an_overrun_whatever_they_cost(usd, late, minutes):
    """A night that ended on time (250 min), then `late` queries up to `minutes`, under 30 min later."""
    base = learned_nights()
    today = T0 + 14 * DAY
    hours = runs_tonight(250)
    extra = sorted({minutes - 2 * n for n in range(late)})
    for minute in extra:
        hour = today + (minute // 60) * HOUR
        count = hours.get(hour, HourCount())
        hours[hour] = HourCount(count.queries + 1, count.scanned + 2**30, count.minutes | {minute % 60})
    assert (
        overrun(base, now(today + timedelta(minutes=minutes), recent_hours=hours, usd_per_query=usd), CONFIG)
        is None
    )
