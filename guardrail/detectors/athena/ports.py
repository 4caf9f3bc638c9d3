"""What the Athena watch needs from AWS, as protocols; `counters` and `lookups` implement them."""

# ruff: noqa: D102 - protocols mirror the documented adapters

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from guardrail.detectors.athena.baseline import Baseline, HourCount
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.events import QueryFinished, QueryStarted
from guardrail.detectors.athena.model import Booking, QueryFacts, QueryRecord


class CounterStore(Protocol):
    """Exactly-once booking and window totals (see `guardrail.adapters.athena_counters.AthenaCounters`)."""

    def query(self, query_id: str) -> QueryRecord | None: ...
    def record_start(self, started: QueryStarted, *, away: tuple[str, str] | None = None) -> bool: ...
    def record_finish(
        self,
        finished: QueryFinished,
        cost: QueryCost,
        remote_regions: frozenset[str],
        sql: str = "",
        *,
        away: tuple[str, str] | None = None,
    ) -> Booking: ...
    def mark_decided(self, query_id: str, half: str) -> None: ...
    def totals(self, scope: str, at: datetime, *, window_minutes: int) -> Totals: ...
    def note_pace(self, scope: str, at: datetime, pace: int) -> None: ...


class BaselineStore(Protocol):
    """Learned baselines (see `guardrail.adapters.athena_baselines.AthenaBaselines`)."""

    def baseline(self, scope: str, at: datetime) -> Baseline: ...
    def recent_hours(self, scope: str, at: datetime) -> dict[datetime, HourCount]: ...
    def statement_runs(self, scope: str, at: datetime, fingerprint: str) -> int: ...


class QueryLookup(Protocol):
    """A finished query's statistics (see `guardrail.adapters.athena_lookups.AthenaQueries`)."""

    def get(self, query_id: str) -> QueryFacts | None: ...


class LocationLookup(Protocol):
    """Where a query's tables live (see `guardrail.adapters.athena_lookups.DataLocations`)."""

    def remote_tables(self, facts: QueryFacts, home_region: str) -> dict[str, str]: ...
