"""A retry after an error is a retry, never a duplicate: the booking stays once, the decision is re-made.

The failure is injected with a botocore before-call hook on the moto session, failing one call once.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from devtools.replay import IncidentReplay
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.detectors.athena.booking import ActionsFailed, caller_scope, workgroup_scope
from guardrail.errors import AwsCallFailed

#: The replay's batch, as counters know it: the candidate function under the role that issued its session.
CALLER_KEY = "nightly-batch@arn:aws:iam::123456789012:role/nightly-batch-role"
RUNAWAY = IncidentReplay(batch_queries=3, loop_minutes=0, batch_interval_seconds=5, duplicate_share=0.0)
LIMITS = {"caller": {"maxQueriesPerWindow": 2}}  # the 3rd query breaks the limit


def fail_once(session, service: str, operation: str) -> list[bool]:
    """Fail the next `operation` once per time the returned switch is armed (`switch.append(True)`)."""
    armed: list[bool] = []

    def hook(**_kwargs):
        if armed:
            armed.pop()
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, operation)

    session.events.register(f"before-call.{service}.{operation}", hook)
    return armed


@pytest.mark.parametrize(
    ("service", "operation", "raised"),
    [
        ("lambda", "PutFunctionConcurrency", ActionsFailed),  # the enforcement fails
        ("dynamodb", "Query", AwsCallFailed),  # the window read fails
    ],
)
def test_a_delivery_that_failed_after_its_booking_throttles_on_its_retry(
    deployed, watch_replay, service, operation, raised
):
    armed = fail_once(deployed.session, service, operation)  # before the watch builds its clients
    watched = watch_replay(RUNAWAY, LIMITS)
    first, second, third = (watched.replay.start_event(q) for q in watched.replay.queries())
    assert [watched.deliver(e)["status"] for e in (first, second)] == ["counted", "counted"]

    armed.append(True)
    with pytest.raises(raised):
        watched.deliver(third)  # raises for Lambda's retry
    assert deployed.reservation("nightly-batch") == 5

    retried = watched.deliver(third)
    assert retried["status"] == "retried"
    assert [a["result"] for a in retried["actions"]] == ["throttled"]
    assert deployed.reservation("nightly-batch") == 0

    again = watched.deliver(third)
    assert (again["status"], again["actions"]) == ("duplicate", [])

    counters = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    at = watched.replay.queries()[-1].started_at
    totals = counters.totals(caller_scope(CALLER_KEY), at, window_minutes=5)
    assert (totals.window_queries, totals.day_queries) == (3, 3)  # booked once
    events = [a["Document"]["event_type"] for a in deployed.alerts()]
    expected = ["throttle-failed", "throttled"] if service == "lambda" else ["throttled"]
    assert events == expected


def test_a_notice_that_failed_on_a_finish_is_sent_on_its_retry_without_asking_athena_again(
    deployed, watch_replay
):
    armed = fail_once(deployed.session, "sns", "Publish")
    watched = watch_replay(RUNAWAY, {"workgroup": {"maxQueriesPerWindow": 2}})  # no trail: finishes only
    first, second, third = (watched.replay.finish_event(q) for q in watched.replay.queries())
    assert [watched.deliver(e)["status"] for e in (first, second)] == ["counted", "counted"]

    armed.extend([True, True])  # the full alert, then its short fallback: SNS is down
    with pytest.raises(ActionsFailed, match="workgroup primary"):
        watched.deliver(third)
    assert deployed.alerts() == []

    retried = watched.deliver(third)
    assert (retried["status"], [a["result"] for a in retried["actions"]]) == ("retried", ["alerted"])
    assert watched.deliver(third)["status"] == "duplicate"
    [document] = [a["Document"] for a in deployed.alerts()]
    assert (document["event_type"], document["evidence"]["rules"]) == ("alerted", "query-rate")
    assert watched.athena.calls == 3  # the booked finish is decided again from the table alone
    counters = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    at = watched.replay.queries()[-1].finished_at
    assert counters.totals(workgroup_scope("primary"), at, window_minutes=5).day_queries == 3


@pytest.mark.parametrize("half", ["start", "finish"])
def test_a_copy_that_comes_while_the_first_delivery_decides_is_a_duplicate(deployed, watch_replay, half):
    """The booking notes its half decided as it writes it: the copy does not decide a second time."""
    copies: list[dict] = []
    armed: list[bool] = []

    def booked(params, **_kwargs):  # the first delivery writes the query's record
        if armed and json.loads(params["body"])["Key"]["pk"]["S"].startswith("ATHENA#QUERY#"):
            armed[:] = ["booked"]

    def deliver_the_copy(**_kwargs):  # then reads its windows
        if armed == ["booked"]:
            armed.clear()
            copies.append(watched.deliver(event))

    deployed.session.events.register("before-call.dynamodb.UpdateItem", booked)
    deployed.session.events.register("before-call.dynamodb.Query", deliver_the_copy)
    watched = watch_replay(RUNAWAY, LIMITS)
    query = watched.replay.queries()[0]
    event = watched.replay.start_event(query) if half == "start" else watched.replay.finish_event(query)
    armed.append(True)
    assert watched.deliver(event)["status"] == "counted"
    assert [copy["status"] for copy in copies] == ["duplicate"]
