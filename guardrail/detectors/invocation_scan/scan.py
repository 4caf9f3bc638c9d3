"""The scan: a cheap account-level check each minute, a per-function look only when something moves."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.config.invocation_scan import InvocationScanConfig
from guardrail.detectors.invocation_scan.detect import (
    INVOCATIONS,
    RECURSIVE_INVOCATIONS_DROPPED,
    MetricQuery,
    Sample,
    account_moved,
    detect,
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


@dataclass(frozen=True)
class ScanReport:
    """What one scan looked at and found."""

    findings: list[Finding]
    drilled_down: bool
    why: str
    functions_scanned: int = 0


class InvocationScan:
    """Runs one scan for the minute a schedule fired."""

    def __init__(self, *, metrics: MetricSource, functions: FunctionLister, config: InvocationScanConfig):
        self._metrics = metrics
        self._functions = functions
        self._config = config

    def run(self, scheduled_at: datetime) -> ScanReport:
        """Scan the baseline window that ends with the minute of `scheduled_at` (the event's time)."""
        end = scheduled_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        start = end - timedelta(minutes=self._config.baseline_minutes + 1)
        account = self._metrics.samples([ACCOUNT_INVOCATIONS, ACCOUNT_DROPPED], start=start, end=end)
        why = account_moved(account[ACCOUNT_INVOCATIONS], account[ACCOUNT_DROPPED], self._config)
        if why is None and self._sweep_due(scheduled_at):
            why = f"periodic full sweep (every {self._config.full_sweep_every_minutes} minutes)"
        if why is None:
            return ScanReport(findings=[], drilled_down=False, why="account quiet")
        names = list(dict.fromkeys(self._functions.function_names()))
        metrics = [INVOCATIONS]
        if any(s.value > 0 for s in account[ACCOUNT_DROPPED]):
            metrics.append(RECURSIVE_INVOCATIONS_DROPPED)
        queries = [MetricQuery(metric, name) for metric in metrics for name in names]
        data = self._metrics.samples(queries, start=start, end=end)
        findings = detect(
            {name: data[MetricQuery(INVOCATIONS, name)] for name in names},
            {name: data.get(MetricQuery(RECURSIVE_INVOCATIONS_DROPPED, name), []) for name in names},
            self._config,
        )
        return ScanReport(findings=findings, drilled_down=True, why=why, functions_scanned=len(names))

    def _sweep_due(self, scheduled_at: datetime) -> bool:
        every = self._config.full_sweep_every_minutes
        return every > 0 and (scheduled_at.hour * 60 + scheduled_at.minute) % every == 0
