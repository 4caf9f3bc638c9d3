"""The nights before the incident, learned in one batch instead of replayed event by event.

Replaying a learning night through the deployed handler costs about 0.3 s an event on 2 cores,
whether through moto's HTTP server or in-process: the time goes to moto's DynamoDB engine (each
window read scans the caller's whole partition, each booking is a transaction), not to HTTP. Two
nights are ~2,800 events, 10-25 minutes. So the replay computes what those nights leave in the table
with the watch's own pure code, and writes it in a few `BatchWriteItem` calls:
- each query's two halves are booked exactly as the watch books them (`booking.book_start` and
  `book_finish` on the events the replay generates, the cost from `cost.estimate`);
- each scope's baseline is folded hour by hour (`baseline.started`, `due`, `fold`) at the moments the
  watch would read it (every event of the scope), from the settled hour buckets and statement counters;
- written: the baselines and the hour buckets (`H#<hour>`: the 24-hour totals and the recent hours the
  signatures read), a caller's with the busiest pace the watch notes on it (`noted_paces`, which
  `acceleration` compares with). Left out: minute buckets, statement counters and query records, which nothing
  reads once the nights are over (a window is minutes long, a statement is counted over two hours,
  the nights' query ids never come again).
What the watch would have decided on those nights is not replayed: a learning night is under every
fixed limit, and no signature speaks before `minHistoryDays` of history.
`tests/devtools/test_history.py` holds the result equal to replaying the same nights through the handler.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import boto3

from devtools.replay import IncidentReplay
from guardrail.adapters.athena_baselines import baseline_item
from guardrail.adapters.dynamodb_codec import epoch, parse_hour, to_item
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.baseline import HOUR, Baseline, HourCount, due, fold, started
from guardrail.detectors.athena.booking import (
    Bump,
    QueryRecord,
    book_finish,
    book_start,
    caller_scope,
    placed,
    workgroup_scope,
)
from guardrail.detectors.athena.cost import estimate
from guardrail.detectors.athena.query_events import (
    API_CALL,
    STATE_CHANGE,
    QueryFinished,
    QueryStarted,
    parse_event,
)
from guardrail.detectors.athena.signatures import densest
from guardrail.detectors.athena.windows import FINGERPRINT_PREFIX, MINUTES, PACE, REGIONS, hour_bucket
from guardrail.recursion.query_started import QUERY_STARTED

_BATCH = 25  # BatchWriteItem's limit


def learned_items(
    replay: IncidentReplay, config: AthenaWatchConfig, *, away: bool = False
) -> list[dict[str, Any]]:
    """The items the replay's learning nights leave that the incident's night reads (plain values).

    `away`: the batch runs outside the guardrail's home, so its counters are keyed with its place.
    """
    place = (replay.account, replay.athena_region) if away else None
    bumps: dict[tuple[str, str], Bump] = {}
    seen: dict[str, list[datetime]] = defaultdict(list)  # when the watch reads each scope's baseline
    remote = frozenset({replay.data_region} - {replay.athena_region})
    for query in replay.history_queries():
        start, finish = parse_event(replay.start_event(query)), parse_event(replay.finish_event(query))
        assert isinstance(start, QueryStarted) and isinstance(finish, QueryFinished)  # noqa: S101 - our events
        cost = estimate(
            query.scanned_bytes,
            cross_region=bool(remote),
            usd_per_tb=config.usd_per_tb,
            transfer_usd_per_gb=config.transfer_usd_per_gb,
        )
        after_start = QueryRecord(caller=start.caller, started_at=start.at)
        booked = [
            book_start(QueryRecord(), start, away=place),
            book_finish(after_start, finish, cost, remote, query.sql, away=place),
        ]
        for entry in booked:
            for bump in entry.bumps if entry is not None else ():
                key = (bump.scope, bump.bucket)
                bumps[key] = bumps[key] + bump if key in bumps else bump
        seen[caller_scope(placed(start.caller.key, place))] += [start.at, finish.at]
        seen[workgroup_scope(placed(finish.workgroup, place))].append(finish.at)
    ttl = timedelta(hours=config.counter_ttl_hours)
    paces = noted_paces(replay, config.window_minutes, place)
    items = [
        _bucket_item(bump, ttl, paces.get((bump.scope, bump.bucket), 0))
        for bump in bumps.values()
        if bump.bucket.startswith("H#")
    ]
    for scope, moments in seen.items():
        learned = _folded(scope, sorted(moments), bumps.values(), config)
        items.append(baseline_item(scope, learned, config.baselines))
    return items


def write_items(session: boto3.session.Session, table: str, items: Iterable[dict[str, Any]]) -> int:
    """Put the items in `table` with BatchWriteItem; return how many calls it took."""
    calls = 0
    requests = [{"PutRequest": {"Item": to_item(item)}} for item in items]
    client = session.client("dynamodb")
    while requests:
        batch, requests = requests[:_BATCH], requests[_BATCH:]
        pending: dict[str, Any] = {table: batch}
        while pending:
            calls += 1
            pending = dict(client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
    return calls


def noted_paces(
    replay: IncidentReplay, window_minutes: int, place: tuple[str, str] | None = None
) -> dict[tuple[str, str], int]:
    """The busiest pace the watch notes on each of the learning nights' caller hour buckets.

    As the watch does (`AthenaWatch._note_pace`), in delivery order: at each start it books (the first
    copy of its CloudTrail record or of the guard's claim) and each finish whose caller it knows, the
    densest run of the caller's starts booked so far in the window's minutes (`signatures.densest`),
    kept on the hour bucket of the event's time when it beats the hour's note. A learning night breaks
    no rule, so every pace is noted.
    """
    booked: dict[str, list[datetime]] = defaultdict(list)  # a caller's booked starts, to the second, sorted
    started: set[str] = set()
    finished: set[str] = set()
    noted: dict[tuple[str, str], int] = {}
    scopes: dict[str, str] = {}
    for delivery in replay.deliveries():
        query = delivery.query
        if query.started_at >= replay.start:
            continue
        if query.query_id not in scopes:
            start = parse_event(replay.start_event(query))
            assert isinstance(start, QueryStarted)  # noqa: S101 - our events
            scopes[query.query_id] = caller_scope(placed(start.caller.key, place))
        scope, kind = scopes[query.query_id], delivery.event.get("detail-type")
        if kind in (API_CALL, QUERY_STARTED) and query.query_id not in started:
            started.add(query.query_id)
            at = query.started_at.replace(microsecond=0)
            bisect.insort(booked[scope], at)
        elif kind == STATE_CHANGE and query.query_id not in finished:
            finished.add(query.query_id)
            if query.query_id not in started:
                continue  # its caller is not known yet: no caller is decided on
            at = query.finished_at.replace(microsecond=0)
        else:
            continue  # a duplicate: decided already
        first = at.replace(second=0) - timedelta(minutes=window_minutes - 1)
        starts = booked[scope]
        window = starts[
            bisect.bisect_left(starts, first) : bisect.bisect_right(starts, at.replace(second=59))
        ]
        pace = densest(sorted(set(window)))
        key = (scope, hour_bucket(at))
        if pace is not None and pace.per_hour > noted.get(key, 0):
            noted[key] = pace.per_hour
    return noted


def _bucket_item(bump: Bump, ttl: timedelta, pace: int = 0) -> dict[str, Any]:
    """An hour bucket as the counters adapter leaves it after adding every bump (zero counts absent)."""
    item: dict[str, Any] = {"pk": bump.scope, "sk": bump.bucket}
    if pace:
        item[PACE] = pace
    item |= {name: value for name, value in bump.counts.as_dict().items() if value}
    if bump.regions:
        item[REGIONS] = set(bump.regions)
    if bump.minutes:
        item[MINUTES] = set(bump.minutes)
    item["expires_at"] = epoch(bump.latest + ttl)
    return item


def _folded(
    scope: str, moments: list[datetime], bumps: Iterable[Bump], config: AthenaWatchConfig
) -> Baseline:
    """The scope's baseline as the watch folds it, reading it at each of `moments` (in order)."""
    hours: dict[datetime, HourCount] = {}
    runs: dict[datetime, dict[str, int]] = defaultdict(dict)
    for bump in bumps:
        if bump.scope != scope:
            continue
        if bump.bucket.startswith("H#"):
            hours[parse_hour(bump.bucket[2:])] = HourCount(
                bump.counts.queries, bump.counts.scanned, bump.minutes
            )
        elif bump.bucket.startswith(FINGERPRINT_PREFIX):
            hour_text, _, name = bump.bucket[len(FINGERPRINT_PREFIX) :].partition("#")
            runs[parse_hour(hour_text)][name] = bump.counts.queries
    learning, current, folds = config.baselines, Baseline(), 0
    for at in moments:
        current = started(current, at)
        span = due(current, at, learning)
        if span is None:
            continue
        most: dict[str, int] = {}
        hour = span[0]
        while hour <= span[1]:
            for name, count in runs.get(hour, {}).items():
                most[name] = max(most.get(name, 0), count)
            hour += HOUR
        current, folds = fold(current, hours, most, span, learning), folds + 1
    return replace(current, version=folds + 1)  # the first read wrote it, each fold wrote it again
