"""The month's batch at the incident's scale against the default configuration's fixed daily ceilings.

The bench's month runs a smaller batch than the incident's (for its time); this computes, without
running it, where the same month at the incident's 672 queries a night passes the fixed ceilings.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from devtools.month_traffic import MonthTraffic
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.cost import estimate


def ceilings_at_scale(batch_queries: int = 672) -> dict[str, Any]:
    """Where the batch of a month at `batch_queries` a night (the incident's: 672) passes the fixed ceilings.

    The default configuration's daily ceilings (queries and cost in a sliding 24 h) on the generator's
    own nights; pure: the bench's month runs a smaller batch for time, this says what the same month at
    the incident's scale meets without running it. Per ceiling, the first moment of each day past it.
    """
    traffic = MonthTraffic(batch_queries=batch_queries)
    config = AthenaWatchConfig()
    rules = config.caller_rules(traffic.batch_function)
    cost = estimate(
        traffic.base.scanned_bytes,
        cross_region=True,
        usd_per_tb=config.usd_per_tb,
        transfer_usd_per_gb=config.transfer_usd_per_gb,
    )
    usd = cost.total_micros / 1_000_000
    queries = traffic.queries()
    starts = [q.query.started_at for q in queries if q.caller == traffic.batch_function]
    passed: dict[str, dict[str, str]] = {"count": {}, "cost": {}}
    first = 0
    for index, at in enumerate(starts):
        while starts[first] <= at - timedelta(hours=24):
            first += 1
        in_day = index + 1 - first
        for ceiling, over in (
            ("count", in_day > rules.max_queries_per_day),
            ("cost", in_day * usd > rules.max_cost_per_day_usd),
        ):
            if over:
                passed[ceiling].setdefault(f"{at:%Y-%m-%d}", at.isoformat(timespec="seconds"))
    return {
        "batch_queries": batch_queries,
        "month_end_queries": sum(q.job == "month-end run" for q in queries),
        "usd_per_query": round(usd, 4),
        "max_queries_per_day": rules.max_queries_per_day,
        "max_cost_per_day_usd": rules.max_cost_per_day_usd,
        "passes_daily_count": sorted(passed["count"].values()),
        "passes_daily_cost": sorted(passed["cost"].values()),
    }
