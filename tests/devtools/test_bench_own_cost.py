"""The own-cost model's arithmetic, from given counts (the bench itself counts the synthesized app)."""

from devtools import bench_own_cost

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


def test_markdown_lists_every_line_and_the_total():
    own = {
        "monthly": bench_own_cost.monthly(COUNTS),
        "total_usd": 14.24,
        "per_1000_athena_queries_usd": bench_own_cost.per_1000_athena_queries(COUNTS),
        "prices": bench_own_cost.PRICES,
        "assumptions": bench_own_cost.ASSUMPTIONS,
    }
    page = "\n".join(bench_own_cost.markdown(own))
    assert "## The guardrail's own monthly cost" in page
    assert "| alarms | 11 | 1.10 |" in page
    assert "| **total** | | **14.24** |" in page
    assert "lambda arm per gb second 0.0000133334" in page
