"""The scan: a cheap account-level check each minute, a capped per-function look only when something moves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    recent_drops,
)
from guardrail.domain import Finding

ACCOUNT_INVOCATIONS = MetricQuery(INVOCATIONS)
ACCOUNT_DROPPED = MetricQuery(RECURSIVE_INVOCATIONS_DROPPED)


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


class HourlyCap:
    """At most `per_hour` drill-downs in one clock hour, counted in the ledger across every container."""

    def __init__(self, claims: SignalClaims, per_hour: int, *, place: str = "") -> None:
        self._claims = claims
        self._per_hour = per_hour
        self._place = f"{place}:" if place else ""  # a region's cap apart from the home region's

    def take(self, at: datetime) -> bool:
        """Take one of the hour's drill-downs for the minute of `at`; False when the hour has none left.

        A minute that was given one keeps it: a redelivery of that minute (a retry) drills down again.
        """
        place = self._place
        hour, minute = f"{at:%Y-%m-%dT%H}", f"{DETECTOR}:drill-down-minute:{place}{at:%Y-%m-%dT%H:%M}"
        for slot in range(self._per_hour):
            if self._claim(f"{DETECTOR}:drill-down:{place}{hour}:{slot}", at):
                self._claim(minute, at)
                return True
        if not self._claim(minute, at):
            return True
        self._claims.release_signal(minute)
        return False

    def _claim(self, key: str, at: datetime) -> bool:
        return self._claims.claim_signal(key, now=at, ttl_seconds=2 * 3600)


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
        cap: HourlyCap,
        account: str = "",
        region: str = "",
    ):
        self._metrics = metrics
        self._functions = functions
        self._config = config
        self._cap = cap
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
        account = self._metrics.samples([ACCOUNT_INVOCATIONS, ACCOUNT_DROPPED], start=start, end=end)
        metrics, reasons = [], []
        moved = account_invocations_moved(account[ACCOUNT_INVOCATIONS], self._config)
        if moved is None and self._sweep_due(scheduled_at):
            moved = f"periodic full sweep (every {self._config.full_sweep_every_minutes} minutes)"
        if moved is not None:
            metrics.append(INVOCATIONS)
            reasons.append(moved)
        if recent_drops(account[ACCOUNT_DROPPED], end, self._config):
            metrics.append(RECURSIVE_INVOCATIONS_DROPPED)
            reasons.append("Lambda dropped recursive invocations in this account")
        if not metrics:
            return ScanReport(findings=[], drilled_down=False, why="account quiet")
        why = "; ".join(reasons)
        if not self._cap.take(scheduled_at):
            cap = self._config.max_drill_downs_per_hour
            return ScanReport(
                [], drilled_down=False, why=f"{why}; no drill-down left this hour (cap {cap})", capped=True
            )
        names = list(dict.fromkeys(self._functions.function_names()))
        queries = [MetricQuery(metric, name) for metric in metrics for name in names]
        data = self._metrics.samples(queries, start=start, end=end)
        findings = detect(
            {name: data.get(MetricQuery(INVOCATIONS, name), []) for name in names},
            {name: data.get(MetricQuery(RECURSIVE_INVOCATIONS_DROPPED, name), []) for name in names},
            self._config,
        )
        findings = [
            replace(
                f,
                target=f.target.located(self._account, self._region),
                dedupe_key=f"{f.dedupe_key}@{self._region}" if self._region else f.dedupe_key,
            )
            for f in findings
        ]
        return ScanReport(findings=findings, drilled_down=True, why=why, functions_scanned=len(names))

    def _sweep_due(self, scheduled_at: datetime) -> bool:
        every = self._config.full_sweep_every_minutes
        return every > 0 and (scheduled_at.hour * 60 + scheduled_at.minute) % every == 0
