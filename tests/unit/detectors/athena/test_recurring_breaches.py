"""Which alerted breaches are recurring conditions, and what makes two of them the same condition."""

from __future__ import annotations

from datetime import UTC, datetime

from guardrail.config import AthenaWatchConfig
from guardrail.config.athena_watch import Signature
from guardrail.detectors.athena.cost import GB
from guardrail.detectors.athena.detect import (
    Breach,
    Rule,
    Totals,
    caller_actions,
    cross_region_breach,
    notice,
    workgroup_actions,
)
from guardrail.detectors.athena.query_events import Caller

LAMBDA = Caller(
    arn="arn:aws:iam::123456789012:role/batch-role", identity_type="AssumedRole", function="batch"
)
TOTALS = Totals(day_cross_region_bytes=10 * GB, remote_regions=frozenset({"ap-northeast-1"}))
GROWTH = Breach(Signature.GROWTH, "up each day", enforce=False, baseline={"this_hour": 9})
LATE = Breach(Signature.AFTER_WINDOW, "still querying", enforce=False, baseline={"usual_hours_utc": [0, 1]})
RATE = Breach(Rule.QUERY_RATE, "99 queries in 5 min")


def test_a_cross_region_read_is_a_condition_only_where_its_tables_are_known():
    assert cross_region_breach(TOTALS, "us-west-2").condition is None  # a start: repeats it
    read = cross_region_breach(TOTALS, "us-west-2", {"sales.orders": "ap-northeast-1"}, 2 * GB).condition
    other = cross_region_breach(TOTALS, "us-west-2", {"sales.refunds": "ap-northeast-1"}, 2 * GB).condition
    assert read is not None and other is not None and read.parts != other.parts
    assert (read.size_bytes, read.in_full) == (2 * GB, True)
    assert read.summary == "cross-region read of sales.orders (ap-northeast-1) into Athena in us-west-2"


def test_a_recurring_breach_is_an_alert_of_its_own_without_a_period_key():
    read = cross_region_breach(TOTALS, "us-west-2", {"sales.orders": "ap-northeast-1"}, GB)
    user = Caller(arn="arn:aws:iam::123456789012:user/alice", identity_type="IAMUser")
    actions = caller_actions(AthenaWatchConfig(), user, "primary", [RATE, read, GROWTH], {})
    assert [a.rules for a in actions] == ["query-rate", "cross-region", "steady-growth"]
    plain, cross, growth = (
        notice(a, datetime(2026, 11, 2, tzinfo=UTC), ("123456789012", "us-west-2")) for a in actions
    )
    assert (plain.condition, plain.dedupe_key is not None) == (None, True)
    assert cross.condition == read.condition and cross.dedupe_key is None
    assert growth.condition is not None and not growth.condition.in_full  # the digest only


def test_informing_signatures_never_disable_a_workgroup_and_late_hours_name_the_usual_ones():
    config = AthenaWatchConfig.parse({"workgroups": {"primary": {"disableOnRunaway": True}}})
    only_informing = workgroup_actions(config, "primary", [GROWTH, LATE], {})
    assert [(a.rules, a.disable_workgroup) for a in only_informing] == [
        ("steady-growth", None),
        ("after-usual-window", None),
    ]
    late = only_informing[1].condition
    assert late is not None and late.in_full and late.parts == ("after-usual-window", "00,01")
    with_limit = workgroup_actions(config, "primary", [RATE, GROWTH], {})
    assert [(a.rules, a.disable_workgroup) for a in with_limit] == [
        ("query-rate", "primary"),
        ("steady-growth", None),
    ]


def test_a_throttling_signature_is_never_a_recurring_condition():
    enforced = Breach(Signature.GROWTH, "up each day", enforce=True, baseline={"this_hour": 9})
    [action] = caller_actions(AthenaWatchConfig(), LAMBDA, "primary", [enforced], {})
    assert action.throttle_function == "batch" and action.condition is None
