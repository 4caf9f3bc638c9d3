"""What the Athena watch needs from AWS, as protocols, and which of them serves an event's place.

`counters` and `lookups` (in `guardrail.adapters`) implement the protocols. At home (or with no home
given: the watch's own region alone) counters keep the names they always had and Athena and the data
catalog are asked through the watch's own clients. Another watched account or region keeps its
counters apart (`name@account:region`) and is asked through its own.
"""
# ruff: noqa: D102 - protocols mirror the documented adapters

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from guardrail.detectors.athena.baseline import Baseline, HourCount
from guardrail.detectors.athena.booking import Booking, QueryFacts, QueryRecord, placed
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.query_events import QueryFinished, QueryStarted
from guardrail.scope import Scope


class CounterStore(Protocol):
    """Exactly-once booking and window totals (see `guardrail.adapters.athena_counters.AthenaCounters`)."""

    def query(self, query_id: str) -> QueryRecord | None: ...
    def settled(self, query_id: str) -> QueryRecord | None: ...
    def record_start(self, started: QueryStarted, *, away: tuple[str, str] | None = None) -> bool: ...
    def record_finish(
        self,
        finished: QueryFinished,
        cost: QueryCost,
        remote_regions: frozenset[str],
        sql: str = "",
        *,
        away: tuple[str, str] | None = None,
        read: QueryRecord | None = None,
    ) -> Booking: ...
    def mark_decided(self, query_id: str, half: str) -> None: ...
    def undecided(self, query_id: str, half: str) -> None: ...
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


#: An account and a region.
Place = tuple[str, str]
Lookups = tuple[QueryLookup, LocationLookup]


@dataclass(frozen=True)
class Places:
    """The guardrail's home, its own lookups, and those of the other places it watches."""

    home: Scope | None
    queries: QueryLookup
    locations: LocationLookup
    elsewhere: Callable[[str, str], Lookups] | None = None

    def of(self, event: QueryStarted | QueryFinished) -> Place:
        """The event's account and region (a blank account is the guardrail's own)."""
        return event.account or (self.home.account if self.home else ""), event.region

    def away(self, place: Place) -> Place | None:
        """The place, when it is not the guardrail's home (its counters are kept apart)."""
        return None if self.home is None or self.home.is_home(*place) else place

    def scoped(self, name: str, place: Place) -> str:
        """A caller's or workgroup's counter name: as it always was at home, else with its place."""
        return placed(name, self.away(place))

    def lookups(self, place: Place) -> Lookups:
        """Athena's and the data catalog's answers where the query ran."""
        if self.away(place) is None or self.elsewhere is None:
            return self.queries, self.locations
        return self.elsewhere(*place)
