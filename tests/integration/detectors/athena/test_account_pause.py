"""A pause seen by the Athena watch, whose one watch (and enforcer) outlives each invocation, on moto."""

from __future__ import annotations

from devtools.lambda_runtime import lambda_context
from devtools.replay import IncidentReplay
from guardrail.handlers import kill_switch
from tests.conftest import ACCOUNT

KILL_SWITCH = lambda_context("runaway-guardrail-kill-switch")
FIVE = IncidentReplay(batch_queries=5, loop_minutes=0, duplicate_share=0.0)


def deliver(watched, query) -> list[str]:
    """The results of the query-rate actions that the start and the finish of one query led to."""
    reports = [
        watched.deliver(watched.replay.start_event(query)),
        watched.deliver(watched.replay.finish_event(query)),
    ]
    actions = [action for report in reports for action in report.get("actions", [])]
    return [action["result"] for action in actions if action["rules"] == "query-rate"]


def test_each_event_reads_the_pause_afresh_in_a_warm_watch(watch_replay):
    watched = watch_replay(FIVE, {"caller": {"maxQueriesPerWindow": 2}})
    first, second, third, fourth, _ = watched.replay.queries()
    paused = kill_switch.handler({"action": "pause", "account": ACCOUNT, "reason": "drill"}, KILL_SWITCH)
    assert paused["results"][0]["result"] == "paused"

    assert deliver(watched, first) + deliver(watched, second) == []
    assert deliver(watched, third) == ["would-throttle", "already-alerted"]  # over the limit, paused
    assert watched.deployed.reservation(watched.replay.function) == 5

    resumed = kill_switch.handler({"action": "resume", "account": ACCOUNT}, KILL_SWITCH)
    assert resumed["results"][0]["result"] == "resumed"
    # the same warm watch, the next event: the resume holds at once
    assert deliver(watched, fourth) == ["throttled", "already-throttled"]
    assert watched.deployed.reservation(watched.replay.function) == 0
