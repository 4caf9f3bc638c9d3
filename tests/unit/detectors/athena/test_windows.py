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
