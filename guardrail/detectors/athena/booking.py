"""Queries and their exactly-once booking: what the watch knows of a query, and what each half adds.

A query reaches the watch in two halves, in either order, each possibly more than once:
- the start (CloudTrail's StartQueryExecution) names the caller: one query in the caller's buckets, one
  run of its statement (normalised fingerprint) in the caller's statement counter;
- the finish (the state change, its cost looked up) brings the bytes: one query, its bytes and one run
  of its statement in the workgroup's buckets.
The bytes are the caller's too, but only the half that arrives second knows both caller and bytes: that
half books them to the caller. A caller's queries are counted when they start, a workgroup's when they
finish, so the workgroup limits work even without a trail.

`book_start` and `book_finish` take what the store holds of the query and the new half, and return the
`Entry` to write, or None for a duplicate. The store writes the entry's half onto the query's record,
on condition that the record still has exactly the halves it was planned on (`started_before`,
`finished_before`), then adds its bumps; when the record changed, the store reads it again and re-plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.query_events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.sql import fingerprint
from guardrail.detectors.athena.windows import Counts, fingerprint_bucket, hour_bucket, minute_bucket
from guardrail.errors import GuardrailError


@dataclass(frozen=True)
class QueryFacts:
    """What GetQueryExecution says about a finished query."""

    query_id: str
    state: str
    scanned_bytes: int
    workgroup: str
    query: str
    database: str
    catalog: str
    statement_type: str = "DML"  # DDL, DML or UTILITY (SHOW, DESCRIBE)


#: A query's halves, as its record's `decided` names them.
START, FINISH = "start", "finish"


class CountingContention(GuardrailError):
    """The query's record kept changing under us; the delivery should be retried."""


class ActionsFailed(GuardrailError):
    """An action the event's decision called for failed (and was not recorded); retry the delivery."""


@dataclass(frozen=True)
class Booking:
    """Whether a finished query was booked now (False: a duplicate), and the caller it was booked to."""

    counted: bool
    caller: Caller | None


@dataclass(frozen=True)
class Spend:
    """A query's finish half: when it finished, what it cost, and the other regions it read from."""

    at: datetime
    cost: QueryCost
    remote_regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QueryRecord:
    """What the table knows of one query: its start half (caller), its finish half (spend), or both.

    `decided` names the halves booked whose decision was not found failed (see `AthenaCounters`).
    `claimed`: the start half was booked from the recursion guard's claim, and CloudTrail has not yet
    booked a record of the query that names another caller.
    """

    caller: Caller | None = None
    started_at: datetime | None = None
    spend: Spend | None = None
    decided: frozenset[str] = frozenset()
    claimed: bool = False
    #: Counters a failed delivery booked the record for but did not add (see `AthenaCounters.settled`),
    #: and the id of that note.
    owed: tuple[Bump, ...] = ()
    owed_id: str = ""

    @property
    def started(self) -> bool:
        """Whether the start half (CloudTrail's StartQueryExecution) is booked."""
        return self.caller is not None

    @property
    def finished_at(self) -> datetime | None:
        """When the query finished, once its finish half (the state change) is booked."""
        return None if self.spend is None else self.spend.at


@dataclass(frozen=True)
class Report:
    """What one event led to: `counted`, `duplicate`, `retried`, `ignored`, `unknown-query`, `unverified`.

    `retried`: an earlier delivery booked the event but failed before its decision was carried out;
    the decision is made now.
    """

    status: str
    query_id: str = ""
    detail: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)


def placed(name: str, away: tuple[str, str] | None) -> str:
    """A caller's key or a workgroup as counters name it: as ever at home (None), else `name@acct:region`."""
    return name if away is None else f"{name}@{away[0]}:{away[1]}"


def caller_scope(caller_key: str) -> str:
    """The partition key of a caller's counters."""
    return f"ATHENA#CALLER#{caller_key}"


def workgroup_scope(workgroup: str) -> str:
    """The partition key of a workgroup's counters."""
    return f"ATHENA#WORKGROUP#{workgroup}"


@dataclass(frozen=True)
class Bump:
    """What one write adds to one counter item (a scope's bucket): each item appears once per entry."""

    scope: str
    bucket: str
    counts: Counts
    latest: datetime
    query_ids: frozenset[str] = frozenset()
    #: The seconds of the minute (minute buckets), the minutes of the hour (hour buckets) its queries
    #: started (or finished) in.
    seconds: frozenset[int] = frozenset()
    minutes: frozenset[int] = frozenset()
    regions: frozenset[str] = frozenset()

    def __add__(self, other: Bump) -> Bump:
        if (self.scope, self.bucket) != (other.scope, other.bucket):
            raise ValueError(
                f"cannot add bumps of {other.scope} {other.bucket} to {self.scope} {self.bucket}"
            )
        return Bump(
            scope=self.scope,
            bucket=self.bucket,
            counts=self.counts + other.counts,
            latest=max(self.latest, other.latest),
            query_ids=self.query_ids | other.query_ids,
            seconds=self.seconds | other.seconds,
            minutes=self.minutes | other.minutes,
            regions=self.regions | other.regions,
        )


