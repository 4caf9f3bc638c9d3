"""A query mark is a claim: forged marks throttle nothing, whoever runs them and however often."""

from __future__ import annotations

import copy

import pytest

from devtools.replay import IncidentReplay

#: A loop of one marked statement every 2 s for 6 minutes: over the fixed window limits of a caller
#: (60 in 5 min) and of a small workgroup limit, so that something does act on it.
FORGED = IncidentReplay(
    function="victim", batch_queries=1, loop_minutes=6, loop_interval_seconds=2, marked=True
)
LIMITS = {"workgroup": {"maxQueriesPerWindow": 100, "maxQueriesPerDay": 5000, "maxCostPerDayUsd": 500}}
MALLORY = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/mallory"}


def as_mallory(event):
    """The CloudTrail event of the same call, made by a user instead of the function's role."""
    event = copy.deepcopy(event)
    if event["detail-type"] == "AWS API Call via CloudTrail":
        event["detail"]["userIdentity"] = MALLORY
    return event


def deliver_all(watched, *, trail: bool):
    for delivery in watched.replay.deliveries():
        if not trail and delivery.event["detail-type"] == "AWS API Call via CloudTrail":
            continue
        watched.deployed.clock.now = delivery.deliver_at
        watched.deliver(as_mallory(delivery.event))


def documents(watched):
    return [a["Document"] for a in watched.deployed.alerts()]


@pytest.mark.slow  # a night replayed event by event
def test_a_forged_mark_run_by_someone_else_throttles_nothing(watch_replay):
    watched = watch_replay(FORGED, LIMITS)
    deliver_all(watched, trail=True)
    assert watched.deployed.reservation("victim") == 5
    alerts = documents(watched)
    assert alerts and not [d for d in alerts if d["event_type"] == "throttled"]
    marks = [d["evidence"]["query_mark"] for d in alerts if "query_mark" in d["evidence"]]
    assert marks and all(not m["verified"] for m in marks)
    assert any(m.get("contradicted") and m["caller"].endswith("user/mallory") for m in marks)


@pytest.mark.slow  # a night replayed event by event
def test_a_mark_alone_without_a_trail_alerts_unverified_and_throttles_nothing(watch_replay):
    watched = watch_replay(FORGED, LIMITS)
    deliver_all(watched, trail=False)
    assert watched.deployed.reservation("victim") == 5
    alerts = documents(watched)
    assert alerts and {d["event_type"] for d in alerts} == {"alerted"}
    marks = [d["evidence"]["query_mark"] for d in alerts]
    assert all(m["claimed_function"] == "victim" and m["verified"] is False for m in marks)
