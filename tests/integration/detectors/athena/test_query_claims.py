"""The recursion guard's `Athena Query Started`: booked as the query's start once verified, else nothing.

The function is made in moto with the role the replay's sessions name; it runs the guard when tagged
`guardrail:guarded=true` (the layer is the other way, tested with the refusals).
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from devtools.loops import loop_cost
from devtools.replay import IncidentReplay
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.booking import caller_scope
from tests.conftest import ACCOUNT

pytestmark = pytest.mark.slow  # guarded loops replayed event by event through the handler

SHORT = IncidentReplay(batch_queries=3, loop_minutes=0, guarded=True)
CALLER = f"nightly-batch@arn:aws:iam::{ACCOUNT}:role/nightly-batch-role"


def caller_queries(watched, at) -> int:
    counters = AthenaCounters(watched.deployed.settings.ledger_table, boto3_session=watched.deployed.session)
    return counters.totals(caller_scope(CALLER), at, window_minutes=5).day_queries


def test_a_verified_claim_books_the_start_and_cloudtrail_is_then_a_duplicate(watch_replay):
    watched = watch_replay(SHORT, {})
    watched.run_the_guard()
    query = watched.replay.night_queries()[0]
    claimed = watched.deliver(watched.replay.claim_event(query))
    assert (claimed["status"], claimed["query_id"]) == ("counted", query.query_id)
    assert watched.deliver(watched.replay.claim_event(query))["status"] == "duplicate"
    assert watched.deliver(watched.replay.start_event(query))["status"] == "duplicate"
    assert caller_queries(watched, query.started_at) == 1  # under the key CloudTrail would have used
    assert watched.deliver(watched.replay.finish_event(query))["status"] == "counted"
    # the one alert: the query read a table stored in another region, told about the verified caller
    (alert,) = [a["Document"] for a in watched.deployed.alerts()]
    assert (alert["evidence"]["rules"], alert["evidence"]["caller"]) == ("cross-region", CALLER.split("@")[1])


def _other_role(event):
    event["detail"]["caller"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/mallory-role/nightly-batch"


def _other_session(event):
    event["detail"]["caller"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/nightly-batch-role/someone"


def _other_account(event):
    event["account"] = "210987654321"


def _other_function(event):
    event["resources"] = [f"arn:aws:lambda:{event['region']}:{ACCOUNT}:function:payments-api"]


@pytest.mark.parametrize(
    ("forge", "tag", "why"),
    [
        (lambda event: None, False, "does not run the recursion guard"),
        (_other_role, True, "is not under nightly-batch's execution role"),
        (_other_session, True, "is not a session of nightly-batch"),
        (_other_account, True, "the event is from account 210987654321"),
        (_other_function, True, "names more than one function"),
    ],
)
def test_a_claim_that_does_not_verify_books_nothing_and_alerts_unverified(watch_replay, forge, tag, why):
    watched = watch_replay(SHORT, {})
    if tag:
        watched.run_the_guard()
    query = watched.replay.night_queries()[0]
    event = copy.deepcopy(watched.replay.claim_event(query))
    forge(event)
    report = watched.deliver(event)
    assert report["status"] == "unverified" and why in report["detail"]
    assert report["actions"] == [{"subject": "nightly-batch", "rules": "claim", "result": "unverified"}]
    assert caller_queries(watched, query.started_at) == 0
    (alert,) = [a["Document"] for a in watched.deployed.alerts()]
    assert alert["event_type"] == "unverified"
    assert watched.deliver(watched.replay.start_event(query))["status"] == "counted"  # CloudTrail still books
    assert watched.deployed.reservation("nightly-batch") == 5


LOOP = IncidentReplay(batch_queries=60, history_nights=2, guarded=True, loop_minutes=10)


def test_a_guarded_loop_after_learned_nights_is_throttled_within_a_minute_for_under_a_dollar(watch_replay):
    watched = watch_replay(LOOP, {})
    watched.run_the_guard()
    watched.learn_nights()
    stopped_at = watched.until_stopped().stopped_at
    assert stopped_at is not None
    spent = loop_cost(watched.replay, stopped_at, AthenaWatchConfig())
    assert spent.after <= timedelta(seconds=60)
    assert spent.usd < 1.0
    (throttled,) = [
        a["Document"] for a in watched.deployed.alerts() if a["Document"]["event_type"] == "throttled"
    ]
    assert "repeated-statement" in throttled["evidence"]["rules"]


VICTIM = "payments-api"  # exempt in the deployed settings, and a guarded function with its own role


def _naming_the_victim(event):
    """The claim as the batch could write it for its own query: naming another guarded function."""
    event = copy.deepcopy(event)
    event["detail"]["function"] = VICTIM
    event["detail"]["caller"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/{VICTIM}-role/{VICTIM}"
    event["resources"] = [f"arn:aws:lambda:{event['region']}:{ACCOUNT}:function:{VICTIM}"]
    return event


def test_claims_naming_another_function_never_hide_the_real_caller_from_cloudtrail(
    watch_replay, make_function
):
    """Before, CloudTrail's records of the loop's queries were duplicates of the claims: the batch was
    never counted (70 of 70 loop queries) and, the named function being exempt, nothing was throttled."""
    watched = watch_replay(LOOP, {})
    make_function(VICTIM, reserved=7, role=f"{VICTIM}-role")
    watched.run_the_guard(VICTIM)
    watched.run_the_guard()
    claims: list[str] = []
    cloudtrail: dict[str, list[str]] = {}  # query id -> what each delivery of its record did
    for delivery in watched.replay.deliveries(history=False):
        watched.deployed.clock.now = delivery.deliver_at
        claim = delivery.event.get("detail-type") == "Athena Query Started"
        report = watched.deliver(_naming_the_victim(delivery.event) if claim else delivery.event)
        if claim:
            claims.append(report["status"])
        elif delivery.event.get("detail", {}).get("eventName") == "StartQueryExecution":
            cloudtrail.setdefault(report["query_id"], []).append(report["status"])
        if watched.deployed.reservation("nightly-batch") == 0:
            break

    assert watched.deployed.reservation("nightly-batch") == 0  # the real caller, counted from CloudTrail
    assert watched.deployed.reservation(VICTIM) == 7
    assert cloudtrail and all(statuses[0] == "counted" for statuses in cloudtrail.values())
    assert "counted" in claims  # claims that came first still count, for the function they name
