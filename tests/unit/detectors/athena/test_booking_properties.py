"""Property: any deliveries, in any order, duplicated, racing each other, count every half once.

An in-memory store stands in for the table: it writes an entry only when the query's record still holds
the halves the entry was planned on (as the DynamoDB transaction's condition does), and a writer whose
entry is refused plans again from what the store now holds (as the adapter does).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from guardrail.detectors.athena.booking import (
    Entry,
    QueryRecord,
    book_finish,
    book_start,
    caller_scope,
    workgroup_scope,
)
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.query_events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.windows import Counts

T0 = datetime(2026, 11, 28, 1, 58, tzinfo=UTC)
CALLER = Caller("arn:aws:iam::123456789012:user/alice", "IAMUser")
QUERIES = 4


def cost(q: int) -> QueryCost:
    return QueryCost(
        scanned_bytes=1000 * (q + 1), cross_region_bytes=q, scan_micros=10 + q, transfer_micros=q
    )


def regions(q: int) -> frozenset[str]:
    return frozenset({"ap-northeast-1"}) if q % 2 else frozenset()


def start_of(q: int) -> QueryStarted:  # queries start a minute apart and cross an hour
    return QueryStarted(f"s{q}", f"q{q}", T0 + timedelta(minutes=q), "us-east-1", "primary", CALLER)


def finish_of(q: int) -> QueryFinished:
    return QueryFinished(
        f"f{q}", f"q{q}", T0 + timedelta(minutes=q, seconds=50), "us-east-1", "primary", "FAILED"
    )


def plan(store: Store, delivery: tuple[int, str]) -> Entry | None:
    q, half = delivery
    record = store.records.get(f"q{q}", QueryRecord())
    if half == "start":
        return book_start(record, start_of(q))
    return book_finish(record, finish_of(q), cost(q), regions(q))


@dataclass
class Store:
    records: dict[str, QueryRecord] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)  # "<scope> <count name>" -> sum over buckets
    ids: dict[str, list[str]] = field(default_factory=dict)
    regions: dict[str, set[str]] = field(default_factory=dict)
    billed: list[str] = field(default_factory=list)

    def write(self, entry: Entry) -> bool:
        record = self.records.get(entry.query_id, QueryRecord())
        if (record.started, record.spend is not None) != (entry.started_before, entry.finished_before):
            return False
        if entry.start is not None:
            record = replace(record, caller=entry.start.caller, started_at=entry.start.at)
        if entry.spend is not None:
            record = replace(record, spend=entry.spend)
        self.records[entry.query_id] = record
        for bump in entry.bumps:
            self.counts.update({f"{bump.scope} {k}": v for k, v in bump.counts.as_dict().items()})
            self.ids.setdefault(bump.scope, []).extend(bump.query_ids)
            self.regions.setdefault(bump.scope, set()).update(bump.regions)
        if entry.billed is not None:
            self.billed.append(entry.query_id)
        return True


deliveries = st.lists(
    st.tuples(st.integers(0, QUERIES - 1), st.sampled_from(["start", "finish"])), max_size=16
)


@given(arrivals=deliveries, data=st.data())
def test_every_half_counts_once_whatever_the_order_duplicates_and_races(arrivals, data):
    store = Store()
    waiting, planned = list(arrivals), []
    while waiting or planned:
        if waiting and (not planned or data.draw(st.booleans(), label="plan another before writing")):
            delivery = waiting.pop(0)
            entry = plan(store, delivery)
            if entry is not None:
                planned.append((delivery, entry))
            continue
        delivery, entry = planned.pop(data.draw(st.integers(0, len(planned) - 1), label="write"))
        if not store.write(entry):  # lost a race: read again and plan again
            entry = plan(store, delivery)
            if entry is not None:
                planned.append((delivery, entry))

    starts = {q for q, half in arrivals if half == "start"}
    finishes = {q for q, half in arrivals if half == "finish"}
    caller, workgroup = caller_scope(CALLER.key), workgroup_scope("primary")
    both = starts & finishes

    def spent(qs: set[int]) -> Counts:
        return sum((Counts.of(cost(q)) for q in qs), Counts())

    def booked(scope: str) -> Counts:
        return Counts(**{name: store.counts[f"{scope} {name}"] for name in Counts().as_dict()})

    # a minute bucket and an hour bucket count each query: twice over all buckets
    assert booked(caller) == replace(spent(both), queries=2 * len(starts))
    assert booked(workgroup) == replace(spent(finishes), queries=2 * len(finishes))
    assert sorted(store.ids.get(caller, [])) == sorted(f"q{q}" for q in starts)
    assert sorted(store.ids.get(workgroup, [])) == sorted(f"q{q}" for q in finishes)
    assert store.regions.get(caller, set()) == set().union(*(regions(q) for q in both))
    assert sorted(store.billed) == sorted(f"q{q}" for q in both)  # the bytes reach the caller once
