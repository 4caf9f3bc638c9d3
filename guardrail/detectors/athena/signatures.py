"""Loop signatures: four small pure checks of what a caller does now against its learned baseline.

Each answers a `Signal` naming the signature and the baseline the caller left, or None. None of them
speaks before the baseline is learned (see `baseline.learned`): until then the fixed limits are the
only rule, and they stay the ceilings after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from guardrail.config.athena_watch import Baselines, Signature
from guardrail.detectors.athena.baseline import (
    DAY,
    HOUR,
    Baseline,
    HourCount,
    fingerprint_allowance,
    hour_of,
    learned,
    usual_hours_of_day,
    usual_queries_per_hour,
)


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


SIGNATURES = (repeated_statement, after_usual_window, rate_vs_baseline, steady_growth)


def signals(baseline: Baseline, now: Now, config: Baselines) -> list[Signal]:
    """Every signature the scope matches now (none while its baseline is not learned)."""
    if not config.enabled:
        return []
    return [signal for check in SIGNATURES if (signal := check(baseline, now, config)) is not None]
