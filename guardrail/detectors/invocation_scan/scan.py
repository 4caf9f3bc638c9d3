"""The scan: a cheap account-level check each minute, a capped per-function look only when something moves.

The functions a drill-down finds behind a rise are watched by name for the rest of the clock hour:
each minute reads their own invocations beside the account's, judges them directly, and takes them
out of the account's series before asking whether the account moved. A burst of one function
therefore spends one drill-down, never the hour's: a rise elsewhere after it still gets its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.config.invocation_scan import DETECTOR, InvocationScanConfig
from guardrail.detectors.invocation_scan.detect import (
    INVOCATIONS,
    RECURSIVE_INVOCATIONS_DROPPED,
    MetricQuery,
    Sample,
    account_invocations_moved,
    detect,
    rate,
    recent_drops,
)
from guardrail.domain import Finding
from guardrail.errors import AwsCallFailed
from guardrail.hourly_cap import HourlyCap

logger = logging.getLogger(__name__)

ACCOUNT_INVOCATIONS = MetricQuery(INVOCATIONS)
ACCOUNT_DROPPED = MetricQuery(RECURSIVE_INVOCATIONS_DROPPED)
#: Functions a drill-down adds to the hour's watch at most (the biggest risers, until they explain the rise).
MOVERS_PER_DRILL_DOWN = 5


class MetricSource(Protocol):
    """What the scan needs from CloudWatch (see `CloudWatchMetrics`)."""

    def samples(
        self, queries: Sequence[MetricQuery], *, start: datetime, end: datetime
    ) -> dict[MetricQuery, list[Sample]]:
        """Per-minute sums in [start, end) for every query."""
        ...


class FunctionLister(Protocol):
    """What the scan needs from Lambda (see `guardrail.adapters.lambda_functions.LambdaControl`)."""

    def function_names(self) -> Iterable[str]:
        """Every function in the region."""
        ...


class SignalClaims(Protocol):
    """Once-only marks in the ledger (see `guardrail.adapters.ledger.Ledger.claim_signal`)."""

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark `key` as taken; False when it already was."""
        ...

    def release_signal(self, key: str) -> None:
        """Forget a mark."""
        ...


class Watchlist(Protocol):
    """The functions watched by name (see `guardrail.adapters.scan_watchlist.ScanWatchlist`)."""

    def watched(self, key: str) -> set[str]:
        """The names watched under `key`."""
        ...

    def watch(self, key: str, names: Iterable[str], *, now: datetime, ttl_seconds: int) -> None:
        """Add `names` under `key`."""
        ...


class NoWatchlist:
    """Watches nothing: every rise calls for a drill-down (benches, and scans that keep no state)."""

    def watched(self, key: str) -> set[str]:
        """Nothing is watched."""
        return set()

    def watch(self, key: str, names: Iterable[str], *, now: datetime, ttl_seconds: int) -> None:
        """Forget the names."""


class DrillDownCap:
    """At most `per_hour` drill-downs in one clock hour (an `HourlyCap` of signal marks in the ledger).

    Its slots are signal marks that name their clock hour, so they hold across every container; a
    minute given a drill-down is marked too, so that a redelivery of that minute (a retry) drills
    down again whatever the hour has left.
    """

    def __init__(self, claims: SignalClaims, per_hour: int, *, place: str = "") -> None:
        self._claims = claims
        self._place = f"{place}:" if place else ""  # a region's cap apart from the home region's
        self._hourly = HourlyCap(_HourSlots(claims, self._place), per_hour)

    @property
    def place(self) -> str:
        """The prefix of this cap's keys (blank in the home region)."""
        return self._place

    def take(self, at: datetime) -> bool:
        """Take one of the hour's drill-downs for the minute of `at`; False when the hour has none left.

        A minute that was given one keeps it: a redelivery of that minute (a retry) drills down again.
        """
        minute = f"{DETECTOR}:drill-down-minute:{self._place}{at:%Y-%m-%dT%H:%M}"
        if self._hourly.take(at):
            _claim(self._claims, minute, at)
            return True
        if not _claim(self._claims, minute, at):
            return True
        self._claims.release_signal(minute)
        return False


