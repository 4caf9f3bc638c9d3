"""An operator's run-time pause of one member account, through the real kill switch handler, on moto.

Automatic findings come from AWS Health loop notices (the recursion watch's path: findings, then the
enforcer the deployed functions build); operators act through the kill switch's handler.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.fleet import MEMBER
from tests.conftest import ACCOUNT
from tests.integration.fleet.health_notices import enforce, health_event

from .conftest import OREGON, OTHER_MEMBER, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test

DRILL = {"action": "pause", "account": MEMBER, "reason": "migration drill", "by": "alice"}


@pytest.fixture
def batches(fleet: Fleet) -> Fleet:
    """`nightly-batch` in us-west-2 of both members (reserved 7 and 5), each reached through its role."""
    for account, reserved in ((MEMBER, 7), (OTHER_MEMBER, 5)):
        fleet.member_role(account)
        fleet.function(account, OREGON, "nightly-batch", reserved=reserved)
    return fleet


def items(fleet: Fleet, prefix: str) -> list[dict[str, Any]]:
    """The ledger's items whose partition key starts with `prefix` (a test may scan; the guardrail never)."""
    scanned = fleet.session.client("dynamodb").scan(TableName=fleet.settings.ledger_table)["Items"]
    return [item for item in scanned if item["pk"]["S"].startswith(prefix)]


def test_a_paused_account_is_alerted_not_throttled_the_others_are_and_resume_enforces_again(
    batches, alerts, invoke
):
    paused = invoke(DRILL)

    [result] = paused["results"]
    assert (paused["ok"], paused["action"], paused["mode"]) == (True, "pause", "enforce")
    assert (result["account"], result["result"], result["by"], result["alert_sent"]) == (
        MEMBER,
        "paused",
        "alice",
        True,
    )
    [pause_alert] = alerts()
    assert (pause_alert["event_type"], pause_alert["account"], pause_alert["by"]) == (
        "account-paused",
        MEMBER,
        "alice",
    )
    assert pause_alert["undo"]["payload"] == {"action": "resume", "account": MEMBER}
    assert f"resume --account {MEMBER}" in pause_alert["text"]

    [held_back] = enforce(batches, health_event(MEMBER, OREGON, "nightly-batch", event_id="m-1"))
    [acted] = enforce(batches, health_event(OTHER_MEMBER, OREGON, "nightly-batch", event_id="o-1"))

    assert held_back["result"] == "would-throttle"
    assert f"account {MEMBER} paused by alice since " in held_back["detail"]
    assert held_back["detail"].endswith(": migration drill")
    assert batches.reservation(MEMBER, OREGON, "nightly-batch") == 7  # keeps its concurrency
    assert (acted["result"], batches.reservation(OTHER_MEMBER, OREGON, "nightly-batch")) == ("throttled", 0)
    would, throttled = alerts()
    assert (would["event_type"], would["account"]) == ("would-throttle", MEMBER)
    assert would["account_paused"]["by"] == "alice"
    assert would["undo"]["payload"]["action"] == "throttle"  # nothing was recorded: act by hand
    assert f"resume --account {MEMBER}" in would["text"]
    assert throttled["account"] == OTHER_MEMBER
    assert items(batches, f"FUNCTION#{MEMBER}#") != []  # the audit line of the finding held back
    assert [i for i in items(batches, f"FUNCTION#{MEMBER}#") if i["sk"]["S"] == "THROTTLE"] == []

    [again] = enforce(batches, health_event(MEMBER, OREGON, "nightly-batch", event_id="m-2"))
    assert again["result"] == "already-alerted"  # once per pause and target
    assert alerts() == []

    status = invoke({"action": "status"})
    assert status["paused_accounts"] == [
        {"account": MEMBER, "by": "alice", "since": result["since"], "reason": "migration drill"}
    ]

    resumed = invoke({"action": "resume", "account": MEMBER, "by": "bob"})
    assert [(r["account"], r["result"]) for r in resumed["results"]] == [(MEMBER, "resumed")]
    [resume_alert] = alerts()
    assert (resume_alert["event_type"], resume_alert["by"]) == ("account-resumed", "bob")
    assert resume_alert["undo"]["payload"]["action"] == "pause"
    assert invoke({"action": "status"})["paused_accounts"] == []

    [enforced] = enforce(batches, health_event(MEMBER, OREGON, "nightly-batch", event_id="m-3"))
    assert (enforced["result"], enforced["prior_reservation"]) == ("throttled", 7)
    assert batches.reservation(MEMBER, OREGON, "nightly-batch") == 0
    trail = sorted(items(batches, f"PAUSE#{MEMBER}"), key=lambda item: item["sk"]["S"])
    assert [(i["action"]["S"], i["result"]["S"]) for i in trail] == [
        ("pause", "paused"),
        ("resume", "resumed"),
    ]
    assert "by bob" in trail[1]["detail"]["S"]


def test_the_kill_switch_still_throttles_and_restores_in_a_paused_account(batches, invoke):
    invoke(DRILL)
    arn = f"arn:aws:lambda:{OREGON}:{MEMBER}:function:nightly-batch"

    throttled = invoke({"action": "throttle", "functions": [arn], "reason": "by hand"})
    assert throttled["results"][0]["result"] == "throttled"
    assert batches.reservation(MEMBER, OREGON, "nightly-batch") == 0
    restored = invoke({"action": "restore", "functions": [arn]})
    assert restored["results"][0]["result"] == "restored"
    assert batches.reservation(MEMBER, OREGON, "nightly-batch") == 7


def test_a_second_pause_is_already_paused_and_keeps_the_first(fleet, alerts, invoke):
    first = invoke(DRILL)["results"][0]
    alerts()

    second = invoke({**DRILL, "reason": "another reason", "by": "carol"})["results"][0]

    assert second["result"] == "already-paused"
    assert (second["by"], second["reason"], second["since"]) == ("alice", "migration drill", first["since"])
    assert alerts() == []
    [pause] = [i for i in items(fleet, f"PAUSE#{MEMBER}") if i["sk"]["S"] == "PAUSE"]
    assert (pause["paused_by"]["S"], pause["reason"]["S"]) == ("alice", "migration drill")
    assert len(items(fleet, f"PAUSE#{MEMBER}")) == 2  # the pause and its one audit line


def test_resuming_an_account_that_is_not_paused_changes_nothing(fleet, alerts, invoke):
    answer = invoke({"action": "resume", "account": OTHER_MEMBER})

    assert answer["results"] == [{"account": OTHER_MEMBER, "result": "not-paused"}]
    assert items(fleet, "PAUSE#") == []
    assert alerts() == []


def test_the_home_account_can_be_paused_too(fleet, invoke):
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=3)
    invoke({**DRILL, "account": ACCOUNT})

    [result] = enforce(fleet, health_event(ACCOUNT, OREGON, "nightly-batch"))

    assert result["result"] == "would-throttle"
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 3
