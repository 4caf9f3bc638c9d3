"""Duplicate, out-of-order and bad deliveries through the handler, against moto."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from devtools.replay import IncidentReplay
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import WorkgroupSwitch
from guardrail.detectors.athena.model import caller_scope, workgroup_scope
from guardrail.errors import AwsCallFailed
from guardrail.handlers import composition as runtime

SMALL = IncidentReplay(batch_queries=3, loop_minutes=0, duplicate_share=0.0)


def totals(watched, scope, at):
    counters = AthenaCounters(watched.deployed.settings.ledger_table, boto3_session=watched.deployed.session)
    return counters.totals(scope, at, window_minutes=5)


def test_duplicates_and_out_of_order_deliveries_count_once(watch_replay):
    watched = watch_replay(SMALL, {})
    queries = watched.replay.queries()
    events = [watched.replay.start_event(q) for q in queries] + [
        watched.replay.finish_event(q) for q in queries
    ]
    for event in reversed(events + events):  # every finish before its start, every event twice
        watched.deliver(event)
    statuses = [r["status"] for r in watched.reports]
    assert statuses.count("counted") == 6 and statuses.count("duplicate") == 6
    at = queries[-1].finished_at
    caller = totals(watched, caller_scope("nightly-batch"), at)
    workgroup = totals(watched, workgroup_scope("primary"), at)
    assert (caller.day_queries, caller.day_scanned_bytes) == (3, 3 * SMALL.scanned_bytes)
    assert (workgroup.day_queries, workgroup.day_scanned_bytes) == (3, 3 * SMALL.scanned_bytes)
    assert caller.remote_regions == {"ap-northeast-1"}
    assert watched.athena.calls == 3  # a duplicate finish never asks Athena again


def test_bad_events_are_rejected_and_unknown_queries_reported_without_raising(watch_replay):
    watched = watch_replay(SMALL, {})
    assert watched.deliver({"detail-type": "Something Else"})["status"] == "rejected"
    broken = watched.replay.start_event(watched.replay.queries()[0])
    del broken["detail"]["userIdentity"]
    assert "userIdentity" in watched.deliver(broken)["error"]
    unknown = copy.deepcopy(watched.replay.finish_event(watched.replay.queries()[0]))
    unknown["detail"]["queryExecutionId"] = "00000000-0000-0000-0000-000000000000"
    assert watched.deliver(unknown)["status"] == "unknown-query"
    running = copy.deepcopy(unknown)
    running["detail"]["currentState"] = "RUNNING"
    assert watched.deliver(running)["status"] == "ignored"


def test_a_runaway_user_is_alerted_and_its_workgroup_disabled(watch_replay, monkeypatch):
    """moto lacks athena:UpdateWorkGroup, so the call is checked with botocore's Stubber."""
    client = boto3.client("athena", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("update_work_group", {}, {"WorkGroup": "primary", "State": "DISABLED"})
    stubber.activate()
    monkeypatch.setattr(runtime, "WorkgroupSwitch", lambda **_: WorkgroupSwitch(boto3_client=client))
    detector = {"caller": {"maxQueriesPerWindow": 2}, "workgroups": {"primary": {"disableOnRunaway": True}}}
    watched = watch_replay(
        IncidentReplay(batch_queries=4, loop_minutes=0, batch_interval_seconds=5), detector
    )
    for query in watched.replay.queries():
        event = watched.replay.start_event(query)
        event["detail"]["userIdentity"] = {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"}
        watched.deliver(event)
    stubber.assert_no_pending_responses()
    documents = [a["Document"] for a in watched.deployed.alerts()]
    assert [d["event_type"] for d in documents] == ["athena-disabled-workgroup"]  # once, not per query
    assert documents[0]["subject"] == "arn:aws:iam::123456789012:user/alice"
    assert "update-work-group" in documents[0]["undo"]


def test_a_failed_aws_call_is_raised_for_lambda_to_retry_and_the_retry_counts_once(
    watch_replay, deployed, capsys
):
    """The first booking transaction fails (moto cannot fail one: a botocore hook raises instead)."""
    failures = [
        ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "TransactWriteItems")
    ]

    def fail_once(**_):
        if failures:
            raise failures.pop()

    deployed.session.events.register("before-call.dynamodb.TransactWriteItems", fail_once)
    watched = watch_replay(SMALL, {})
    query = watched.replay.queries()[0]
    event = watched.replay.start_event(query)
    with pytest.raises(AwsCallFailed, match="InternalServerError: try again"):
        watched.deliver(event)
    assert '"AthenaEventsFailed"' in capsys.readouterr().out  # the metric, flushed on the way out
    assert watched.deliver(event)["status"] == "counted"
    assert watched.deliver(event)["status"] == "duplicate"
    assert totals(watched, caller_scope("nightly-batch"), query.started_at).day_queries == 1
