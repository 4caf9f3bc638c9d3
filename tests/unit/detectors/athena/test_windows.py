"""The counter buckets: window and day spans, and adding buckets back up into totals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.windows import Counts, Span, day_span, totals_of, window_span

AT = datetime(2026, 11, 28, 0, 3, 45, tzinfo=UTC)


def test_the_window_ends_in_the_minute_of_at_and_the_day_spans_24_hours():
    assert window_span(AT, 5) == Span("M#2026-11-27T23:59", "M#2026-11-28T00:03")
    assert window_span(AT, 1) == Span("M#2026-11-28T00:03", "M#2026-11-28T00:03")
    assert day_span(AT) == Span("H#2026-11-27T01", "H#2026-11-28T00")


def test_counts_of_a_cost_round_trip_through_an_item():
    cost = QueryCost(scanned_bytes=7, cross_region_bytes=3, scan_micros=11, transfer_micros=2)
    counts = Counts.of(cost)
    assert counts == Counts(queries=0, scanned=7, cost=13, transfer=2, xbytes=3)
    assert Counts.read({name: Decimal(value) for name, value in counts.as_dict().items()}) == counts
    assert Counts.read({}) == Counts()


def test_totals_add_the_minutes_for_the_window_and_the_hours_for_the_day():
    minutes = [
        {"queries": Decimal(2), "ids": {"b", "a"}},
        {"queries": Decimal(1), "ids": {"c"}},
    ]
    hours = [
        {"queries": Decimal(5), "scanned": Decimal(100), "cost": Decimal(9), "regions": {"eu-west-1"}},
        {"queries": Decimal(1), "transfer": Decimal(4), "xbytes": Decimal(50), "regions": {"ap-northeast-1"}},
    ]
    assert totals_of(minutes, hours) == Totals(
        window_queries=3,
        day_queries=6,
        day_scanned_bytes=100,
        day_cost_micros=9,
        day_cross_region_bytes=50,
        day_transfer_micros=4,
        remote_regions=frozenset({"eu-west-1", "ap-northeast-1"}),
        recent_query_ids=("a", "b", "c"),
    )
    assert totals_of([], []) == Totals()


def test_minute_buckets_give_their_starts_and_latest_id_and_hour_buckets_their_paces():
    minutes = [
        {"sk": "M#2026-11-28T00:02", "queries": Decimal(2), "secs": {Decimal(50), Decimal(5)}, "last": "b"},
        {"sk": "M#2026-11-28T00:03", "queries": Decimal(1), "secs": {Decimal(1)}, "last": "c"},
        {"sk": "M#2026-11-28T00:01", "queries": Decimal(3), "ids": {"x", "w"}},  # the earlier shape
    ]
    hours = [
        {"sk": "H#2026-11-27T21", "queries": Decimal(5)},  # too few starts in any window: no pace noted
        {"sk": "H#2026-11-27T22", "queries": Decimal(9), "pace": Decimal(90)},
        {"sk": "H#2026-11-27T23", "queries": Decimal(9), "pace": Decimal(120)},
        {"sk": "H#2026-11-28T00", "queries": Decimal(6), "pace": Decimal(400)},
    ]
    totals = totals_of(minutes, hours, hour="H#2026-11-28T00")
    assert totals.window_queries == 6
    assert totals.recent_query_ids == ("b", "c", "w", "x")
    assert totals.starts == tuple(
        datetime(2026, 11, 28, 0, minute, second, tzinfo=UTC) for minute, second in ((2, 5), (2, 50), (3, 1))
    )
    assert (totals.earlier_pace, totals.hour_pace) == (120, 400)
    assert totals.earlier_starts == 18  # the earlier hours' (those with a pace noted), not the current one's
    # an hour not yet booked has no pace of its own: every bucket read is an earlier hour's
    later = totals_of([], hours, hour="H#2026-11-28T01")
    assert (later.earlier_pace, later.earlier_starts) == (400, 24)