@dataclass(frozen=True)
class Entry:
    """One half of a query to book, with its bumps, if the record still holds what it held when planned.

    Exactly one of `start` and `spend` is set: the half this entry writes. `billed` is the caller the
    query's bytes are booked to by this entry (set only on the second half, when a caller is known).
    `latest` is the latest time the record then knows; the record is kept for its TTL after it.
    """

    query_id: str
    started_before: bool
    finished_before: bool
    latest: datetime
    bumps: tuple[Bump, ...]
    start: QueryStarted | None = None
    spend: Spend | None = None
    billed: Caller | None = None
    #: The claimed caller this entry's start (CloudTrail's) takes the record from: written only if the
    #: record still names it.
    replaces: Caller | None = None

    @property
    def half(self) -> str:
        """The half this entry writes: `start` or `finish`."""
        return START if self.start is not None else FINISH


def book_start(
    record: QueryRecord, started: QueryStarted, *, away: tuple[str, str] | None = None
) -> Entry | None:
    """Count the query for its caller; if it finished already, also book its bytes to the caller.

    A start booked already makes this one a duplicate, but for one case: the booked start came from the
    guard's claim and CloudTrail's record names another caller. CloudTrail's caller is then counted too
    (the record's caller becomes CloudTrail's): a claim never hides the caller CloudTrail saw.
    `away`: the query's account and region when it ran outside the guardrail's home (its counters apart).
    """
    replaces = None
    if record.caller is not None:
        if started.claimed or not record.claimed or record.caller.key == started.caller.key:
            return None
        replaces = record.caller
    scope = caller_scope(placed(started.caller.key, away))
    bumps = [_query(scope, started.at, started.query_id), _statement(scope, started.at, started.query)]
    if record.spend is not None:
        bumps.append(_bytes(scope, record.spend))
    return Entry(
        query_id=started.query_id,
        started_before=replaces is not None,
        finished_before=record.spend is not None,
        latest=max(started.at, record.finished_at or started.at),
        bumps=_gathered(bumps),
        start=started,
        billed=None if record.spend is None else started.caller,
        replaces=replaces,
    )


def book_finish(
    record: QueryRecord,
    finished: QueryFinished,
    cost: QueryCost,
    remote_regions: frozenset[str],
    sql: str = "",
    *,
    away: tuple[str, str] | None = None,
) -> Entry | None:
    """Count the query, its statement and its bytes for its workgroup; the bytes for a known caller too."""
    if record.spend is not None:
        return None
    spend = Spend(at=finished.at, cost=cost, remote_regions=remote_regions)
    scope = workgroup_scope(placed(finished.workgroup, away))
    bumps = [
        _query(scope, finished.at, finished.query_id),
        _bytes(scope, spend),
        _statement(scope, finished.at, sql),
    ]
    if record.caller is not None:
        bumps.append(_bytes(caller_scope(placed(record.caller.key, away)), spend))
    return Entry(
        query_id=finished.query_id,
        started_before=record.started,
        finished_before=False,
        latest=max(finished.at, record.started_at or finished.at),
        bumps=_gathered(bumps),
        spend=spend,
        billed=record.caller,
    )


def _query(scope: str, at: datetime, query_id: str) -> list[Bump]:
    """One query in the scope's minute bucket (with its id and second) and hour bucket (its minute)."""
    one = Counts(queries=1)
    return [
        Bump(scope, minute_bucket(at), one, at, frozenset({query_id}), frozenset({at.second})),
        Bump(scope, hour_bucket(at), one, at, minutes=frozenset({at.minute})),
    ]


def _statement(scope: str, at: datetime, sql: str) -> list[Bump]:
    """One run of the statement in the scope's hour counter of its fingerprint (none without its text)."""
    if not sql:
        return []
    return [Bump(scope, fingerprint_bucket(at, fingerprint(sql)), Counts(queries=1), at)]


def _bytes(scope: str, spend: Spend) -> list[Bump]:
    """A finished query's bytes, cost and remote regions in the scope's hour bucket."""
    return [Bump(scope, hour_bucket(spend.at), Counts.of(spend.cost), spend.at, regions=spend.remote_regions)]


def _gathered(groups: list[list[Bump]]) -> tuple[Bump, ...]:
    """The bumps with one per counter item, so that a booking updates each item once."""
    gathered: dict[tuple[str, str], Bump] = {}
    for bump in (bump for group in groups for bump in group):
        key = (bump.scope, bump.bucket)
        gathered[key] = gathered[key] + bump if key in gathered else bump
    return tuple(gathered.values())
