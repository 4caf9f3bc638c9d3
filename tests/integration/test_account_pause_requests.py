"""`pause` and `resume` in one account (no organization), through the kill switch's handler on moto.

Concurrent pauses run in threads: moto's DynamoDB needs the patches that make its conditional writes
and transactions atomic (`moto_patches`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.moto_server import ACCOUNT
from guardrail.account_pause import UNNAMED_OPERATOR
from guardrail.handlers.composition import build_account_switch
from guardrail.kill_switch.requests import PauseRequest, parse_request

pytestmark = pytest.mark.usefixtures("moto_patches", "atomic_calls")  # threads: each call alone


def ledger_items(deployed):
    return deployed.session.client("dynamodb").scan(TableName=deployed.settings.ledger_table)["Items"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"action": "pause", "account": "999999999999", "reason": "x"},
            "account: account 999999999999 is not watched: this guardrail acts in account 123456789012",
        ),
        ({"action": "resume", "account": "999999999999"}, "account: account 999999999999 is not watched"),
        ({"action": "pause", "account": "12345", "reason": "x"}, "account: String should match pattern"),
        ({"action": "pause", "account": ACCOUNT}, "reason: Field required"),
        ({"action": "pause", "account": ACCOUNT, "reason": ""}, "reason: String should have at least 1"),
        ({"action": "resume"}, "account: Field required"),
        ({"action": "resume", "account": ACCOUNT, "functions": ["f"]}, "functions: Extra inputs"),
        (
            {"action": "pause", "account": ACCOUNT, "reason": "x", "confirm": f"panic-{ACCOUNT}"},
            "confirm: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_or_unwatched_accounts_are_refused_and_nothing_is_written(invoke, deployed, payload, message):
    answer = invoke(payload)

    assert answer["ok"] is False
    assert answer["error"]["type"] == "InvalidRequest"
    assert message in answer["error"]["message"]
    assert ledger_items(deployed) == []
    assert deployed.alerts() == []


def test_a_pause_without_by_is_an_unnamed_operators(invoke):
    [result] = invoke({"action": "pause", "account": ACCOUNT, "reason": "drill"})["results"]
    assert (result["result"], result["by"]) == ("paused", UNNAMED_OPERATOR)


def test_concurrent_pauses_write_one_pause_and_the_others_are_already_paused(deployed):
    switch = build_account_switch(deployed.settings, session=deployed.session, clock=deployed.clock)
    requests = [
        parse_request(
            {"action": "pause", "account": ACCOUNT, "reason": f"reason {n}", "by": f"op-{n}"},
            scope=deployed.settings.home,
        )
        for n in range(6)
    ]
    assert all(isinstance(request, PauseRequest) for request in requests)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(switch.handle, requests))

    [winner] = [r for r in results if r["result"] == "paused"]
    assert sorted(r["result"] for r in results) == ["already-paused"] * 5 + ["paused"]
    assert {(r["by"], r["reason"]) for r in results} == {(winner["by"], winner["reason"])}
    pauses = [item for item in ledger_items(deployed) if item["sk"]["S"] == "PAUSE"]
    assert [p["paused_by"]["S"] for p in pauses] == [winner["by"]]
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["account-paused"]


def test_concurrent_resumes_resume_once(deployed):
    switch = build_account_switch(deployed.settings, session=deployed.session, clock=deployed.clock)
    scope = deployed.settings.home
    switch.handle(parse_request({"action": "pause", "account": ACCOUNT, "reason": "drill"}, scope=scope))
    resume = parse_request({"action": "resume", "account": ACCOUNT}, scope=scope)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(switch.handle, [resume] * 4))

    assert sorted(a["result"] for a in answers) == ["not-paused"] * 3 + ["resumed"]
    assert [item for item in ledger_items(deployed) if item["sk"]["S"] == "PAUSE"] == []
    trail = [item["action"]["S"] for item in ledger_items(deployed) if item["sk"]["S"].startswith("AUDIT#")]
    assert sorted(trail) == ["pause", "resume"]
