"""Cost-paced evidence: fewer starts and a shorter margin for a dear caller, more for a cheap one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from guardrail.detectors.athena.cost import estimate
from guardrail.detectors.athena.pacing import (
    EVIDENCE_USD,
    FEWEST_STARTS,
    LONGEST_MARGIN_MINUTES,
    MOST_STARTS,
    SHORTEST_MARGIN_MINUTES,
    paced_margin_minutes,
    starts_needed,
    usd_per_query,
)

#: The issue's query: 1.6 GB read across regions ($0.152); the replay's: 1.2 GB ($0.114).
ISSUES = estimate(int(1.6 * 2**30), cross_region=True, usd_per_tb=5.0, transfer_usd_per_gb=0.09).total_micros
REPLAYS = estimate(int(1.2 * 2**30), cross_region=True, usd_per_tb=5.0, transfer_usd_per_gb=0.09).total_micros
#: A 100 MB query in Athena's own region: $0.0005.
LOCAL = estimate(100 * 2**20, cross_region=False, usd_per_tb=5.0, transfer_usd_per_gb=0.09).total_micros

costs = st.floats(min_value=0, max_value=1_000, allow_nan=False)


def test_a_callers_cost_per_query_is_its_days_mean_and_nothing_when_none_is_known():
    assert usd_per_query(10 * REPLAYS, 10) == REPLAYS / 1e6
    assert usd_per_query(0, 120) == 0.0  # failed or DDL queries, or none finished yet
    assert usd_per_query(5, 0) == 0.0


def test_acceleration_reads_four_starts_of_a_dear_caller_and_up_to_twelve_of_a_cheap_one():
    assert starts_needed(ISSUES / 1e6) == starts_needed(REPLAYS / 1e6) == FEWEST_STARTS == 4
    assert starts_needed(0.05) == 10  # $0.50 buys 10 queries at $0.05
    assert starts_needed(LOCAL / 1e6) == MOST_STARTS == 12
    assert starts_needed(0.0) == FEWEST_STARTS  # no cost known: unpaced


def test_a_slow_run_is_given_the_minutes_its_spend_takes_to_reach_the_evidence_budget():
    per_minute_at_150_s = 0.4 * REPLAYS / 1e6  # $0.0456 a minute
    assert paced_margin_minutes(per_minute_at_150_s) == EVIDENCE_USD / per_minute_at_150_s  # 11 min
    assert paced_margin_minutes(20 * ISSUES / 1e6) == SHORTEST_MARGIN_MINUTES  # a 3 s loop's minute: $3
    assert paced_margin_minutes(0.4 * LOCAL / 1e6) == LONGEST_MARGIN_MINUTES  # 100 MB every 150 s
    assert paced_margin_minutes(0.0) is None


@given(costs, costs)
def test_dearer_queries_never_ask_for_more_starts_and_the_starts_asked_stay_within_the_budget(a, b):
    low, high = sorted((a, b))
    if low > 0:
        assert starts_needed(high) <= starts_needed(low)
    for cost in (a, b):
        needed = starts_needed(cost)
        assert FEWEST_STARTS <= needed <= MOST_STARTS
        if cost > 0 and needed > FEWEST_STARTS:  # above the floor, the evidence costs at most the budget
            assert needed * cost <= EVIDENCE_USD + 1e-9


@given(costs, costs)
def test_a_dearer_run_is_never_given_a_longer_margin_and_the_margin_stays_within_the_budget(a, b):
    low, high = sorted((a, b))
    if low > 0:
        paced_low, paced_high = paced_margin_minutes(low), paced_margin_minutes(high)
        assert paced_low is not None and paced_high is not None and paced_high <= paced_low
    for rate in (a, b):
        margin = paced_margin_minutes(rate)
        if rate <= 0:
            assert margin is None
            continue
        assert margin is not None and SHORTEST_MARGIN_MINUTES <= margin <= LONGEST_MARGIN_MINUTES
        if margin > SHORTEST_MARGIN_MINUTES:  # above the floor, the margin costs at most the budget
            assert margin * rate <= EVIDENCE_USD + 1e-9
