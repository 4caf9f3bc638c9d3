"""Booking a query's two halves: every order, duplicates, the caller billed only when known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guardrail.detectors.athena.booking import Bump, QueryRecord, Spend, book_finish, book_start
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.query_events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.windows import Counts

AT = datetime(2026, 11, 28, 2, 10, 30, tzinfo=UTC)
CALLER = Caller("arn:aws:sts::123456789012:assumed-role/r/nightly-batch", "AssumedRole", "nightly-batch")
COST = QueryCost(scanned_bytes=5_000, cross_region_bytes=5_000, scan_micros=700, transfer_micros=40)
REGIONS = frozenset({"ap-northeast-1"})
BYTES = Counts(scanned=5_000, cost=740, transfer=40, xbytes=5_000)


def started(at: datetime = AT, query_id: str = "q1") -> QueryStarted:
    return QueryStarted("e1", query_id, at, region="us-east-1", workgroup="primary", caller=CALLER)


def finished(at: datetime = AT + timedelta(seconds=20), query_id: str = "q1") -> QueryFinished:
    return QueryFinished("e2", query_id, at, region="us-east-1", workgroup="primary", state="SUCCEEDED")


def by_item(bumps: tuple[Bump, ...]) -> dict[tuple[str, str], tuple[Counts, set[str], set[str]]]:
    return {(b.scope, b.bucket): (b.counts, set(b.query_ids), set(b.regions)) for b in bumps}


CALLER_SCOPE = f"ATHENA#CALLER#{CALLER.key}"
WORKGROUP_SCOPE = "ATHENA#WORKGROUP#primary"
MINUTE, HOUR = "M#2026-11-28T02:10", "H#2026-11-28T02"


def test_a_start_first_counts_one_query_for_the_caller_and_bills_nothing():
    entry = book_start(QueryRecord(), started())
    assert entry is not None
    assert (entry.started_before, entry.finished_before) == (False, False)
    assert (entry.start, entry.spend, entry.billed, entry.latest) == (started(), None, None, AT)
    assert by_item(entry.bumps) == {
        (CALLER_SCOPE, MINUTE): (Counts(queries=1), {"q1"}, set()),
        (CALLER_SCOPE, HOUR): (Counts(queries=1), set(), set()),
    }


def test_a_finish_after_its_start_counts_the_workgroup_and_bills_the_caller():
    record = QueryRecord(caller=CALLER, started_at=AT)
    entry = book_finish(record, finished(), COST, REGIONS)
    assert entry is not None
    assert (entry.started_before, entry.finished_before) == (True, False)
    assert entry.spend == Spend(at=AT + timedelta(seconds=20), cost=COST, remote_regions=REGIONS)
    assert entry.billed == CALLER
    assert by_item(entry.bumps) == {
        (WORKGROUP_SCOPE, MINUTE): (Counts(queries=1), {"q1"}, set()),
        (WORKGROUP_SCOPE, HOUR): (Counts(queries=1) + BYTES, set(), set(REGIONS)),
        (CALLER_SCOPE, HOUR): (BYTES, set(), set(REGIONS)),  # the query itself was counted at its start
    }


def test_a_finish_first_counts_the_workgroup_and_bills_no_caller_yet():
    entry = book_finish(QueryRecord(), finished(), COST, REGIONS)
    assert entry is not None
    assert (entry.started_before, entry.finished_before, entry.billed) == (False, False, None)
    assert {scope for scope, _ in by_item(entry.bumps)} == {WORKGROUP_SCOPE}


def test_a_start_after_its_finish_counts_the_query_and_bills_its_bytes_in_one_bump_per_item():
    record = QueryRecord(spend=Spend(at=AT + timedelta(seconds=20), cost=COST, remote_regions=REGIONS))
    entry = book_start(record, started())
    assert entry is not None
    assert (entry.started_before, entry.finished_before) == (False, True)
    assert entry.billed == CALLER
    assert entry.latest == AT + timedelta(seconds=20)
    assert by_item(entry.bumps) == {
        (CALLER_SCOPE, MINUTE): (Counts(queries=1), {"q1"}, set()),
        (CALLER_SCOPE, HOUR): (Counts(queries=1) + BYTES, set(), set(REGIONS)),
    }


def test_bytes_are_booked_in_the_hour_the_query_finished():
    start = datetime(2026, 11, 28, 2, 59, 50, tzinfo=UTC)
    record = QueryRecord(spend=Spend(at=start + timedelta(seconds=30), cost=COST))
    entry = book_start(record, started(at=start))
    assert entry is not None
    assert by_item(entry.bumps)[(CALLER_SCOPE, "H#2026-11-28T02")][0] == Counts(queries=1)
    assert by_item(entry.bumps)[(CALLER_SCOPE, "H#2026-11-28T03")][0] == BYTES


@pytest.mark.parametrize(
    "record",
    [
        QueryRecord(caller=CALLER, started_at=AT),
        QueryRecord(caller=CALLER, started_at=AT, spend=Spend(at=AT, cost=COST)),
    ],
)
def test_a_second_start_is_a_duplicate(record):
    assert book_start(record, started()) is None


@pytest.mark.parametrize(
    "record",
    [
        QueryRecord(spend=Spend(at=AT, cost=COST)),
        QueryRecord(caller=CALLER, started_at=AT, spend=Spend(AT, COST)),
    ],
)
def test_a_second_finish_is_a_duplicate(record):
    assert book_finish(record, finished(), COST, REGIONS) is None


def test_bumps_of_different_items_do_not_add():
    one = Bump(CALLER_SCOPE, MINUTE, Counts(queries=1), AT)
    with pytest.raises(ValueError, match="cannot add"):
        one + Bump(WORKGROUP_SCOPE, MINUTE, Counts(queries=1), AT)
    assert (one + one).counts == Counts(queries=2)


def test_a_query_away_from_home_is_booked_under_its_place_both_halves_alike():
    away = ("222222222222", "us-west-2")
    start = book_start(QueryRecord(), started(), away=away)
    finish = book_finish(QueryRecord(caller=CALLER, started_at=AT), finished(), COST, REGIONS, away=away)
    assert start is not None and finish is not None
    assert {b.scope for b in start.bumps} == {f"{CALLER_SCOPE}@222222222222:us-west-2"}
    assert {b.scope for b in finish.bumps} == {
        f"{WORKGROUP_SCOPE}@222222222222:us-west-2",
        f"{CALLER_SCOPE}@222222222222:us-west-2",
    }


OTHER = Caller("arn:aws:iam::123456789012:role/payments-api-role", "AssumedRole", "payments-api")


def claimed_by(caller: Caller, spend: Spend | None = None) -> QueryRecord:
    """The record after a verified claim naming `caller` booked the start."""
    return QueryRecord(caller=caller, started_at=AT, spend=spend, claimed=True)


def test_cloudtrail_naming_the_claimed_caller_is_a_duplicate():
    assert book_start(claimed_by(CALLER), started()) is None


def test_cloudtrail_naming_another_caller_than_the_claim_counts_its_own_caller():
    entry = book_start(claimed_by(OTHER), started())
    assert entry is not None
    assert (entry.start, entry.replaces, entry.started_before, entry.billed) == (started(), OTHER, True, None)
    assert by_item(entry.bumps) == {
        (CALLER_SCOPE, MINUTE): (Counts(queries=1), {"q1"}, set()),
        (CALLER_SCOPE, HOUR): (Counts(queries=1), set(), set()),
    }


def test_after_the_finish_cloudtrails_caller_is_billed_the_bytes_too():
    spend = Spend(at=AT + timedelta(seconds=20), cost=COST, remote_regions=REGIONS)
    entry = book_start(claimed_by(OTHER, spend=spend), started())
    assert entry is not None
    assert (entry.finished_before, entry.billed) == (True, CALLER)
    assert by_item(entry.bumps)[(CALLER_SCOPE, HOUR)] == (Counts(queries=1) + BYTES, set(), set(REGIONS))


def test_a_claim_never_takes_a_start_from_cloudtrail_nor_from_another_claim():
    claim = QueryStarted("e9", "q1", AT, region="us-east-1", workgroup="primary", caller=OTHER, claimed=True)
    assert book_start(QueryRecord(caller=CALLER, started_at=AT), claim) is None  # CloudTrail's, first
    assert book_start(claimed_by(CALLER), claim) is None
    assert book_start(QueryRecord(caller=CALLER, started_at=AT), started()) is None  # CloudTrail twice
