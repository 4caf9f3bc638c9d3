"""A query is a function's only when the session's issuer role is the function's execution role."""

from __future__ import annotations

import copy

from devtools.replay import IncidentReplay
from guardrail.adapters.ledger import Ledger
from guardrail.domain import Target

REPLAY = IncidentReplay(batch_queries=4, loop_minutes=0, batch_interval_seconds=5, duplicate_share=0.0)
LIMITS = {"caller": {"maxQueriesPerWindow": 2}}
ANALYST = "arn:aws:iam::123456789012:role/data-analyst"


def as_analyst(event):
    """The same StartQueryExecution, made from `assumed-role/data-analyst/nightly-batch`."""
    forged = copy.deepcopy(event)
    identity = forged["detail"]["userIdentity"]
    identity["arn"] = "arn:aws:sts::123456789012:assumed-role/data-analyst/nightly-batch"
    identity["sessionContext"]["sessionIssuer"].update(arn=ANALYST, userName="data-analyst")
    forged["id"] = f"forged-{forged['id']}"
    forged["detail"]["responseElements"]["queryExecutionId"] += "-forged"
    return forged


def test_a_session_named_like_a_function_from_another_role_throttles_nothing(watch_replay):
    watched = watch_replay(REPLAY, LIMITS)
    starts = [watched.replay.start_event(q) for q in watched.replay.queries()]

    reports = [watched.deliver(as_analyst(event)) for event in starts]

    assert watched.deployed.reservation("nightly-batch") == 5  # as before: untouched
    ledger = Ledger(
        watched.deployed.settings.ledger_table,
        home=watched.deployed.settings.home,
        boto3_session=watched.deployed.session,
    )
    assert ledger.get(Target.function("nightly-batch")) is None
    actions = [a for r in reports for a in r["actions"]]
    assert [a["result"] for a in actions] == ["unverified", "unverified"]  # the 3rd and 4th queries
    assert {a["subject"] for a in actions} == {f"nightly-batch@{ANALYST}"}  # the caller, under its role
    [alert] = [a["Document"] for a in watched.deployed.alerts()]  # once an hour
    assert alert["event_type"] == "unverified"
    assert alert["unverified"] == (
        f"the caller's role {ANALYST} is not nightly-batch's execution role "
        "arn:aws:iam::123456789012:role/nightly-batch-role"
    )
    assert alert["evidence"]["caller"] == ANALYST


def test_the_analysts_queries_do_not_count_toward_the_functions_own_limits(watch_replay):
    watched = watch_replay(REPLAY, LIMITS)
    starts = [watched.replay.start_event(q) for q in watched.replay.queries()]
    for event in starts:
        watched.deliver(as_analyst(event))
    watched.deployed.alerts()

    # the function's own queries: two are within its limit, the third is over it
    first_two = [watched.deliver(event) for event in starts[:2]]
    assert [a for r in first_two for a in r["actions"]] == []
    assert watched.deployed.reservation("nightly-batch") == 5

    third = watched.deliver(starts[2])

    assert [a["result"] for a in third["actions"]] == ["throttled"]
    assert watched.deployed.reservation("nightly-batch") == 0
    [throttled] = [a["Document"] for a in watched.deployed.alerts()]
    assert throttled["event_type"] == "throttled"
    assert throttled["evidence"]["caller"] == "arn:aws:iam::123456789012:role/nightly-batch-role"
