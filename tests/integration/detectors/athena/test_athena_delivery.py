"""Duplicate, out-of-order and bad deliveries through the handler, against moto."""

from __future__ import annotations

import copy
import logging

from devtools.lambda_runtime import lambda_context
from devtools.replay import IncidentReplay
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.ledger import Ledger
from guardrail.detectors.athena.booking import caller_scope, workgroup_scope
from guardrail.domain import Target
from guardrail.handlers import kill_switch
from tests.conftest import ACCOUNT, REGION

#: The replay's batch, as counters know it: the candidate function under the role that issued its session.
CALLER_KEY = "nightly-batch@arn:aws:iam::123456789012:role/nightly-batch-role"
KILL_SWITCH = lambda_context("runaway-guardrail-kill-switch")
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
    caller = totals(watched, caller_scope(CALLER_KEY), at)
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


def deliver_as(watched, principal_arn):
    for query in watched.replay.queries():
        event = watched.replay.start_event(query)
        event["detail"]["userIdentity"] = {"type": "IAMUser", "arn": principal_arn}
        watched.deliver(event)
    return [action["result"] for report in watched.reports for action in report.get("actions", [])]


KILL_SWITCH = lambda_context("runaway-guardrail-kill-switch")
ALICE = "arn:aws:iam::123456789012:user/alice"
RUNAWAY_USER = IncidentReplay(batch_queries=4, loop_minutes=0, batch_interval_seconds=5)


def test_a_runaway_user_disables_the_workgroup_and_the_kill_switch_restores_it(watch_replay, workgroups):
    """Athena is faked at the adapter boundary with botocore's Stubber (moto cannot update a workgroup)."""
    workgroups.expect_disable("primary", prior="ENABLED")  # the 3rd query breaks the limit
    workgroups.expect_read("primary", "DISABLED")  # the 4th: already held, nothing changes
    detector = {"caller": {"maxQueriesPerWindow": 2}, "workgroups": {"primary": {"disableOnRunaway": True}}}
    watched = watch_replay(RUNAWAY_USER, detector)

    assert deliver_as(watched, ALICE) == ["disabled", "already-disabled"]
    assert deliver_as(watched, ALICE) == ["disabled", "already-disabled"]  # redelivered: no new action
    documents = [a["Document"] for a in watched.deployed.alerts()]
    assert [d["event_type"] for d in documents] == ["disabled"]  # once, not per query
    assert (documents[0]["workgroup"], documents[0]["prior_state"]) == ("primary", "ENABLED")
    assert documents[0]["evidence"]["subject"] == ALICE
    assert documents[0]["undo"]["payload"] == {"action": "restore", "workgroups": ["primary"]}

    [held] = kill_switch.handler({"action": "status"}, KILL_SWITCH)["results"]
    assert (held["workgroup"], held["result"], held["prior_state"]) == ("primary", "disabled", "ENABLED")
    assert held["detector"] == "athena-watch"

    workgroups.expect_restore("primary", "ENABLED")
    restored = kill_switch.handler({"action": "restore", "workgroups": ["primary"]}, KILL_SWITCH)
    assert restored["results"] == [
        {
            "workgroup": "primary",
            "account": ACCOUNT,
            "region": REGION,
            "result": "restored",
            "prior_state": "ENABLED",
            "alert_sent": True,
        }
    ]
    assert kill_switch.handler({"action": "status"}, KILL_SWITCH)["results"] == []
    ledger = Ledger(
        watched.deployed.settings.ledger_table,
        home=watched.deployed.settings.home,
        boto3_session=watched.deployed.session,
    )
    trail = [(e.action, e.result, e.detector) for e in ledger.audit_trail(Target.workgroup("primary"))]
    assert trail == [("disable", "disabled", "athena-watch"), ("restore", "restored", "athena-watch")]
    assert [a["Document"]["event_type"] for a in watched.deployed.alerts()] == ["restored"]


def test_a_runaway_user_with_nothing_to_disable_is_alerted_once_an_hour(watch_replay):
    watched = watch_replay(RUNAWAY_USER, {"caller": {"maxQueriesPerWindow": 2}})

    assert deliver_as(watched, ALICE) == ["alerted", "already-alerted"]
    [document] = [a["Document"] for a in watched.deployed.alerts()]
    assert (document["event_type"], document["subject"], document["undo"]) == ("alerted", ALICE, None)
    assert document["evidence"]["rules"] == "query-rate"
    assert "nothing was changed" in document["action"]


def test_only_an_event_whose_decision_acted_is_logged_at_info(watch_replay, caplog):
    """Most events only count: a line each would cost an eighth of the watch's own cost (bench.md)."""
    watched = watch_replay(RUNAWAY_USER, {"caller": {"maxQueriesPerWindow": 2}})
    first, *_ = watched.replay.queries()
    for event in (watched.replay.start_event(first), watched.replay.finish_event(first)) * 2:
        watched.deliver(event)  # counted twice (the second alerts the cross-region read), two duplicates
    deliver_as(watched, ALICE)  # the 3rd query breaks the limit: alerted

    logged = [r.report for r in caplog.records if r.levelno >= logging.INFO and hasattr(r, "report")]
    acted = [r for r in watched.reports if r.get("actions")]
    assert [r["status"] for r in watched.reports[:4]] == ["counted", "counted", "duplicate", "duplicate"]
    assert len(acted) >= 2 and len(watched.reports) - len(acted) >= 5
    assert logged == acted
