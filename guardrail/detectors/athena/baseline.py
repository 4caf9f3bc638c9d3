"""Learned baselines: what is normal for one caller or workgroup, hour by hour, kept bounded.

A baseline is folded from the watch's own hour buckets, which the exactly-once booking fills: once an
hour is over (and `settle_minutes` more have passed, for late deliveries), its query count and bytes
are copied into the baseline (a copy, never an addition, so folding the same hour twice changes
nothing), with the fingerprints run in that hour. It keeps the last `history_days` days of hours and the
`top_fingerprints` statements run most often in one hour; nothing else grows.

What is normal at a moment `at` is read from the same hour on earlier days: the same hour of the same
weekday (hour-of-week) once the history covers `weekly_after_days`, the same hour of every earlier day
before that. Until the history covers `min_history_days`, nothing is learned and only the fixed limits
apply. Pure: no AWS, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from guardrail.config.athena_watch import Baselines

HOUR = timedelta(hours=1)
ZERO = timedelta(0)
DAY = timedelta(days=1)


#: Active minutes further apart than this belong to two runs: a batch's queries are minutes apart at
#: most, its nights hours apart, and an hourly job's runs an hour apart.
RUN_GAP = timedelta(minutes=30)
#: A learned run is compared with the current one if it started within this of the same time of day.
RUN_MATCH = timedelta(hours=2)
#: The minutes assumed active in an hour whose minutes were not recorded (learned before they were).
WHOLE_HOUR = frozenset({0, 59})


@dataclass(frozen=True)
class HourCount:
    """One hour of one scope: the queries counted, the bytes scanned, the minutes it was active in.

    A learned hour keeps only its first and last active minute (see `span`); empty: not recorded.
    """

    queries: int = 0
    scanned: int = 0
    minutes: frozenset[int] = frozenset()

    def span(self) -> HourCount:
        """The hour with only its first and last active minute, as a baseline keeps it."""
        ends = frozenset({min(self.minutes), max(self.minutes)}) if self.minutes else frozenset()
        return replace(self, minutes=ends)


@dataclass(frozen=True)
class Run:
    """One stretch of a scope's activity without a break of `RUN_GAP`: when, and how big."""

    start: datetime
    end: datetime  # the minute its last query started in
    queries: int = 0
    scanned: int = 0

    @property
    def minutes(self) -> float:
        """How long it ran, from its first query's minute to its last's."""
        return (self.end - self.start) / timedelta(minutes=1)


def runs_of(hours: Mapping[datetime, HourCount]) -> list[Run]:
    """The runs in `hours`, in order.

    An hour is taken as active from its first to its last active minute (a learned hour keeps only
    those two), so a break inside one clock hour is not seen; a break between hours is.
    """
    runs: list[Run] = []
    for hour in sorted(h for h, count in hours.items() if count.queries > 0):
        count = hours[hour]
        minutes = count.minutes or WHOLE_HOUR
        first, last = (hour + timedelta(minutes=m) for m in (min(minutes), max(minutes)))
        if runs and first - runs[-1].end <= RUN_GAP:
            run = runs[-1]
            runs[-1] = Run(run.start, last, run.queries + count.queries, run.scanned + count.scanned)
        else:
            runs.append(Run(first, last, count.queries, count.scanned))
    return runs


def same_time_of_day(runs: Iterable[Run], start: datetime) -> list[Run]:
    """The runs that started within `RUN_MATCH` of `start`'s time of day (on any day)."""

    def apart(run: Run) -> timedelta:
        off = (run.start - start) % DAY
        return min(off, DAY - off)

    return [run for run in runs if apart(run) <= RUN_MATCH]


@dataclass(frozen=True)
class Baseline:
    """What one scope did in its past hours; `since` is the first hour it was seen (None: never)."""

    since: datetime | None = None
    folded_through: datetime | None = None
    hours: Mapping[datetime, HourCount] = field(default_factory=dict)
    #: Fingerprint -> the most times it ran in one hour, for the `top_fingerprints` most run.
    fingerprints: Mapping[str, int] = field(default_factory=dict)
    version: int = 0

    def history_days(self, at: datetime) -> float:
        """How many days of history the baseline holds at `at`."""
        return 0.0 if self.since is None else max((hour_of(at) - self.since) / DAY, 0.0)


