"""DynamoDB store of the Athena watch's counters: reads a query's record, writes a booking, sums windows.

What to write is decided in `guardrail.detectors.athena.booking`; this adapter only reads and writes.
Items in the guardrail's table (all expire through the `expires_at` TTL):
- `ATHENA#QUERY#<id>` / `QUERY`: what is known of one query, its start half (`caller_*`, `workgroup`,
  `started_ms`, `start_claimed` when booked from the guard's claim) and its finish half (`finished_ms`,
  the bytes and cost, `regions`). A half is written once, under the condition that the record still
  holds the halves it was planned on: a duplicate delivery changes nothing, a lost race is planned
  again. (A start from CloudTrail that names another caller than the claim booked is written over it,
  once: see `booking.book_start`.) The half's counters are added after it, one UpdateItem each (a
  transaction would bill every item twice). When one of them fails, the ones not added are noted on
  the record (`owed`, with an `owed_id`) before the delivery raises, and the next delivery of the
  query (Lambda's retry) takes the note off and adds them: each counter is added once.
  `decided` names the halves whose decision is made: written with the half (a copy that comes while
  the first delivery decides is a duplicate), taken back by a delivery whose counters or decision
  failed before it raises (its retry decides again, then notes it), at no cost when nothing fails.
  Only a delivery killed between two of its writes (a timeout) leaves the rest of that query's counters
  unadded, and its decision unmade.
- `ATHENA#CALLER#<key>` and `ATHENA#WORKGROUP#<name>` / `M#<minute>` and `H#<hour>`: the counter buckets
  (see `guardrail.detectors.athena.windows`), each bounded whatever the rate; `note_pace` keeps a
  caller's busiest pace of an hour on its hour bucket.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Unpack
from uuid import uuid4

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.adapters.dynamodb_codec import (
    Update,
    epoch,
    from_item,
    from_ms,
    ms,
    to_item,
)
from guardrail.adapters.permissions import Grant, Resource
from guardrail.detectors.athena.booking import (
    Booking,
    Bump,
    CountingContention,
    Entry,
    QueryRecord,
    Spend,
    book_finish,
    book_start,
)
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.query_events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.windows import (
    LAST_QUERY,
    MINUTES,
    PACE,
    REGIONS,
    SECONDS,
    Counts,
    Span,
    day_span,
    hour_bucket,
    totals_of,
    window_span,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

QUERY_SK = "QUERY"
#: The query record's set of halves (`start`, `finish`) whose decision is made (or being made).
DECIDED = "decided"
#: On the query record: its start was booked from the guard's claim (CloudTrail may still name another).
CLAIMED = "start_claimed"
#: On the query record: the counters a failed delivery did not add (a list of bumps), and the note's id.
OWED = "owed"
OWED_ID = "owed_id"
#: How often a booking is planned and tried before CountingContention (each try reads the record anew).
ATTEMPTS = 4

logger = logging.getLogger(__name__)


class AthenaCounters(AwsAdapter["DynamoDBClient"]):
    """Adapter that books queries into the table and reads window totals back."""

    SERVICE = "dynamodb"
    PERMISSIONS = (
        Grant(Resource.LEDGER_TABLE, ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query")),
    )

    def __init__(
        self, table_name: str, *, ttl_hours: int = 48, **clients: Unpack[ClientOptions[DynamoDBClient]]
    ) -> None:
        super().__init__(**clients)
        self._table = table_name
        self._ttl = timedelta(hours=ttl_hours)

    @translated("GetItem")
    def query(self, query_id: str) -> QueryRecord | None:
        """The table's record of a query, if it has one."""
        item = self._client.get_item(
            TableName=self._table, Key=to_item(_query_key(query_id)), ConsistentRead=True
        ).get("Item")
        return None if item is None else _record(from_item(item))

    def record_start(self, started: QueryStarted, *, away: tuple[str, str] | None = None) -> bool:
        """Book a query start once; False when it was already booked (a duplicate delivery).

        `away`: where the query ran, when not in the guardrail's home (see `booking.book_start`).
        """
        for _ in range(ATTEMPTS):
            entry = book_start(self.settled(started.query_id) or QueryRecord(), started, away=away)
            if entry is None:
                return False
            if self._write(entry):
                return True
        raise CountingContention(f"query {started.query_id}: its record kept changing")

    def record_finish(
        self,
        finished: QueryFinished,
        cost: QueryCost,
        remote_regions: frozenset[str],
        sql: str = "",
        *,
        away: tuple[str, str] | None = None,
        read: QueryRecord | None = None,
    ) -> Booking:
        """Book a finished query once: query, statement, bytes to its workgroup; bytes to its caller.

        `read`: the query's record as the caller just read it (`settled`), planned on first.
        """
        record = read if read is not None else self.settled(finished.query_id) or QueryRecord()
        for _ in range(ATTEMPTS):
            entry = book_finish(record, finished, cost, remote_regions, sql, away=away)
            if entry is None:
                return Booking(counted=False, caller=record.caller)
            if self._write(entry):
                return Booking(counted=True, caller=entry.billed)
            record = self.settled(finished.query_id) or QueryRecord()
        raise CountingContention(f"query {finished.query_id}: its record kept changing")

    @translated("UpdateItem")
    def mark_decided(self, query_id: str, half: str) -> None:
        """Note on the query's record that the decision on its `start` or `finish` half was carried out.

        Only a retry needs to: a booking notes its half decided as it writes it.
        """
        self._client.update_item(**Update().add(DECIDED, {half}).build(self._table, _query_key(query_id)))

    def undecided(self, query_id: str, half: str) -> None:
        """Take back the note that a half was decided: its decision failed, and its retry makes it again.

        Best effort: the delivery is failing already; if this fails too, the retry takes the half for a
        duplicate (logged).
        """
        update = Update().delete(DECIDED, {half})
        try:
            with translated("UpdateItem"):
                self._client.update_item(**update.build(self._table, _query_key(query_id)))
        except Exception:
            logger.exception(
                "query %s: its %s half stays noted decided; its retry will not decide", query_id, half
            )

    @translated("Query")
    def totals(self, scope: str, at: datetime, *, window_minutes: int) -> Totals:
        """The scope's query count over the window ending at `at`, and its last 24 hours."""
        return totals_of(
            self._buckets(scope, window_span(at, window_minutes)),
            self._buckets(scope, day_span(at)),
            hour=hour_bucket(at),
        )

    def note_pace(self, scope: str, at: datetime, pace: int) -> None:
        """Note `pace` (queries an hour) as the busiest of the scope's hour at `at`, unless one was busier.

        Only an hour bucket the booking wrote is noted on (never created here); a lost race is no error.
        """
        update = Update().set(PACE, pace)
        busier = f"{update.exists(PACE, False)} OR {update.name(PACE)} < {update.value(PACE, pace)}"
        request = update.build(
            self._table, {"pk": scope, "sk": hour_bucket(at)}, f"attribute_exists(pk) AND ({busier})"
        )
        try:
            with translated("UpdateItem"):
                self._client.update_item(**request)
        except ConditionFailed:
            pass

    def _write(self, entry: Entry) -> bool:
        """Write the entry's half on condition, then add its counters; False when the record changed."""
        try:
            with translated("UpdateItem"):
                self._client.update_item(**self._query_update(entry))
        except ConditionFailed:
            return False
        self._add(entry.query_id, entry.bumps, entry.half)
        return True

    def _add(self, query_id: str, bumps: tuple[Bump, ...], half: str | None = None) -> None:
        """Add each bump to its counter; on a failure, note the bumps not added as owed, then raise.

        `half`: the half just booked, whose decided note the failure takes back too.
        """
        for done, bump in enumerate(bumps):
            try:
                with translated("UpdateItem"):
                    self._client.update_item(**self._bump_update(bump))
            except Exception:
                self._owe(query_id, bumps[done:], half)
                raise

    def _owe(self, query_id: str, bumps: tuple[Bump, ...], half: str | None) -> None:
        """Note on the query's record the bumps a failed delivery did not add (after any owed already)."""
        update = Update().append(OWED, [_owed_item(bump) for bump in bumps]).set(OWED_ID, uuid4().hex)
        if half is not None:
            update.delete(DECIDED, {half})
        try:
            with translated("UpdateItem"):
                self._client.update_item(**update.build(self._table, _query_key(query_id)))
        except Exception:  # the delivery raises its own failure; these counts are lost
            logger.exception("counters of query %s neither added nor noted as owed", query_id)

    def settled(self, query_id: str) -> QueryRecord | None:
        """The query's record, after adding the counters a failed delivery left owed on it (once).

        The note is taken off first, on condition that it is still the one read (its id): of two
        deliveries settling at once, one adds the counters.
        """
        for _ in range(ATTEMPTS):
            record = self.query(query_id)
            if record is None or not record.owed:
                return record
            update = Update().remove(OWED).remove(OWED_ID)
            condition = update.equals(OWED_ID, record.owed_id)
            try:
                with translated("UpdateItem"):
                    self._client.update_item(**update.build(self._table, _query_key(query_id), condition))
            except ConditionFailed:
                continue  # changed since read: another delivery took the note, or added to it
            self._add(query_id, record.owed)
            return replace(record, owed=(), owed_id="")
        raise CountingContention(f"query {query_id}: its owed counters kept changing")

    def _query_update(self, entry: Entry) -> UpdateTypeDef:
        update = Update()
        if entry.start is not None:
            caller = entry.start.caller
            update.set("caller_key", caller.key).set("caller_arn", caller.arn)
            update.set("caller_type", caller.identity_type).set("workgroup", entry.start.workgroup)
            update.set("started_ms", ms(entry.start.at)).set(CLAIMED, entry.start.claimed)
            if caller.function:
                update.set("caller_function", caller.function)
        if entry.spend is not None:
            update.set("finished_ms", ms(entry.spend.at))
            for name, value in Counts.of(entry.spend.cost).as_dict().items():
                if name != "queries":
                    update.set(name, value)
            if entry.spend.remote_regions:
                update.set(REGIONS, set(entry.spend.remote_regions))
        update.set("expires_at", epoch(entry.latest + self._ttl)).add(DECIDED, {entry.half})
        condition = f"{update.exists('caller_key', entry.started_before)} AND "
        condition += update.exists("finished_ms", entry.finished_before)
        if entry.replaces is not None:  # only the claimed caller it was planned on, still unconfirmed
            condition += f" AND {update.equals('caller_key', entry.replaces.key, 'replaced_key')}"
            condition += f" AND {update.equals(CLAIMED, True, 'was_claimed')}"
        return update.build(self._table, _query_key(entry.query_id), condition)

    def _bump_update(self, bump: Bump) -> UpdateTypeDef:
        update = Update()
        for name, value in bump.counts.as_dict().items():
            if value:
                update.add(name, value)
        for name, members in ((SECONDS, bump.seconds), (MINUTES, bump.minutes), (REGIONS, bump.regions)):
            if members:
                update.add(name, set(members))
        if bump.query_ids:  # the latest id only: a bucket never grows with the rate
            update.set(LAST_QUERY, max(bump.query_ids))
        update.set("expires_at", epoch(bump.latest + self._ttl))
        return update.build(self._table, {"pk": bump.scope, "sk": bump.bucket})

    def _buckets(self, scope: str, span: Span) -> Iterator[dict[str, Any]]:
        return buckets(self._client, self._table, scope, span.first, span.last)


