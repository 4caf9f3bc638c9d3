"""The watch-cost bench's traffic and arithmetic, and the busy account's shape (pure: no deployment)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from devtools import bench_busy
from devtools import bench_watch_cost as bench
from devtools.aws_meter import Usage
from devtools.bench_busy import CALLERS, QUERIES_PER_MONTH, BusyAccount

START = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize("rate", [1, 1000])
def test_each_rate_is_callers_in_turn_evenly_spaced_in_one_workgroup(rate):
    traffic = bench.Traffic(rate, START, warm_up=5, measured=15)
    queries = list(traffic.queries(traffic.replays()))
    assert len(queries) == 20
    assert {replay.workgroup for replay, _ in queries} == {traffic.workgroup}
    assert Counter(replay.function for replay, _ in queries) == {f"job-{rate}-{n}": 2 for n in range(10)}
    gaps = {b.started_at - a.started_at for (_, a), (_, b) in pairwise(queries)}
    assert gaps == {timedelta(seconds=60 / rate)}
    deliveries = traffic.deliveries()
    assert 40 <= len(deliveries) < 48  # a start and a finish each, a few twice
    assert [d[1] for d in deliveries] == sorted(d[1] for d in deliveries)


def test_billed_duration_is_cpu_at_the_memory_share_plus_a_round_trip_per_call():
    used = Usage(calls=Counter({"dynamodb:TransactWriteItems": 1, "dynamodb:Query": 2, "athena:X": 1}))
    # 10 ms of a full vCPU at 1,769 MB is 69.1 ms at 256 MB; round trips 15 + 2 x 6 + 40
    assert bench.billed_ms(0.010, used, 256) == 69 + 1 + 15 + 12 + 40
    assert bench.billed_ms(0.0, Usage(), 256) == 1  # Lambda bills at least a millisecond


def test_a_rate_is_priced_per_1000_queries_from_what_it_used():
    measured = bench.Measured(queries=500)
    for _ in range(1000):
        measured.add("counted", 0.0, Usage(write_units=9, read_units=3.5), (400, 2), 256)
    row = bench.priced(measured, 256)
    assert row["write_units_per_query"] == 18 and row["read_units_per_query"] == 7
    assert row["invocations_per_query"] == 2
    by_item = row["usd_per_1000_by_item"]
    assert by_item["dynamodb_writes"] == pytest.approx(18_000 * 0.625 / 1e6)
    assert by_item["lambda_requests"] == pytest.approx(2_000 * 0.2 / 1e6)
    # 400 bytes + Lambda's 350 + 26 per event (2 lines + 3 platform lines): 880 bytes an invocation
    assert row["log_bytes_per_invocation"] == 880
    assert row["usd_per_1000_queries"] == round(sum(by_item.values()), 4)


def test_the_busy_account_runs_a_million_queries_a_month_from_ten_callers():
    busy = BusyAccount()
    queries = busy.queries()
    day = [q for q in queries if busy.start - timedelta(days=1) <= q.started_at < busy.start]
    assert len(day) == pytest.approx(QUERIES_PER_MONTH / 30, rel=0.03)
    per_caller = Counter(q.caller for q in day)
    assert len(per_caller) == CALLERS and max(per_caller.values()) < 3_600
    office = sum(1 for q in day if 8 <= q.started_at.hour < 20)
    assert office / len(day) == pytest.approx(2 / 3, abs=0.02)  # twice as dense for half the day
    start = busy.start_event(day[0])
    assert start["detail"]["userIdentity"]["principalId"].endswith(f":{day[0].caller}")


def test_a_full_baseline_is_sized_and_priced_as_the_hourly_write_it_is():
    full = bench.baseline_at_its_bound()
    assert 100_000 < full["item_bytes"] < 400 * 1024  # bounded under DynamoDB's item limit
    assert full["write_units_per_fold"] == -(-full["item_bytes"] // 1024)
    assert full["usd_per_scope_month"] == round(720 * full["write_units_per_fold"] * 0.625 / 1e6, 3)


def test_the_busy_account_on_a_brand_new_deployment_has_no_traffic_before_it_and_says_so():
    fresh = bench_busy.FRESH
    queries = fresh.queries()
    assert fresh.history_queries() == [] and min(q.started_at for q in queries) >= fresh.start
    assert max(q.started_at for q in queries) < fresh.start.replace(hour=9, minute=20)
    assert BusyAccount().history_queries()  # the published run learns its days before
    page = "\n".join(
        bench_busy.fresh_markdown(
            {
                "driven_from": "2026-10-15 07:50",
                "driven_to": "09:20",
                "seed": fresh.seed,
                "driven_queries": len(queries),
                "events_delivered": 5_447,
                "throttles": [],
                "alerts": 0,
            }
        )
    )
    assert "brand-new deployment" in page and f"seed {fresh.seed}" in page
    assert "**Throttles of legitimate callers: 0**" in page


def _starts_first(traffic: bench.Traffic) -> float:
    """The share of queries whose CloudTrail start reaches the watch before their state change."""
    first: dict[int, str] = {}
    for index, _, event in traffic.deliveries():
        first.setdefault(index, event["detail-type"])
    return sum(kind == "AWS API Call via CloudTrail" for kind in first.values()) / len(first)


def test_the_long_queries_run_reaches_the_watch_start_first_the_others_mostly_finish_first():
    assert _starts_first(bench.Traffic(1000, START, warm_up=5, measured=45)) < 0.1
    long = bench.Traffic(1000, START, warm_up=5, measured=45, query_seconds=bench.LONG_QUERY_SECONDS)
    assert _starts_first(long) == 1.0
    assert long.workgroup != bench.Traffic(1000, START).workgroup
