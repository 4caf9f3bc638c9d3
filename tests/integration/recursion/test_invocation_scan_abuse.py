"""Issue 20, item 8: the invocation scan can be neither blinded nor turned into an outage.

Every run goes through the scan's handler on moto, one scheduled event a minute; CloudWatch's
Lambda metrics are `put_metric_data` points (see `test_invocation_scan`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from devtools.lambda_runtime import lambda_context
from guardrail.detectors.invocation_scan import InvocationScanConfig
from guardrail.handlers import invocation_scan
from tests.conftest import ACCOUNT, REGION
from tests.integration.recursion.lambda_metrics import publish, steady

pytestmark = pytest.mark.slow  # minutes of metrics scanned through the handler


def run_at(start: datetime, minute: int) -> dict[str, Any]:
    """Run the scan's handler for minute `minute` after `start` (a new container each time)."""
    at = start + timedelta(minutes=minute, seconds=20)
    event = {
        "version": "0",
        "id": f"c8f5f0b8-0000-0000-0000-{minute:012d}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/runaway-guardrail-invocation-scan"],
        "detail": {},
    }
    return invocation_scan.handler(event, lambda_context("runaway-guardrail-invocation-scan"))


@pytest.fixture
def run_minute(aws, deployed, monkeypatch):
    """Run the scan's handler for minute `m` after the clock's start, with the deployed settings."""
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    start: datetime = deployed.clock()
    return lambda minute: run_at(start, minute)


def acted(answer: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["function"], r["result"]) for r in answer["results"]]


def test_a_burst_that_spends_a_drill_down_does_not_blind_the_scan_to_a_runaway_after_it(
    aws, deployed, make_function, run_minute
):
    """A 400-invocation burst at 03:00, then a runaway from 03:02: the runaway is still caught."""
    start = deployed.clock()
    make_function("public-api")
    make_function("nightly-batch")
    runaway = 4875.0  # 585,000 invocations in two hours
    publish(aws, "public-api", {**steady(50, minutes=125), 60: 420}, start)  # < 10x its baseline
    publish(aws, "nightly-batch", {**steady(2, minutes=62), **dict.fromkeys(range(62, 125), runaway)}, start)

    burst = run_minute(60)
    answers = [run_minute(minute) for minute in range(61, 65)]

    assert (burst["drilled_down"], acted(burst)) == (True, [])  # the burst is looked at: no runaway
    assert ("nightly-batch", "throttled") in [pair for answer in answers for pair in acted(answer)]
    assert deployed.reservation("nightly-batch") == 0
    assert deployed.reservation("public-api") is None


def test_the_same_function_bursting_again_does_not_cost_another_drill_down(
    aws, deployed, make_function, run_minute
):
    """A function already looked at this hour is watched by name: its next burst reads its own metric."""
    start = deployed.clock()
    make_function("public-api")
    make_function("orders-api")
    publish(aws, "public-api", {**steady(50, minutes=70), 60: 420, 63: 430}, start)
    publish(aws, "orders-api", steady(5, minutes=70), start)

    answers = {minute: run_minute(minute) for minute in range(60, 65)}

    assert [m for m, answer in answers.items() if answer["drilled_down"]] == [60]
    assert all(acted(answer) == [] for answer in answers.values())


def test_a_single_minute_spike_on_a_public_function_is_alerted_not_throttled(
    aws, deployed, make_function, run_minute
):
    """~320 requests in one minute (>= 300 and >= 10x its baseline), and then nothing unusual."""
    start = deployed.clock()
    make_function("public-api", reserved=20)
    publish(aws, "public-api", {**steady(20, minutes=70), 60: 320}, start)

    spike = run_minute(60)
    after = run_minute(61)

    assert acted(spike) == [("public-api", "unverified")]
    assert acted(after) == []
    assert deployed.reservation("public-api") == 20
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "unverified"
    assert "no sign of a loop" in alert["Document"]["unverified"]