def buckets(
    client: DynamoDBClient, table: str, scope: str, first: str, last: str
) -> Iterator[dict[str, Any]]:
    """The scope's counter buckets from sort key `first` to `last` (plain values), read consistently.

    Read page by page, as far as the caller takes them; the baselines fold the same buckets.
    """
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues=to_item({":pk": scope, ":first": first, ":last": last}),
        ConsistentRead=True,
    )
    for page in pages:
        yield from map(from_item, page.get("Items", []))


def _record(item: dict[str, Any]) -> QueryRecord:
    """The booking's view of a query item."""
    caller = None
    if "caller_key" in item:
        caller = Caller(
            arn=item["caller_arn"], identity_type=item["caller_type"], function=item.get("caller_function")
        )
    spend = None
    if "finished_ms" in item:
        counts = Counts.read(item)
        cost = QueryCost(
            scanned_bytes=counts.scanned,
            cross_region_bytes=counts.xbytes,
            scan_micros=counts.cost - counts.transfer,
            transfer_micros=counts.transfer,
        )
        spend = Spend(
            at=from_ms(item["finished_ms"]), cost=cost, remote_regions=frozenset(item.get(REGIONS, ()))
        )
    return QueryRecord(
        caller=caller,
        started_at=from_ms(item["started_ms"]) if "started_ms" in item else None,
        spend=spend,
        decided=frozenset(item.get(DECIDED, ())),
        claimed=bool(item.get(CLAIMED, False)),
        owed=tuple(map(_owed_bump, item.get(OWED, ()))),
        owed_id=str(item.get(OWED_ID, "")),
    )


def _owed_item(bump: Bump) -> dict[str, Any]:
    """A bump as noted owed on a query's record (plain values, lists for its sets)."""
    return {
        "scope": bump.scope,
        "bucket": bump.bucket,
        "counts": bump.counts.as_dict(),
        "latest": ms(bump.latest),
        "ids": sorted(bump.query_ids),
        SECONDS: sorted(bump.seconds),
        MINUTES: sorted(bump.minutes),
        REGIONS: sorted(bump.regions),
    }


def _owed_bump(item: dict[str, Any]) -> Bump:
    """A bump noted owed, read back."""
    return Bump(
        scope=item["scope"],
        bucket=item["bucket"],
        counts=Counts.read(item["counts"]),
        latest=from_ms(item["latest"]),
        query_ids=frozenset(item["ids"]),
        seconds=frozenset(int(s) for s in item[SECONDS]),
        minutes=frozenset(int(m) for m in item[MINUTES]),
        regions=frozenset(item[REGIONS]),
    )


def _query_key(query_id: str) -> dict[str, str]:
    return {"pk": f"ATHENA#QUERY#{query_id}", "sk": QUERY_SK}
