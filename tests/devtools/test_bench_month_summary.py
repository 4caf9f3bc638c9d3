"""The month bench's summary: digests counted apart from the alerts, and Custodian's policy on the month."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from devtools.bench_month import Tally, _peak, custodian_on_month, markdown, summary
from devtools.month_traffic import MonthTraffic

TRAFFIC = MonthTraffic(days=2)


def message(document: dict) -> dict:
    return {"Message": json.dumps(document)}


def test_digests_are_counted_apart_and_what_they_counted_is_listed():
    told = {"event_type": "alerted", "subject": "batch", "evidence": {"rules": "cross-region"}}
    digest = {
        "event_type": "digest",
        "day": "2026-11-01",
        "conditions": [
            {"subject": "batch", "condition": "cross-region read of sales.orders", "count": 118},
            {"subject": "workgroup primary", "condition": "loop signature steady-growth", "count": 2},
        ],
    }
    tally = Tally(deliveries=10, alerts=[message(told), message(digest), message(digest)])
    month = summary(TRAFFIC, TRAFFIC.queries(), tally) | {"at_incident_scale": _scale()}
    assert (month["alerts"], month["digests"], month["alerts_by_kind"]) == (1, 2, {"alerted": 1})
    assert month["digested_by_condition"] == {
        "batch: cross-region read of sales.orders": 236,
        "workgroup primary: loop signature steady-growth": 4,
    }
    page = "\n".join(markdown(month))
    assert "| **alerts that are not digests** | **1** |" in page
    assert "| digests (`event_type` `digest`, one a day at most) | 2 |" in page
    assert "| `batch: cross-region read of sales.orders` | 236 |" in page


def test_custodian_policy_on_the_month_sees_each_functions_busiest_window_and_throttles_nothing():
    custodian = custodian_on_month(TRAFFIC.queries())
    first = custodian["variants"][0]
    assert (first["window_minutes"], first["threshold"]) == (5, 60)
    # one query every 40 s: at most 8 starts in any 5 minutes; the ETL's two statements an hour
    assert first["peak"] == {"nightly-batch": 8, "hourly-etl": 2}
    assert all(v["would_throttle"] == [] for v in custodian["variants"])


def test_the_busiest_window_counts_starts_less_than_a_window_apart():
    at = datetime(2026, 11, 1, tzinfo=UTC)
    times = [at, at + timedelta(minutes=1), at + timedelta(minutes=5), at + timedelta(minutes=5, seconds=1)]
    assert _peak(times, timedelta(minutes=5)) == 3


def _scale() -> dict:
    return {
        "batch_queries": 672,
        "month_end_queries": 2010,
        "usd_per_query": 0.1,
        "max_queries_per_day": 1000,
        "max_cost_per_day_usd": 200.0,
        "passes_daily_count": [],
        "passes_daily_cost": [],
    }