def test_a_spike_that_lasts_is_a_loop_and_is_throttled_the_next_minute(
    aws, deployed, make_function, run_minute
):
    start = deployed.clock()
    make_function("public-api", reserved=20)
    publish(aws, "public-api", {**steady(20, minutes=60), 60: 320, 61: 640}, start)

    first, second = run_minute(60), run_minute(61)

    assert acted(first) == [("public-api", "unverified")]
    assert acted(second) == [("public-api", "throttled")]
    assert deployed.reservation("public-api") == 0


def test_a_spike_with_recursion_dropped_by_lambda_is_throttled_at_once(
    aws, deployed, make_function, run_minute
):
    start = deployed.clock()
    make_function("sqs-echo")
    publish(aws, "sqs-echo", {**steady(20, minutes=60), 60: 320}, start)
    publish(aws, "sqs-echo", {60: 4}, start, metric="RecursiveInvocationsDropped")

    assert acted(run_minute(60)) == [("sqs-echo", "throttled")]


def test_an_owner_who_raises_a_held_function_after_its_loop_ended_is_asked_to_restore_not_reverted(
    aws, deployed, make_function, run_minute
):
    """Throttled at 03:01; at 03:10 the owner, who fixed the loop, sets 20 again by hand."""
    start = deployed.clock()
    make_function("nightly-batch", reserved=20)
    publish(aws, "nightly-batch", {**steady(2, minutes=60), 60: 900, 61: 2400}, start)
    run_minute(60)
    assert acted(run_minute(61)) == [("nightly-batch", "throttled")]
    deployed.alerts()
    aws.client("lambda").put_function_concurrency(
        FunctionName="nightly-batch", ReservedConcurrentExecutions=20
    )

    first, second = run_minute(70), run_minute(71)

    assert acted(first) == [("nightly-batch", "alerted")]
    assert acted(second) == []  # asked once
    assert deployed.reservation("nightly-batch") == 20
    [alert] = deployed.alerts()
    assert "raised it by hand" in alert["Document"]["reason"]
    assert alert["Document"]["evidence"]["restore"] == {
        "action": "restore",
        "functions": ["nightly-batch"],
        "account": ACCOUNT,
        "region": REGION,
    }
    # the loop resumes while the record is held: it is stopped again
    publish(aws, "nightly-batch", {72: 2500}, start)
    assert ("nightly-batch", "drift") in acted(run_minute(72))
    assert deployed.reservation("nightly-batch") == 0


def test_a_held_function_raised_while_its_loop_still_runs_is_stopped_again(
    aws, deployed, make_function, run_minute
):
    start = deployed.clock()
    make_function("nightly-batch", reserved=20)
    publish(aws, "nightly-batch", {**steady(2, minutes=60), 60: 900, 61: 2400, 62: 1800}, start)
    run_minute(60)
    run_minute(61)
    aws.client("lambda").put_function_concurrency(
        FunctionName="nightly-batch", ReservedConcurrentExecutions=20
    )

    assert acted(run_minute(63)) == [("nightly-batch", "drift")]
    assert deployed.reservation("nightly-batch") == 0


def test_a_rise_the_spent_cap_leaves_unexamined_is_alerted_once_an_hour(
    aws, deployed, make_function, monkeypatch
):
    """With one drill-down an hour: the second function's rise is refused, and said so, once."""
    scan_config = InvocationScanConfig(max_drill_downs_per_hour=1)
    detectors = deployed.settings.config.detectors.model_copy(update={"invocation_scan": scan_config})
    settings = deployed.settings.model_copy(
        update={"config": deployed.settings.config.model_copy(update={"detectors": detectors})}
    )
    for name, value in {**settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    start = deployed.clock()
    make_function("public-api")
    make_function("orders-api")
    publish(aws, "public-api", {**steady(50, minutes=70), 60: 420}, start)
    publish(aws, "orders-api", {**steady(50, minutes=70), 62: 430, 63: 440}, start)

    answers = [run_at(start, minute) for minute in (60, 62, 63)]

    assert [a["drilled_down"] for a in answers] == [True, False, False]
    assert "no drill-down left this hour (cap 1)" in answers[1]["why"]
    [alert] = deployed.alerts()
    assert "drill-downs are spent" in alert["Document"]["reason"]
