"""The counters' buckets: per-minute for the sliding window, per-hour for the last 24 hours.

A scope (a caller or a workgroup, see `booking.caller_scope`) has one counter item per bucket, keyed
`M#<minute>` or `H#<hour>` (and `F#<hour>#<fingerprint>`: one statement's runs in the hour): its
`Counts`; a minute bucket also holds the seconds of the minute its queries started in (a set of at most
60 numbers) and the id of the latest query it counted; an hour bucket the other regions its queries read
from, the minutes they started in (at most 60) and, for a caller, the busiest pace noted in the hour
(see `signatures.acceleration`). Every bucket is bounded whatever the rate: no bucket holds one entry
per query. `totals_of` adds a window's buckets back up. Minute buckets written before this change hold
their queries' ids (`ids`); they are still read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals

#: A minute bucket's latest query id, and the seconds of the minute its queries started in.
LAST_QUERY = "last"
SECONDS = "secs"
#: The query ids of a minute bucket written before `LAST_QUERY` (read, never written).
LEGACY_QUERY_IDS = "ids"
#: An hour bucket's remote regions, the minutes its queries started in, and a caller's busiest pace in
#: the hour (queries an hour).
REGIONS = "regions"
MINUTES = "mins"
PACE = "pace"
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


def totals_of(
    minutes: Iterable[Mapping[str, Any]], hours: Iterable[Mapping[str, Any]], *, hour: str = ""
) -> Totals:
    """Add up a scope's minute buckets (the window) and hour buckets (the day), in bucket order.

    The buckets are items as read (`sk` names the bucket); `hour` is the current hour's bucket key.
    """
    minutes, hours = list(minutes), list(hours)
    day = sum((Counts.read(item) for item in hours), Counts())
    paces = {str(item.get("sk", "")): int(item.get(PACE, 0)) for item in hours}
    hour_pace = paces.pop(hour, 0)
    earlier_starts = sum(
        Counts.read(item).queries for item in hours if paces.get(str(item.get("sk", "")), 0) > 0
    )
    return Totals(
        window_queries=sum(Counts.read(item).queries for item in minutes),
        day_queries=day.queries,
        day_scanned_bytes=day.scanned,
        day_cost_micros=day.cost,
        day_cross_region_bytes=day.xbytes,
        day_transfer_micros=day.transfer,
        remote_regions=frozenset(r for item in hours for r in item.get(REGIONS, ())),
        recent_query_ids=tuple(q for item in minutes for q in _query_ids(item)),
        starts=tuple(sorted(at for item in minutes for at in _starts(item))),
        earlier_pace=max(paces.values(), default=0),
        hour_pace=hour_pace,
        earlier_starts=earlier_starts,
    )


def _query_ids(item: Mapping[str, Any]) -> list[str]:
    """The query ids a minute bucket shows: its latest, or every id of a bucket of the earlier shape."""
    if LAST_QUERY in item:
        return [str(item[LAST_QUERY])]
    return sorted(item.get(LEGACY_QUERY_IDS, ()))


def _starts(item: Mapping[str, Any]) -> list[datetime]:
    """The seconds a minute bucket's queries started in, as times (none in a bucket of the earlier shape)."""
    sk = str(item.get("sk", ""))
    if not sk.startswith("M#") or SECONDS not in item:
        return []
    minute = datetime.fromisoformat(sk[2:]).replace(tzinfo=UTC)
    return [minute + timedelta(seconds=int(second)) for second in item[SECONDS]]