class _HourSlots:
    """The drill-down slots of the clock hour of `at`: signal marks that name the hour."""

    def __init__(self, claims: SignalClaims, place: str) -> None:
        self._claims = claims
        self._place = place

    def take(self, slot: int, at: datetime) -> bool:
        return _claim(self._claims, f"{DETECTOR}:drill-down:{self._place}{at:%Y-%m-%dT%H}:{slot}", at)


def _claim(claims: SignalClaims, key: str, at: datetime) -> bool:
    """Mark `key` for two hours: past the clock hour it names, so that no hour's mark expires early."""
    return claims.claim_signal(key, now=at, ttl_seconds=2 * 3600)


@dataclass(frozen=True)
class ScanReport:
    """What one scan looked at and found; `capped`: a drill-down was called for, and the cap refused it."""

    findings: list[Finding]
    drilled_down: bool
    why: str
    functions_scanned: int = 0
    capped: bool = False


class InvocationScan:
    """Runs one scan for the minute a schedule fired.

    Each minute reads two account-level metrics (Lambda's `Invocations` and `RecursiveInvocationsDropped`
    without dimensions). Only when the account's invocations rise, Lambda drops recursive invocations,
    or a configured sweep is due, it reads one metric per function (the metric that moved), at most
    `max_drill_downs_per_hour` times an hour.
    """

    def __init__(
        self,
        *,
        metrics: MetricSource,
        functions: FunctionLister,
        config: InvocationScanConfig,
        cap: DrillDownCap,
        watchlist: Watchlist | None = None,
        account: str = "",
        region: str = "",
    ):
        self._metrics = metrics
        self._functions = functions
        self._config = config
        self._cap = cap
        self._watchlist = watchlist or NoWatchlist()
        self._account = account  # where the scanned functions are (blank: the guardrail's own)
        self._region = region

    @property
    def region(self) -> str:
        """The region this scan reads (blank: the guardrail's own)."""
        return self._region

    def run(self, scheduled_at: datetime) -> ScanReport:
        """Scan the baseline window that ends with the minute of `scheduled_at` (the event's time)."""
        end = scheduled_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(minutes=self._config.baseline_minutes + 1)
        watch_key = f"{DETECTOR}:{self._cap.place}{scheduled_at:%Y-%m-%dT%H}"
        watched = sorted(self._watchlist.watched(watch_key))
        own = [MetricQuery(INVOCATIONS, name) for name in watched]
        seen_queries = set(own)
        account = self._metrics.samples([ACCOUNT_INVOCATIONS, ACCOUNT_DROPPED, *own], start=start, end=end)
        seen = {query.function or "": account[query] for query in own}
        metrics, reasons = [], []
        others = _without(account[ACCOUNT_INVOCATIONS], seen.values())  # the account but the watched
        moved = account_invocations_moved(others, self._config)
        if moved is None and self._sweep_due(scheduled_at):
            moved = f"periodic full sweep (every {self._config.full_sweep_every_minutes} minutes)"
        if moved is not None:
            metrics.append(INVOCATIONS)
            reasons.append(moved + (f" (without {len(watched)} watched function(s))" if watched else ""))
        if recent_drops(account[ACCOUNT_DROPPED], end, self._config):
            metrics.append(RECURSIVE_INVOCATIONS_DROPPED)
            reasons.append("Lambda dropped recursive invocations in this account")
        if not metrics:
            why = f"account quiet; {len(watched)} watched function(s) read" if watched else "account quiet"
            return ScanReport(self._watched_findings(seen, end), drilled_down=False, why=why)
        why = "; ".join(reasons)
        if not self._cap.take(scheduled_at):
            cap = self._config.max_drill_downs_per_hour
            findings = self._watched_findings(seen, end)
            why = f"{why}; no drill-down left this hour (cap {cap})"
            return ScanReport(findings, drilled_down=False, why=why, capped=True)
        names = list(dict.fromkeys(self._functions.function_names()))
        queries = [MetricQuery(metric, name) for metric in metrics for name in names]
        queries = [query for query in queries if query not in seen_queries]
        data = self._metrics.samples(queries, start=start, end=end)
        invocations = {**{name: data.get(MetricQuery(INVOCATIONS, name), []) for name in names}, **seen}
        findings = detect(
            invocations,
            {name: data.get(MetricQuery(RECURSIVE_INVOCATIONS_DROPPED, name), []) for name in names},
            self._config,
        )
        if moved is not None:
            risers = _movers(invocations, others, set(watched), self._config)
            try:
                self._watchlist.watch(watch_key, risers, now=scheduled_at, ttl_seconds=2 * 3600)
            except AwsCallFailed as exc:  # the findings stand; the next rise drills down again
                logger.warning("could not watch %s: %s", risers, exc)
        return ScanReport(
            findings=self._located(findings), drilled_down=True, why=why, functions_scanned=len(names)
        )

    def loop_running(self, function: str, scheduled_at: datetime) -> bool:
        """Whether `function`'s loop still runs, asked of a held function found running (two metrics).

        Running: in the latest `drop_lookback_minutes`, a minute of at least
        `spike_min_invocations_per_minute` invocations, or recursive invocations dropped by Lambda.
        """
        end = scheduled_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(minutes=self._config.drop_lookback_minutes)
        invocations, dropped = (
            MetricQuery(INVOCATIONS, function),
            MetricQuery(RECURSIVE_INVOCATIONS_DROPPED, function),
        )
        data = self._metrics.samples([invocations, dropped], start=start, end=end)
        floor = self._config.spike_min_invocations_per_minute
        return any(s.value >= floor for s in data[invocations]) or any(s.value > 0 for s in data[dropped])

    def _watched_findings(self, seen: Mapping[str, Sequence[Sample]], end: datetime) -> list[Finding]:
        """The watched functions' findings about their latest minutes (older ones were judged already)."""
        since = end - timedelta(minutes=self._config.drop_lookback_minutes)
        return self._located([f for f in detect(seen, {}, self._config) if f.observed_at >= since])

    def _located(self, findings: list[Finding]) -> list[Finding]:
        return [
            replace(
                f,
                target=f.target.located(self._account, self._region),
                dedupe_key=f"{f.dedupe_key}@{self._region}" if self._region else f.dedupe_key,
            )
            for f in findings
        ]

    def _sweep_due(self, scheduled_at: datetime) -> bool:
        every = self._config.full_sweep_every_minutes
        return every > 0 and (scheduled_at.hour * 60 + scheduled_at.minute) % every == 0


