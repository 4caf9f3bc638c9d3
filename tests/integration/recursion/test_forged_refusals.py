"""Forged `Recursion Depth Exceeded` events change nothing; real refusals still throttle.

The forger is a principal allowed `events:PutEvents` on the signal bus: it writes the event exactly as
the guard would. moto does not enforce the bus's resource policy (the synthesized policy is checked in
tests/infra/); what is shown here is the watch's own verification.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from guardrail.adapters.ledger import Ledger
from guardrail.domain import Target
from guardrail.enforcement.noise import NOTICES_PER_HOUR
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from guardrail.recursion.refusal import SIGNAL_BUS_ENV
from tests.conftest import ACCOUNT, REGION
from tests.integration.recursion.guarded_functions import enforce_refusals, invoker, refused


def forge(aws: Any, function: str) -> None:
    """Put a refusal naming `function` on the signal bus, as any principal allowed PutEvents there can."""
    detail = {
        "function": function,
        "depth": 17,
        "limit": 16,
        "chain_id": uuid.uuid4().hex,  # a new chain each time: before, each one was a new throttle
        "operation": "lambda.Invoke",
        "target": function,
    }
    aws.client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "Resources": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"],
                "EventBusName": os.environ[SIGNAL_BUS_ENV],  # set by the runtime fixture, as for the guard
            }
        ]
    )


def ledger(deployed: Any) -> Ledger:
    return Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session)


def test_a_forged_refusal_naming_an_unguarded_function_changes_nothing_and_alerts_unverified(
    runtime, deployed, make_function, aws
):
    make_function("payments-core", reserved=10, layers=[])
    forge(aws, "payments-core")
    [event] = runtime.refusal_events()

    first = runtime.deliver_to_watch(event)["results"]
    again = runtime.deliver_to_watch(event)["results"]

    assert [r["result"] for r in first + again] == ["unverified", "duplicate"]
    assert "payments-core does not run the recursion guard" in first[0]["detail"]
    assert first[0]["alert_sent"] is True
    assert deployed.reservation("payments-core") == 10
    assert ledger(deployed).get(Target.function("payments-core")) is None
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "unverified"
    assert alert["Document"]["subject"] == "function payments-core"
    assert alert["Document"]["undo"] is None
    assert "UNVERIFIED" in alert["Subject"] and "nothing was changed" in alert["Subject"]
    assert "does not run the recursion guard" in alert["Document"]["unverified"]


@pytest.mark.slow  # 25 refusals, each through the watch
def test_25_forged_refusals_throttle_nothing_and_alert_within_the_hourly_bound(
    runtime, deployed, make_function, aws
):
    names = [make_function(f"victim-{i:02}", layers=[]) for i in range(25)]
    for name in [*names, "victim-00"]:
        forge(aws, name)

    results = []
    while events := runtime.refusal_events():
        results += [r for event in events for r in runtime.deliver_to_watch(event)["results"]]

    assert len(results) == 26 and {r["result"] for r in results} == {"unverified"}
    assert all(deployed.reservation(name) is None for name in names)
    assert ledger(deployed).active() == []
    # at most the detector's hourly bound and one summary, whatever the names (tests/.../test_alert_bound.py)
    assert len(deployed.alerts()) == NOTICES_PER_HOUR + 1


def test_a_refusal_stamped_with_another_account_is_unverified(runtime, deployed, make_function, aws):
    make_function("nightly-batch")  # runs the guard
    forge(aws, "nightly-batch")
    [event] = runtime.refusal_events()

    [result] = runtime.deliver_to_watch({**event, "account": "999999999999"})["results"]

    assert result["result"] == "unverified"
    assert "the event is from account 999999999999" in result["detail"]
    assert deployed.reservation("nightly-batch") is None


def test_a_refusal_naming_a_function_of_another_account_never_touches_the_local_one(
    runtime, deployed, make_function, aws
):
    make_function("nightly-batch")
    forge(aws, "nightly-batch")
    [event] = runtime.refusal_events()
    event["detail"]["function"] = "arn:aws:lambda:us-east-1:999999999999:function:nightly-batch"
    event["resources"] = []

    [result] = runtime.deliver_to_watch(event)["results"]

    assert result["result"] == "unverified"
    assert "is a function of account 999999999999" in result["detail"]
    assert deployed.reservation("nightly-batch") is None


def test_a_function_its_owner_tags_as_guarded_is_throttled_by_its_refusal(
    runtime, deployed, make_function, aws
):
    make_function("vendored-guard", layers=[], tags={"guardrail:guarded": "true"})
    forge(aws, "vendored-guard")
    [event] = runtime.refusal_events()

    [result] = runtime.deliver_to_watch(event)["results"]

    assert result["result"] == "throttled"
    assert deployed.reservation("vendored-guard") == 0


def test_acceptance_forged_refusal_changes_nothing_and_the_real_guarded_chain_is_throttled(
    runtime, deployed, make_function, aws
):
    make_function("payments-core", reserved=10, layers=[])
    make_function("nightly-batch")
    runtime.register("nightly-batch", invoker("nightly-batch", "Event", max_depth=5))

    forge(aws, "payments-core")
    runtime.pending.append(("nightly-batch", {"job": "athena-queries"}))
    runtime.pump()
    results = {r["function"]: r["result"] for r in enforce_refusals(runtime)}

    assert runtime.depths() == [0, 1, 2, 3, 4, 5]
    assert refused(runtime) == [("nightly-batch", 6, 5)]
    assert results == {"payments-core": "unverified", "nightly-batch": "throttled"}
    assert deployed.reservation("nightly-batch") == 0
    assert deployed.reservation("payments-core") == 10
    kinds = sorted(a["Document"]["event_type"] for a in deployed.alerts())
    assert kinds == ["throttled", "unverified"]


def test_without_a_signal_bus_the_guard_warns_and_the_watch_never_sees_the_refusal(
    runtime, deployed, make_function, monkeypatch, caplog
):
    monkeypatch.delenv(SIGNAL_BUS_ENV)
    make_function("nightly-batch")
    runtime.register("nightly-batch", invoker("nightly-batch", "Event", max_depth=1))

    runtime.pending.append(("nightly-batch", {}))
    runtime.pump()

    assert refused(runtime) == [("nightly-batch", 2, 1)]  # the chain still stops at its limit
    assert "no signal bus" in caplog.text
    assert runtime.refusal_events() == []
    assert deployed.reservation("nightly-batch") is None
