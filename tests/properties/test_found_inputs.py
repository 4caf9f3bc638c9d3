"""Inputs the property tests found that crashed a handler or got acted on; each is now refused.

Every one is delivered as Lambda would deliver it, against moto, through `World.check`: the handler
answers (no exception), the answer is JSON, and nothing changed.
"""

from __future__ import annotations

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import athena_watch, invocation_scan, recursion_watch
from tests.properties.samples import alarm, finished, health, refusal, schedule, started

INVOCATION_SCAN = lambda_context("runaway-guardrail-invocation-scan")
RECURSION_WATCH = lambda_context("runaway-guardrail-recursion-watch")
ATHENA_WATCH = lambda_context("runaway-guardrail-athena-watch")


def test_scan_refuses_what_is_not_an_eventbridge_event(world):
    answer = world.check(invocation_scan.handler, INVOCATION_SCAN, None)
    assert answer == {
        "ok": False,
        "error": "not a scheduled EventBridge event: event: Input should be a "
        "valid dictionary or instance of ScheduledEvent",
    }


def test_scan_refuses_a_time_that_leaves_no_room_for_its_window(world):
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):  # OverflowError in the window's arithmetic
        answer = world.check(invocation_scan.handler, INVOCATION_SCAN, schedule(at))
        assert answer["ok"] is False
        assert "no room for the scan's window" in answer["error"]


def metric_stat(event, value):
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"] = value
    return event


def test_alarm_whose_metric_is_not_an_object_is_refused(world):
    answer = world.check(recursion_watch.handler, RECURSION_WATCH, metric_stat(alarm("nightly-batch"), "0"))
    assert answer["ok"] is False
    assert "metric" in answer["error"]


def test_alarm_whose_metrics_are_not_a_list_is_refused(world):
    event = alarm("nightly-batch")
    event["detail"]["configuration"]["metrics"] = "0"
    assert world.check(recursion_watch.handler, RECURSION_WATCH, event)["ok"] is False


def test_alarm_with_a_null_state_reason_is_refused_not_acted_on(world):
    event = alarm("nightly-batch")
    event["detail"]["state"]["reason"] = None
    assert world.check(recursion_watch.handler, RECURSION_WATCH, event)["ok"] is False


def test_alarm_name_longer_than_cloudwatch_allows_is_refused(world):
    # its dedupe key was longer than a DynamoDB key may be: the claim failed and the handler crashed
    event = alarm("ghost-batch", alarmName="0" * 3_000)
    assert world.check(recursion_watch.handler, RECURSION_WATCH, event)["ok"] is False


def test_health_notice_whose_event_arn_is_no_arn_is_refused(world):
    # 1,000 characters of three UTF-8 bytes each: its dedupe key was longer than a DynamoDB key may be
    event = health("ghost-batch", eventArn="名" * 1_000)
    assert world.check(recursion_watch.handler, RECURSION_WATCH, event)["ok"] is False


def test_refusal_naming_no_valid_function_is_refused_before_aws_sees_the_name(world):
    # Lambda answers ValidationException for such a name: it escaped the enforcer as a crash
    answer = world.check(recursion_watch.handler, RECURSION_WATCH, refusal("bad name!"))
    assert answer["ok"] is False
    assert "not a Lambda function name or ARN" in answer["error"]


def test_refusal_with_a_lone_surrogate_is_refused(world):
    # it cannot be encoded for DynamoDB: writing the audit entry crashed the handler
    answer = world.check(recursion_watch.handler, RECURSION_WATCH, refusal("all", operation="\ud800"))
    assert answer["ok"] is False
    assert "not valid Unicode" in answer["error"]


def test_athena_query_id_longer_than_athena_allows_is_rejected(watched):
    # a key longer than DynamoDB allows: the booking failed, and the watch re-raised it for a retry
    for event in (finished("q" * 3_000), started("ghost-batch", "q" * 3_000)):
        answer = watched.check(athena_watch.handler, ATHENA_WATCH, event)
        assert answer["status"] == "rejected"
        assert "queryExecutionId" in answer["error"]


def test_athena_event_id_longer_than_eventbridge_gives_is_rejected(watched):
    # outside the caller's active hours, so the first query is a breach: its dedupe key held the event id
    event = {**started("ghost-batch", "q-1", at="2026-11-28T06:00:00Z"), "id": "i" * 3_000}
    assert watched.check(athena_watch.handler, ATHENA_WATCH, event)["status"] == "rejected"


def test_athena_workgroup_name_longer_than_athena_allows_is_rejected(watched):
    for event in (finished(workgroupName="w" * 3_000), started("ghost-batch", workGroup="w" * 3_000)):
        assert watched.check(athena_watch.handler, ATHENA_WATCH, event)["status"] == "rejected"


def test_athena_caller_that_is_no_iam_identity_is_rejected(watched):
    event = started("ghost-batch")
    event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = "r" * 100_000
    answer = watched.check(athena_watch.handler, ATHENA_WATCH, event)
    assert answer["status"] == "rejected"
    assert "sessionIssuer.arn" in answer["error"]


def test_athena_event_of_another_account_is_not_counted(watched):
    answer = watched.check(
        athena_watch.handler, ATHENA_WATCH, {**started("nightly-batch"), "account": "999999999999"}
    )
    assert answer["status"] == "rejected"
    assert "from account '999999999999'" in answer["error"]


def test_athena_event_not_sent_by_athena_is_not_counted(watched):
    answer = watched.check(
        athena_watch.handler, ATHENA_WATCH, {**started("nightly-batch"), "source": "my.app"}
    )
    assert answer["status"] == "rejected"
    assert "is not aws.athena" in answer["error"]
