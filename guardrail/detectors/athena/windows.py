"""The counters' buckets: per-minute for the sliding window, per-hour for the last 24 hours.

A scope (a caller or a workgroup, see `model.caller_scope`) has one counter item per bucket, keyed
`M#<minute>` or `H#<hour>` (and `F#<hour>#<fingerprint>`: one statement's runs in the hour): its
`Counts`, the ids of the queries it counted (minute buckets) and the
other regions they read from (hour buckets). `totals_of` adds a window's buckets back up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals

#: The names of a bucket's sets: query ids (minute buckets) and remote regions (hour buckets).
QUERY_IDS = "ids"
REGIONS = "regions"
#: Per-statement hour counters: `F#<hour>#<fingerprint>` (see `fingerprint_bucket`).
FINGERPRINT_PREFIX = "F#"


@dataclass(frozen=True)
class Counts:
    """What a bucket adds up: queries, bytes scanned, cost and transfer (micro-dollars), bytes moved."""

    queries: int = 0
    scanned: int = 0
    cost: int = 0
    transfer: int = 0
    xbytes: int = 0

    @classmethod
    def of(cls, cost: QueryCost) -> Counts:
        """One query's bytes and cost (not the query itself: it is counted where it starts or ends)."""
        return cls(
            scanned=cost.scanned_bytes,
            cost=cost.total_micros,
            transfer=cost.transfer_micros,
            xbytes=cost.cross_region_bytes,
        )

    @classmethod
    def read(cls, item: Mapping[str, Any]) -> Counts:
        """The counts stored in a bucket or query item (absent names count 0)."""
        return cls(*(int(item.get(f.name, 0)) for f in fields(cls)))

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def as_dict(self) -> dict[str, int]:
        """Every count by name, zeros included."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Span:
    """The first and last bucket keys of a window, for one key-range query."""

    first: str
    last: str


def minute_bucket(at: datetime) -> str:
    """The key of the minute bucket that holds `at`."""
    return f"M#{at:%Y-%m-%dT%H:%M}"


def hour_bucket(at: datetime) -> str:
    """The key of the hour bucket that holds `at`."""
    return f"H#{at:%Y-%m-%dT%H}"


def fingerprint_bucket(at: datetime, fingerprint: str) -> str:
    """The key of the item counting one statement's runs in the hour that holds `at`."""
    return f"{FINGERPRINT_PREFIX}{at:%Y-%m-%dT%H}#{fingerprint}"


def window_span(at: datetime, window_minutes: int) -> Span:
    """The minute buckets of the sliding window ending at `at` (its own minute included)."""
    minute = at.replace(second=0, microsecond=0)
    return Span(minute_bucket(minute - timedelta(minutes=window_minutes - 1)), minute_bucket(minute))


def day_span(at: datetime) -> Span:
    """The hour buckets of the last 24 hours ending at `at` (its own hour included)."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    return Span(hour_bucket(hour - timedelta(hours=23)), hour_bucket(hour))


def totals_of(minutes: Iterable[Mapping[str, Any]], hours: Iterable[Mapping[str, Any]]) -> Totals:
    """Add up a scope's minute buckets (the window) and hour buckets (the day), in bucket order."""
    minutes, hours = list(minutes), list(hours)
    day = sum((Counts.read(item) for item in hours), Counts())
    return Totals(
        window_queries=sum(Counts.read(item).queries for item in minutes),
        day_queries=day.queries,
        day_scanned_bytes=day.scanned,
        day_cost_micros=day.cost,
        day_cross_region_bytes=day.xbytes,
        day_transfer_micros=day.transfer,
        remote_regions=frozenset(r for item in hours for r in item.get(REGIONS, ())),
        recent_query_ids=tuple(q for item in minutes for q in sorted(item.get(QUERY_IDS, ()))),
    )