def hour_of(at: datetime) -> datetime:
    """The start of the hour that holds `at`."""
    return at.replace(minute=0, second=0, microsecond=0)


def due(baseline: Baseline, at: datetime, learning: Baselines) -> tuple[datetime, datetime] | None:
    """The first and last hour to fold at `at` (hours over for `settle_minutes`), or None."""
    last = hour_of(at - timedelta(minutes=learning.settle_minutes)) - HOUR
    first = (baseline.folded_through + HOUR) if baseline.folded_through else (baseline.since or hour_of(at))
    first = max(first, last - learning.history_days * DAY)
    return (first, last) if first <= last else None


def started(baseline: Baseline, at: datetime) -> Baseline:
    """The baseline of a scope first seen at `at` (unchanged when it has a history already)."""
    return baseline if baseline.since is not None else replace(baseline, since=hour_of(at))


def fold(
    baseline: Baseline,
    hours: Mapping[datetime, HourCount],
    fingerprints: Mapping[str, int],
    span: tuple[datetime, datetime],
    learning: Baselines,
) -> Baseline:
    """The baseline with the hours of `span` copied in from `hours`; idempotent for the same input.

    `fingerprints` are the most runs of each fingerprint in one hour of the span.
    """
    first, last = span
    kept = {h: c for h, c in baseline.hours.items() if not first <= h <= last}
    kept.update({h: c.span() for h, c in hours.items() if first <= h <= last and c.queries > 0})
    oldest = last - learning.history_days * DAY
    merged = dict(baseline.fingerprints)
    for name, count in fingerprints.items():
        merged[name] = max(merged.get(name, 0), count)
    top = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[: learning.top_fingerprints]
    return Baseline(
        since=baseline.since or first,
        folded_through=max(last, baseline.folded_through or last),
        hours={h: c for h, c in sorted(kept.items()) if h > oldest},
        fingerprints=dict(top),
        version=baseline.version,
    )


def learned(baseline: Baseline, at: datetime, learning: Baselines) -> bool:
    """Whether the history is long enough for the baseline to say what is normal at `at`."""
    return baseline.history_days(at) >= learning.min_history_days


def same_hours(baseline: Baseline, at: datetime, learning: Baselines) -> list[datetime]:
    """The earlier hours `at` is compared with: same hour-of-week, or of day while history is short."""
    step = 7 * DAY if baseline.history_days(at) >= learning.weekly_after_days else DAY
    hour, out = hour_of(at) - step, []
    while (
        baseline.since is not None
        and hour >= baseline.since
        and hour > hour_of(at) - learning.history_days * DAY
    ):
        out.append(hour)
        hour -= step
    return out


def usual_queries_per_hour(baseline: Baseline, at: datetime, learning: Baselines) -> float:
    """The most queries the scope ran in an hour `at` is compared with, or an hour either side (0 if none).

    A job's first and last clock hours are partial: the hour it ends in holds a few minutes of its
    rate, so the same job started a little earlier, or run faster within the ratio, would read as
    many times its usual there. The busier neighbour is its rate while it runs.
    """
    hours = same_hours(baseline, at, learning)
    counts = (
        baseline.hours.get(h + step, HourCount()).queries for h in hours for step in (-HOUR, ZERO, HOUR)
    )
    return float(max(counts, default=0))


def usual_hours_of_day(baseline: Baseline, at: datetime, learning: Baselines) -> frozenset[int]:
    """The hours of day in which the scope was active on the days `at` is compared with."""
    days = {h.date() for h in same_hours(baseline, at, learning)}
    return frozenset(h.hour for h, c in baseline.hours.items() if h.date() in days and c.queries > 0)


def fingerprint_allowance(baseline: Baseline, fingerprint: str, learning: Baselines) -> int:
    """The most runs in one hour the baseline knows of a fingerprint, at least 1.

    A fingerprint outside a full top list ran at most as often as the least run of the list.
    """
    if fingerprint in baseline.fingerprints:
        return max(baseline.fingerprints[fingerprint], 1)
    if len(baseline.fingerprints) >= learning.top_fingerprints:
        return max(min(baseline.fingerprints.values()), 1)
    return 1
