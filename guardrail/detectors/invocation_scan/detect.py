"""Pure: per-minute CloudWatch samples -> findings. Every decision uses the samples' own timestamps.

Lambda publishes a datapoint only for minutes with activity, so a missing minute counts as zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from guardrail.config.invocation_scan import DETECTOR, InvocationScanConfig
from guardrail.domain import Finding, Target

NAMESPACE = "AWS/Lambda"
INVOCATIONS = "Invocations"
RECURSIVE_INVOCATIONS_DROPPED = "RecursiveInvocationsDropped"


@dataclass(frozen=True)
class MetricQuery:
    """One Lambda metric, for one function or (function None) for the whole account."""

    metric: str
    function: str | None = None


@dataclass(frozen=True)
class Sample:
    """One minute of one metric: the minute it starts, and the sum over it."""

    at: datetime
    value: float


@dataclass(frozen=True)
class Rate:
    """The latest minute of a series against the mean of the minutes before it."""

    latest: Sample
    baseline_per_minute: float
    #: The minutes of the baseline window that had invocations.
    history_minutes: int = 0


def rate(samples: Sequence[Sample], baseline_minutes: int) -> Rate | None:
    """The latest sample against its baseline; None for an empty series."""
    if not samples:
        return None
    ordered = sorted(samples, key=lambda s: s.at)
    latest = ordered[-1]
    since = latest.at - timedelta(minutes=baseline_minutes)
    window = [s.value for s in ordered[:-1] if s.at >= since]
    return Rate(latest, sum(window) / baseline_minutes, sum(1 for value in window if value > 0))


def recent_drops(dropped: Sequence[Sample], end: datetime, config: InvocationScanConfig) -> bool:
    """Whether Lambda dropped recursive invocations in the latest `drop_lookback_minutes` before `end`."""
    since = end - timedelta(minutes=config.drop_lookback_minutes)
    return any(s.value > 0 and s.at >= since for s in dropped)


def account_invocations_moved(invocations: Sequence[Sample], config: InvocationScanConfig) -> str | None:
    """Why the account's invocations call for a per-function look, or None when they did not move."""
    current = rate(invocations, config.baseline_minutes)
    if current is None:
        return None
    rise = current.latest.value - current.baseline_per_minute
    if rise >= config.account_rise_per_minute:
        return (
            f"account invocations rose to {current.latest.value:.0f}/min at {current.latest.at:%H:%M}"
            f" (baseline {current.baseline_per_minute:.1f}/min)"
        )
    return None


def detect(
    invocations: Mapping[str, Sequence[Sample]],
    dropped: Mapping[str, Sequence[Sample]],
    config: InvocationScanConfig,
) -> list[Finding]:
    """At most one finding per function: recursion dropped by Lambda, then absolute, then relative."""
    findings = []
    for function in sorted(set(invocations) | set(dropped)):
        finding = _dropped(function, dropped.get(function, ()), config) or _runaway(
            function, invocations.get(function, ()), config
        )
        if finding is not None:
            findings.append(finding)
    return findings


def _dropped(function: str, samples: Sequence[Sample], config: InvocationScanConfig) -> Finding | None:
    drops = [s for s in samples if s.value > 0]
    if not drops:
        return None
    latest = max(drops, key=lambda s: s.at)
    return _finding(
        function,
        latest.at,
        f"Lambda dropped {latest.value:.0f} recursive invocations in the minute at {latest.at:%H:%M} UTC",
        {"rule": "recursive-invocations-dropped", "dropped": latest.value},
    )


def _runaway(function: str, samples: Sequence[Sample], config: InvocationScanConfig) -> Finding | None:
    current = rate(samples, config.baseline_minutes)
    if current is None:
        return None
    count, baseline, at = current.latest.value, current.baseline_per_minute, current.latest.at
    evidence = {
        "invocations_per_minute": count,
        "baseline_per_minute": round(baseline, 2),
        "baseline_minutes": config.baseline_minutes,
        "history_minutes": current.history_minutes,
        "minute": at.isoformat(),
    }
    if count >= config.ceiling_invocations_per_minute:
        return _finding(
            function,
            at,
            f"{count:.0f} invocations in the minute at {at:%H:%M} UTC, at or above the hard ceiling of "
            f"{config.ceiling_invocations_per_minute}/min",
            {"rule": "ceiling", "threshold": config.ceiling_invocations_per_minute, **evidence},
        )
    has_history = current.history_minutes >= config.min_history_minutes
    if not has_history and count >= config.max_invocations_per_minute:
        reason = f"{count:.0f} invocations in the minute at {at:%H:%M} UTC (too little history), at or above"
        found = _finding(
            function,
            at,
            f"{reason} {config.max_invocations_per_minute}/min",
            {"rule": "absolute", "threshold": config.max_invocations_per_minute, **evidence},
        )
    elif _elevated(current, config):
        found = _finding(
            function,
            at,
            f"{count:.0f} invocations in the minute at {at:%H:%M} UTC, over {config.spike_ratio:g}x"
            f" its baseline of {baseline:.1f}/min",
            {"rule": "relative", "ratio": config.spike_ratio, **evidence},
        )
    else:
        return None
    return found if _sustained(samples, at, config) else found.unverified(_single_minute(config))


def _elevated(current: Rate, config: InvocationScanConfig) -> bool:
    """Whether one minute is a spike: over the floor and `spike_ratio` times its baseline."""
    count = current.latest.value
    return count >= config.spike_min_invocations_per_minute and count >= config.spike_ratio * (
        current.baseline_per_minute
    )


def _sustained(samples: Sequence[Sample], at: datetime, config: InvocationScanConfig) -> bool:
    """Whether each of the `sustained_minutes - 1` minutes before `at` was a spike too (a loop's sign).

    A minute before is judged against its own baseline; for a function without history, any minute
    over the floor counts (its baseline is the rise itself).
    """
    for back in range(1, config.sustained_minutes):
        minute = at - timedelta(minutes=back)
        earlier = rate([s for s in samples if s.at <= minute], config.baseline_minutes)
        if earlier is None or earlier.latest.at != minute:
            return False  # a minute with no datapoint had no invocations
        has_history = earlier.history_minutes >= config.min_history_minutes
        floor = earlier.latest.value >= config.spike_min_invocations_per_minute
        if not (floor if not has_history else _elevated(earlier, config)):
            return False
    return True


def _single_minute(config: InvocationScanConfig) -> str:
    return (
        f"a spike with no sign of a loop (no recursion dropped by Lambda, not sustained for "
        f"{config.sustained_minutes} minutes): alerted, not throttled; it is throttled if it lasts"
    )


def _finding(function: str, at: datetime, reason: str, evidence: dict[str, object]) -> Finding:
    return Finding(
        target=Target.function(function),
        detector=DETECTOR,
        reason=reason,
        observed_at=at,
        evidence=evidence,
        dedupe_key=f"{DETECTOR}:{function}:{at:%Y-%m-%dT%H:%M}",
    )
