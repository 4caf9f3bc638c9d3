"""Loop signatures: what a caller does now against what it did before, and what they read to say so.

Each signature is a small pure check answering a `Signal` naming the signature and the baseline the
caller left, or None. Four read the learned baseline and never speak before it is learned (see
`baseline.learned`); `acceleration` reads only the day's counters (the caller's own busiest pace of
its earlier hours), so it speaks from a caller's second hour on, with or without learned days, once
those hours hold enough of its starts to be a pace. The fixed limits stay the ceilings.

How much evidence `acceleration` and `overrun` ask for before they speak is paced by what the
caller's queries cost (`pacing`): less of a dear caller, more of a cheap one, within bounds.

`loop_breaches` turns them into breaches for one scope at one moment, reading what they need through
the `BaselineStore` port: the scope's baseline (folded as it is read), its recent hours, and the runs
of the statement the event is about. A scope without a learned baseline costs no more reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from guardrail.config.athena_watch import Baselines, Signature
from guardrail.detectors.athena.baseline import (
    DAY,
    HOUR,
    RUN_GAP,
    Baseline,
    HourCount,
    fingerprint_allowance,
    hour_of,
    learned,
    runs_of,
    same_time_of_day,
    usual_hours_of_day,
    usual_queries_per_hour,
)
from guardrail.detectors.athena.cost import GB
from guardrail.detectors.athena.detect import Breach, Totals
from guardrail.detectors.athena.pacing import (
    EVIDENCE_USD,
    FEWEST_EARLIER_STARTS,
    FEWEST_MINUTES_PAST_END,
    FEWEST_STARTS,
    MOST_STARTS,
    paced_margin_minutes,
    starts_needed,
    usd_per_query,
)
from guardrail.detectors.athena.ports import BaselineStore
from guardrail.detectors.athena.sql import fingerprint


@dataclass(frozen=True)
class Now:
    """What the scope is doing at `at`: the window's queries, its recent hours, one statement's runs."""

    at: datetime
    window_queries: int
    window_minutes: int
    #: The scope's hour buckets of the last day (the current hour included), by hour start.
    recent_hours: Mapping[datetime, HourCount] = field(default_factory=dict)
    fingerprint: str | None = None
    #: Runs of `fingerprint` in the current and the previous hour.
    fingerprint_runs: int = 0
    #: The distinct seconds the window's queries started in, in order.
    starts: Sequence[datetime] = ()
    #: The busiest pace (queries an hour) noted in the day's earlier hours (0: none noted).
    earlier_pace: int = 0
    #: The starts of the earlier hours it was noted in (`pacing.FEWEST_EARLIER_STARTS` make it a pace).
    earlier_starts: int = 0
    #: The scope's mean cost per query over the day, in dollars (0: none known; see `pacing`).
    usd_per_query: float = 0.0


@dataclass(frozen=True)
class Signal:
    """A signature the scope matched, why, and the baseline it left (for the alert's evidence)."""

    signature: Signature
    reason: str
    baseline: Mapping[str, Any]


def repeated_statement(baseline: Baseline, now: Now, config: Baselines) -> Signal | None:
    """The same normalised statement run more often than its baseline allows."""
    if now.fingerprint is None or not learned(baseline, now.at, config):
        return None
    usual = fingerprint_allowance(baseline, now.fingerprint, config)
    allowed = max(round(config.repeat_ratio * usual), config.repeat_min_queries)
    if now.fingerprint_runs <= allowed:
        return None
    return Signal(
        Signature.REPEATED_STATEMENT,
        f"statement {now.fingerprint} ran {now.fingerprint_runs} times in 2 h (usually at most {usual} an "
        f"hour; allowed {allowed})",
        {"fingerprint": now.fingerprint, "runs_last_2_h": now.fingerprint_runs, "usual_max_per_hour": usual},
    )


def after_usual_window(baseline: Baseline, now: Now, config: Baselines) -> Signal | None:
    """Still querying past the end of the hours the scope is usually active in, without a break since."""
    if not learned(baseline, now.at, config):
        return None
    usual = usual_hours_of_day(baseline, now.at, config)
    hour = hour_of(now.at)
    if not usual or hour.hour in usual:
        return None
    window_end = hour
    while (window_end - HOUR).hour not in usual:  # back through today's hours to its usual ones
        window_end -= HOUR
        if now.recent_hours.get(window_end, HourCount()).queries == 0 or hour - window_end >= DAY:
            return None  # a break since its usual hours: a fresh start, not a run that went on
    if now.at - window_end < timedelta(minutes=config.after_window_grace_minutes):
        return None
    hours = ", ".join(f"{h:02d}" for h in sorted(usual))
    return Signal(
        Signature.AFTER_WINDOW,
        f"still querying at {now.at:%H:%M} UTC, past its usual hours ({hours} UTC)",
        {"usual_hours_utc": sorted(usual), "grace_minutes": config.after_window_grace_minutes},
    )


def rate_vs_baseline(baseline: Baseline, now: Now, config: Baselines) -> Signal | None:
    """A window's queries several times what the scope usually runs at this hour."""
    if not learned(baseline, now.at, config):
        return None
    per_hour = usual_queries_per_hour(baseline, now.at, config)
    usual = per_hour * now.window_minutes / 60
    allowed = max(config.rate_ratio * usual, config.rate_min_queries)
    if now.window_queries <= allowed:
        return None
    return Signal(
        Signature.RATE,
        f"{now.window_queries} queries in {now.window_minutes} min, over {config.rate_ratio:g}x its usual "
        f"{usual:.1f} at this hour (allowed {allowed:.0f})",
        {"usual_queries_per_hour": per_hour, "usual_in_window": round(usual, 1), "allowed": round(allowed)},
    )


def steady_growth(baseline: Baseline, now: Now, config: Baselines) -> Signal | None:
    """The same hour grew on each of the last days, and today is `growth_ratio` times the first."""
    if not learned(baseline, now.at, config):
        return None
    hour = hour_of(now.at)
    days = [hour - n * DAY for n in range(config.growth_days, 0, -1)]
    if baseline.since is None or days[0] < baseline.since:
        return None
    earlier = [baseline.hours.get(day, HourCount()).queries for day in days]
    today = now.recent_hours.get(hour, HourCount()).queries
    series = [*earlier, today]
    growing = all(a < b for a, b in pairwise(series))
    if not growing or earlier[0] <= 0 or today < config.growth_ratio * earlier[0]:
        return None
    return Signal(
        Signature.GROWTH,
        f"{today} queries in the hour at {hour:%H}:00 UTC, up each day from {earlier[0]} "
        f"{config.growth_days} days ago ({' -> '.join(map(str, series))})",
        {"same_hour_previous_days": earlier, "this_hour": today},
    )


@dataclass(frozen=True)
class Pace:
    """The `queries` consecutive starts closest together in a window: from `first` to `last`."""

    queries: int
    first: datetime
    last: datetime

    @property
    def seconds(self) -> float:
        """The time they took (at least a second: starts are known to the second)."""
        return max((self.last - self.first).total_seconds(), 1.0)

    @property
    def per_hour(self) -> int:
        """Their pace, in queries an hour."""
        return int((self.queries - 1) * 3600 / self.seconds)


def densest(starts: Sequence[datetime], queries: int = FEWEST_STARTS) -> Pace | None:
    """The run of `queries` consecutive `starts` (in order) closest together, the latest of equals."""
    runs = [Pace(queries, starts[i], starts[i + queries - 1]) for i in range(len(starts) - queries + 1)]
    return min(reversed(runs), key=lambda pace: pace.seconds, default=None)


def acceleration(now: Now, config: Baselines) -> Signal | None:
    """A caller's starts much closer together than its own busiest pace of the day's earlier hours.

    Needs no learned days: the pace of the earlier hours is noted on their hour buckets as the caller
    runs. A caller with none noted (its first hour of the day), or whose earlier hours with a pace noted
    hold fewer than `pacing.FEWEST_EARLIER_STARTS` starts (a brand-new deployment's first minutes), is
    left to the fixed limits: the busiest run of a few random starts is no measure of how close
    together the caller's starts come. The starts it reads a pace from are paced by cost
    (`pacing.starts_needed`): 4 of a dear caller, up to 12 of a cheap one.
    """
    if now.earlier_pace <= 0 or now.earlier_starts < FEWEST_EARLIER_STARTS:
        return None
    needed = starts_needed(now.usd_per_query)
    pace = densest(now.starts, needed)
    allowed = max(config.acceleration_ratio * now.earlier_pace, config.acceleration_floor * 60)
    if pace is None or pace.per_hour <= allowed:
        return None
    return Signal(
        Signature.ACCELERATION,
        f"{pace.queries} queries started within {pace.seconds:.0f} s ({pace.per_hour / 60:.1f} a minute, "
        f"from {pace.first:%H:%M:%S} UTC), over {config.acceleration_ratio:g}x its busiest pace of the "
        f"day's earlier hours ({now.earlier_pace / 60:.1f} a minute, read from their {now.earlier_starts} "
        f"starts; allowed {allowed / 60:.1f}); {_starts_paced(needed, now.usd_per_query)}",
        {
            "busiest_per_minute_earlier_hours": round(now.earlier_pace / 60, 2),
            "earlier_hours_starts": now.earlier_starts,
            "fewest_earlier_starts": FEWEST_EARLIER_STARTS,
            "queries": pace.queries,
            "within_seconds": round(pace.seconds),
            "first_started_at": pace.first.isoformat(),
            "per_minute": round(pace.per_hour / 60, 1),
            "allowed_per_minute": round(allowed / 60, 1),
            "usd_per_query": round(now.usd_per_query, 4),
            "evidence_budget_usd": EVIDENCE_USD,
        },
    )


def _starts_paced(needed: int, usd_each: float) -> str:
    """Why the rule read `needed` starts: what the evidence budget buys at the caller's cost."""
    if usd_each <= 0:
        return f"{needed} starts read (no cost known yet for its queries)"
    return (
        f"{needed} starts read: what ${EVIDENCE_USD:.2f} buys at its ${usd_each:.3f} a query "
        f"({FEWEST_STARTS} at least, {MOST_STARTS} at most)"
    )


#: A run this many times the size (queries or bytes) of the largest learned at its time of day is past its
#: usual size. 4, because a month-end run of three times the usual analyses is legitimate.
RUN_SIZE_RATIO = 4


def overrun(baseline: Baseline, now: Now, config: Baselines) -> Signal | None:
    """A run going on well past the end, or far past the size, of the runs learned at its time of day.

    A run is the scope's activity without a break of `RUN_GAP` (`baseline.runs_of`). The learned runs
    compared are the earlier ones that started within `RUN_MATCH` of this run's time of day; at least
    two, so that their spread says how much a run's length varies. The margin past the longest of them
    is the time the run's own spend rate takes to spend the evidence budget (`pacing`), and at least
    that spread; unpaced (no cost known), `afterWindowGraceMinutes`. A run past its end needs
    `FEWEST_MINUTES_PAST_END` active minutes past its usual length: one late query is not a run going on.
    """
    if not learned(baseline, now.at, config) or not now.recent_hours:
        return None
    current = runs_of(now.recent_hours)[-1]
    if now.at - current.end > RUN_GAP:
        return None  # no run in progress at `at` (a late delivery of an earlier query)
    earlier = [run for run in runs_of(baseline.hours) if run.end < current.start]
    compared = same_time_of_day(earlier, current.start)
    if len(compared) < 2:
        return None
    longest = max(run.minutes for run in compared)
    spread = longest - min(run.minutes for run in compared)
    running = (now.at - current.start) / timedelta(minutes=1)
    usd_per_minute = now.usd_per_query * current.queries / max(running, 1.0)
    paced = paced_margin_minutes(usd_per_minute)
    margin = max(spread, float(config.after_window_grace_minutes) if paced is None else paced)
    past_end = minutes_active_after(now.recent_hours, current.start + timedelta(minutes=longest))
    most_queries = max(run.queries for run in compared)
    most_bytes = max(run.scanned for run in compared)
    late = running > longest + margin and past_end >= FEWEST_MINUTES_PAST_END
    large = current.queries > RUN_SIZE_RATIO * most_queries or (
        most_bytes > 0 and current.scanned > RUN_SIZE_RATIO * most_bytes
    )
    if not (late or large):
        return None
    usual_end = max(compared, key=lambda run: run.minutes)
    shown = f"{current.queries:,} queries, {current.scanned / GB:,.1f} GB"
    if late:
        why_margin = _margin_paced(paced, spread, config.after_window_grace_minutes, usd_per_minute)
        reason = (
            f"running for {running:.0f} min since {current.start:%H:%M} UTC ({shown}), past its usual end: "
            f"its {len(compared)} runs starting near this time took at most {longest:.0f} min "
            f"(margin {margin:.0f} min: {why_margin})"
        )
    else:
        reason = (
            f"this run since {current.start:%H:%M} UTC has {shown}, over {RUN_SIZE_RATIO}x its largest of "
            f"{len(compared)} runs starting near this time ({most_queries:,} queries, "
            f"{most_bytes / GB:,.1f} GB)"
        )
    return Signal(
        Signature.OVERRUN,
        reason,
        {
            "runs_compared": len(compared),
            "usual_start_utc": f"{usual_end.start:%H:%M}",
            "usual_end_utc": f"{usual_end.end:%H:%M}",
            "usual_minutes_at_most": round(longest),
            "margin_minutes": round(margin),
            "spread_minutes": round(spread),
            "usd_per_minute": round(usd_per_minute, 4),
            "evidence_budget_usd": EVIDENCE_USD,
            "active_minutes_past_usual_length": past_end,
            "usual_queries_at_most": most_queries,
            "usual_gb_at_most": round(most_bytes / GB, 1),
            "run_started_at": current.start.isoformat(),
            "run_minutes": round(running),
            "run_queries": current.queries,
            "run_gb": round(current.scanned / GB, 1),
        },
    )


def minutes_active_after(hours: Mapping[datetime, HourCount], after: datetime) -> int:
    """The minutes of `hours` with a query started in them that are later than `after`."""
    return sum(
        1
        for hour, count in hours.items()
        for minute in count.minutes
        if hour + timedelta(minutes=minute) > after
    )


def _margin_paced(paced: float | None, spread: float, unpaced: float, usd_per_minute: float) -> str:
    """Why the margin is what it is: the learned spread, the grace, or what the evidence budget buys."""
    if spread >= (unpaced if paced is None else paced):
        return "the spread of those runs' lengths"
    if paced is None:
        return "the grace: no cost known yet for its queries"
    return f"what ${EVIDENCE_USD:.2f} buys at its ${usd_per_minute:.3f} a minute"


SIGNATURES = (repeated_statement, after_usual_window, rate_vs_baseline, steady_growth, overrun)


def signals(baseline: Baseline, now: Now, config: Baselines) -> list[Signal]:
    """Every signature the scope matches now (only `acceleration` while its baseline is not learned)."""
    if not config.enabled:
        return []
    found = [accelerating] if (accelerating := acceleration(now, config)) is not None else []
    if not learned(baseline, now.at, config):
        return found
    return found + [signal for check in SIGNATURES if (signal := check(baseline, now, config)) is not None]


def loop_breaches(
    store: BaselineStore,
    config: Baselines,
    scope: str,
    at: datetime,
    totals: Totals,
    *,
    window_minutes: int,
    sql: str = "",
    may_throttle: bool = True,
) -> list[Breach]:
    """The signatures `scope` matches at `at`; each enforces if configured to and `may_throttle`."""
    if not config.enabled:
        return []
    baseline = store.baseline(scope, at)
    now = Now(
        at=at,
        window_queries=totals.window_queries,
        window_minutes=window_minutes,
        starts=totals.starts,
        earlier_pace=totals.earlier_pace,
        earlier_starts=totals.earlier_starts,
        usd_per_query=usd_per_query(totals.day_cost_micros, totals.day_queries),
    )
    if learned(baseline, at, config):  # otherwise acceleration alone (and no more reads)
        statement = fingerprint(sql) if sql else None
        now = replace(
            now,
            recent_hours=store.recent_hours(scope, at),
            fingerprint=statement,
            fingerprint_runs=0 if statement is None else store.statement_runs(scope, at, statement),
        )
    return [
        Breach(
            signal.signature,
            signal.reason,
            enforce=may_throttle and signal.signature in config.throttle_on,
            baseline=signal.baseline,
        )
        for signal in signals(baseline, now, config)
        if may_throttle or signal.signature is not Signature.OVERRUN  # a run is a Lambda caller's
    ]
