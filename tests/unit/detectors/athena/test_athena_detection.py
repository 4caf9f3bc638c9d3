from datetime import UTC, datetime

from guardrail.config import AthenaWatchConfig, CrossRegionAction
from guardrail.detectors.athena.cost import GB, MB, billed_bytes, estimate
from guardrail.detectors.athena.detect import (
    Rule,
    Totals,
    caller_actions,
    cross_region_breach,
    limit_breaches,
    quiet_hours_breach,
)
from guardrail.detectors.athena.query_events import Caller
from guardrail.detectors.athena.sql import referenced_tables

LAMBDA = Caller(
    arn="arn:aws:iam::123456789012:role/batch-role", identity_type="AssumedRole", function="batch"
)
USER = Caller(arn="arn:aws:iam::123456789012:user/alice", identity_type="IAMUser")


def test_cost_has_a_10_mb_minimum_and_counts_transfer_only_across_regions():
    assert billed_bytes(0) == 10 * MB
    assert billed_bytes(10 * MB + 1) == 11 * MB
    local = estimate(2**40, cross_region=False, usd_per_tb=5.0, transfer_usd_per_gb=0.09)
    assert (local.scan_micros, local.transfer_micros) == (5_000_000, 0)
    remote = estimate(100 * GB, cross_region=True, usd_per_tb=5.0, transfer_usd_per_gb=0.09)
    assert remote.transfer_micros == 9_000_000


def test_referenced_tables_reads_from_and_join_but_not_ctes_or_strings():
    sql = """WITH recent AS (SELECT * FROM "Sales"."Orders" WHERE note = 'from fake.table')
             SELECT * FROM recent JOIN customers c ON true -- join other.comment
             LEFT JOIN awsdatacatalog.ref.regions r ON true"""
    assert referenced_tables(sql, "sales") == [
        ("sales", "orders"),
        ("sales", "customers"),
        ("ref", "regions"),
    ]


def test_limit_breaches_name_each_broken_limit():
    rules = AthenaWatchConfig().caller
    assert limit_breaches(rules, Totals(window_queries=60, day_queries=10_000), window_minutes=5) == []
    over = Totals(window_queries=61, day_queries=10_001, day_cost_micros=200_010_000)
    assert [b.rule for b in limit_breaches(rules, over, window_minutes=5)] == [
        Rule.QUERY_RATE,
        Rule.DAILY_QUERIES,
        Rule.DAILY_COST,
    ]


def test_quiet_hours_wrap_past_midnight():
    rules = AthenaWatchConfig.parse({"caller": {"activeHoursUtc": "22:00-09:00"}}).caller
    assert quiet_hours_breach(rules, datetime(2026, 11, 28, 23, 30, tzinfo=UTC)) is None
    assert quiet_hours_breach(rules, datetime(2026, 11, 28, 8, 59, tzinfo=UTC)) is None
    breach = quiet_hours_breach(rules, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    assert breach is not None and breach.rule is Rule.QUIET_HOURS


def test_cross_region_alerts_a_lambda_caller_by_default_and_throttles_when_configured():
    totals = Totals(day_cross_region_bytes=10 * GB, remote_regions=frozenset({"ap-northeast-1"}))
    breach = cross_region_breach(totals, "us-west-2")
    assert breach is not None and "ap-northeast-1" in breach.reason
    [alert] = caller_actions(AthenaWatchConfig(), LAMBDA, "primary", [breach], {})
    assert alert.throttle_function is None
    throttle = AthenaWatchConfig(cross_region=CrossRegionAction.THROTTLE)
    assert caller_actions(throttle, LAMBDA, "primary", [breach], {})[0].throttle_function == "batch"
    assert (
        caller_actions(AthenaWatchConfig(cross_region=CrossRegionAction.OFF), LAMBDA, "wg", [breach], {})
        == []
    )


def test_runaway_user_disables_the_workgroup_only_where_configured():
    rate = limit_breaches(AthenaWatchConfig().caller, Totals(window_queries=99), window_minutes=5)
    [plain] = caller_actions(AthenaWatchConfig(), USER, "adhoc", rate, {})
    assert (plain.throttle_function, plain.disable_workgroup) == (None, None)
    config = AthenaWatchConfig.parse({"workgroups": {"adhoc": {"disableOnRunaway": True}}})
    [strict] = caller_actions(config, USER, "adhoc", rate, {})
    assert strict.disable_workgroup == "adhoc"
