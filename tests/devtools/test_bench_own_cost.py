"""The own-cost model's arithmetic, from given counts (the bench itself counts the synthesized app)."""

from devtools import bench_own_cost, bench_watch_cost

COUNTS = {
    "alarms": 11,
    "dashboards": 1,
    "queues": 2,
    "memory_mb": {"kill-switch": 512, "recursion-watch": 256, "invocation-scan": 512, "athena-watch": 256},
}


def test_standing_items_cost_their_list_price():
    lines = bench_own_cost.monthly(COUNTS)
    assert lines["alarms"] == {"quantity": 11, "usd": 1.1}
    assert lines["dashboard"] == {"quantity": 1, "usd": 3.0}
    assert lines["dead-letter queues (no requests while idle)"]["usd"] == 0
    assert lines["scan: EMF metrics sent every minute"] == {"quantity": 3, "usd": 0.9}


def test_the_idle_scan_runs_every_minute_on_two_account_level_metrics_only():
    lines = bench_own_cost.monthly(COUNTS)
    minutes = 30 * 24 * 60
    assert lines["scan: Lambda requests"]["quantity"] == minutes
    # idle: no sweep by default, so no metric per function: 2 account-level metrics a minute
    assert lines["scan: GetMetricData metrics"] == {"quantity": minutes * 2, "usd": 0.86}


ROW = {
    "write_units_per_query": 18.1,
    "read_units_per_query": 7.2,
    "invocations_per_query": 2.1,
    "billed_ms_per_invocation": 95.0,
    "log_bytes_per_invocation": 1_600,
    "usd_per_1000_by_item": {"dynamodb_writes": 0.0113, "logs": 0.0016},
    "calls_per_query": {"dynamodb:TransactWriteItems": 2.0},
    "usd_per_1000_queries": 0.0146,
}
WATCH = {
    "rates_per_minute": {"1": ROW, "1000": ROW | {"usd_per_1000_queries": 0.0149}},
    "long_queries": {"rate_per_minute": 1000, "query_seconds": 180.0, **ROW, "usd_per_1000_queries": 0.0151},
    "usd_per_1000_queries_at_most": 0.0151,
    "emf_metrics": ["AthenaEventsReceived[service=athena-watch]"],
    "monthly_usd": {"10000": 0.45, "1000000": 15.2},
    "baseline_at_its_bound": {
        "item_bytes": 138_895,
        "write_units_per_fold": 136,
        "usd_per_scope_month": 0.061,
    },
    "memory_mb": 256,
    "callers": 10,
    "warm_up_queries": 40,
    "measured_queries": 200,
    "prices": bench_watch_cost.PRICES,
    "assumptions": bench_watch_cost.ASSUMPTIONS,
}


def test_markdown_lists_every_line_and_the_total_then_the_measured_watch():
    own = {
        "monthly": bench_own_cost.monthly(COUNTS),
        "total_usd": 14.24,
        "prices": bench_own_cost.PRICES,
        "assumptions": bench_own_cost.ASSUMPTIONS,
    }
    page = "\n".join(bench_own_cost.markdown(own, WATCH))
    assert "## The guardrail's own monthly cost" in page
    assert "| alarms | 11 | 1.10 |" in page
    assert "| **total** | | **14.24** |" in page
    assert "lambda arm per gb second 0.0000133334" in page
    assert "Each 1,000 Athena queries add at most $0.0151 (measured" in page
    assert "| 1,000 | 18.1 | 7.2 | 2.1 | 95.0 | 1,600 | 0.0149 |" in page
    assert "| 1,000, queries of 180 s (start first) | 18.1 | 7.2 | 2.1 | 95.0 | 1,600 | 0.0151 |" in page
    assert "At the dearest row, per 1,000 queries" in page
    assert "dynamodb per million write units 0.625" in page
    assert "10,000 queries $0.45, 1,000,000 queries $15.20" in page
    assert "is 139 KB, and each scope's hourly fold writes it whole: 136 write units, $0.061 a month" in page