def _without(series: Sequence[Sample], parts: Iterable[Sequence[Sample]]) -> list[Sample]:
    """`series` minus the sum of `parts`, minute by minute (a minute missing from a part is zero)."""
    taken: dict[datetime, float] = defaultdict(float)
    for part in parts:
        for sample in part:
            taken[sample.at] += sample.value
    return [Sample(s.at, max(0.0, s.value - taken[s.at])) for s in series]


def _movers(
    invocations: Mapping[str, Sequence[Sample]],
    account: Sequence[Sample],
    watched: set[str],
    config: InvocationScanConfig,
) -> list[str]:
    """The functions behind the rise of `account` (unwatched): the biggest risers, until they explain it."""
    current = rate(account, config.baseline_minutes)
    if current is None:
        return []
    left = current.latest.value - current.baseline_per_minute
    rises = []
    for name, samples in invocations.items():
        own = rate(samples, config.baseline_minutes)
        if name not in watched and own is not None and own.latest.at == current.latest.at:
            rises.append((own.latest.value - own.baseline_per_minute, name))
    movers = []
    for rise, name in sorted(rises, reverse=True)[:MOVERS_PER_DRILL_DOWN]:
        if rise <= 0 or left <= 0:
            break
        movers.append(name)
        left -= rise
    return movers
