"""One guardrail in ap-northeast-1 acting in us-west-2 and in member accounts, through the real handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.fleet import MEMBER
from devtools.lambda_runtime import lambda_context
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.errors import AwsCallFailed
from guardrail.handlers import invocation_scan
from guardrail.handlers.composition import build_audit
from tests.conftest import ACCOUNT
from tests.integration.fleet.health_notices import enforce, health_event
from tests.integration.recursion.lambda_metrics import publish, steady

from .conftest import HOME, OREGON, OTHER_MEMBER

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


def scheduled_event(event_id: str, start: datetime) -> dict[str, Any]:
    """The scan's schedule firing an hour after `start` (the minute it scans)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": start.replace(hour=start.hour + 1, second=20).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": HOME,
        "resources": [f"arn:aws:events:{HOME}:{ACCOUNT}:rule/runaway-guardrail-invocation-scan"],
        "detail": {},
    }


def test_a_loop_in_oregon_is_throttled_from_tokyo_named_by_its_region_and_restored_exactly(
    fleet, alerts, invoke
):
    oregon_arn = fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    fleet.function(ACCOUNT, HOME, "nightly-batch", reserved=3)  # same name at home: not the one looping

    [result] = enforce(fleet, health_event(ACCOUNT, OREGON, "nightly-batch"))

    assert result == {
        "function": "nightly-batch",
        "account": ACCOUNT,
        "region": OREGON,
        "result": "throttled",
        "prior_reservation": 7,
        "alert_sent": True,
    }
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 0
    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 3
    [alert] = alerts()
    assert (alert["region"], alert["account"], alert["function"]) == (OREGON, ACCOUNT, "nightly-batch")
    assert alert["undo"]["payload"] == {"action": "restore", "functions": [oregon_arn]}
    assert f"--region {HOME} " in alert["undo"]["guardrail_cli"]  # the kill switch runs at home

    status = invoke({"action": "status"})
    assert status["by_place"][ACCOUNT][OREGON][0]["function"] == "nightly-batch"
    assert list(status["by_place"][ACCOUNT]) == [OREGON]

    restored = invoke(alert["undo"]["payload"])
    assert [(r["function"], r["region"], r["result"]) for r in restored["results"]] == [
        ("nightly-batch", OREGON, "restored")
    ]
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 7
    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 3


def test_a_second_delivery_of_the_oregon_event_does_not_act_twice(fleet):
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    event = health_event(ACCOUNT, OREGON, "nightly-batch")
    assert enforce(fleet, event)[0]["result"] == "throttled"
    assert enforce(fleet, event)[0]["result"] == "duplicate"


def test_a_region_or_account_that_is_not_watched_is_refused_and_changes_nothing(fleet, invoke):
    ireland = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:nightly-batch"
    answer = invoke({"action": "throttle", "functions": [ireland], "reason": "typo"})
    assert answer["ok"] is False
    assert "region eu-west-1" in answer["error"]["message"]
    answer = invoke(
        {"action": "throttle", "functions": ["nightly-batch"], "region": "eu-west-1", "reason": "x"}
    )
    assert answer == {
        "ok": False,
        "error": {
            "type": "InvalidRequest",
            "message": (
                "region: region eu-west-1 is not watched: this guardrail acts in its "
                "organization's accounts, regions ap-northeast-1, us-west-2"
            ),
        },
    }
    [result] = enforce(fleet, health_event(ACCOUNT, "eu-west-1", "nightly-batch"))
    assert result["result"] == "unverified"


def test_a_member_accounts_runaway_is_throttled_through_its_role_and_shown_under_it(fleet, alerts, invoke):
    fleet.member_role(MEMBER)
    fleet.function(MEMBER, OREGON, "nightly-batch", reserved=5)
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)

    [result] = enforce(fleet, health_event(MEMBER, OREGON, "nightly-batch"))

    assert (result["account"], result["result"], result["prior_reservation"]) == (MEMBER, "throttled", 5)
    assert fleet.reservation(MEMBER, OREGON, "nightly-batch") == 0
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 7
    [alert] = alerts()
    assert alert["account"] == MEMBER
    status = invoke({"action": "status"})
    assert list(status["by_place"]) == [MEMBER]
    answer = invoke(
        {"action": "restore", "functions": ["nightly-batch"], "account": MEMBER, "region": OREGON}
    )
    assert answer["results"][0]["result"] == "restored"
    assert fleet.reservation(MEMBER, OREGON, "nightly-batch") == 5


def test_a_panic_scoped_to_one_account_leaves_the_others_untouched(fleet, invoke):
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    fleet.function(MEMBER, OREGON, "etl", reserved=4)
    fleet.function(OTHER_MEMBER, OREGON, "etl", reserved=6)
    fleet.function(ACCOUNT, OREGON, "etl", reserved=8)

    answer = invoke(
        {
            "action": "panic",
            "reason": "drill",
            "accounts": [MEMBER],
            "regions": [OREGON],
            "confirm": f"panic-{ACCOUNT}",
        }
    )

    assert [(r["account"], r["function"], r["result"]) for r in answer["results"]] == [
        (MEMBER, "etl", "throttled")
    ]
    assert fleet.reservation(MEMBER, OREGON, "etl") == 0
    assert fleet.reservation(OTHER_MEMBER, OREGON, "etl") == 6
    assert fleet.reservation(ACCOUNT, OREGON, "etl") == 8
    everything = invoke(
        {"action": "restore", "functions": "all", "accounts": [MEMBER], "confirm": f"restore-all-{ACCOUNT}"}
    )
    assert [r["result"] for r in everything["results"]] == ["restored"]
    assert fleet.reservation(MEMBER, OREGON, "etl") == 4


def test_a_forged_event_claiming_another_account_changes_nothing(fleet, alerts):
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    fleet.function(OTHER_MEMBER, OREGON, "payments", reserved=9)
    victim = f"arn:aws:lambda:{OREGON}:{OTHER_MEMBER}:function:payments"

    # sent from the member account (EventBridge stamps its account), naming the other one's function
    [result] = enforce(fleet, health_event(MEMBER, OREGON, victim))

    assert result["result"] == "unverified"
    assert fleet.reservation(OTHER_MEMBER, OREGON, "payments") == 9
    [alert] = alerts()
    assert alert["event_type"] == "unverified"


def test_losing_a_member_role_fails_that_account_loudly_and_no_other(fleet, alerts):
    fleet.member_role(MEMBER)  # OTHER_MEMBER's role is gone (deleted, or never deployed)
    fleet.function(MEMBER, OREGON, "batch", reserved=2)
    fleet.function(OTHER_MEMBER, OREGON, "batch", reserved=3)

    lost = enforce(fleet, health_event(OTHER_MEMBER, OREGON, "batch", event_id="e-lost"))
    kept = enforce(fleet, health_event(MEMBER, OREGON, "batch", event_id="e-kept"))

    assert lost[0]["result"] == "error"
    assert "MemberRoleUnavailable" in lost[0]["error"] and OTHER_MEMBER in lost[0]["error"]
    assert kept[0]["result"] == "throttled"
    assert fleet.reservation(OTHER_MEMBER, OREGON, "batch") == 3
    failed = [a for a in alerts() if a["event_type"] == "throttle-failed"]
    assert [a["account"] for a in failed] == [OTHER_MEMBER]
    trail = build_audit(fleet.settings, session=fleet.session).history(limit=10)  # what `history` reads
    assert any(e.result == "error" and e.target.account == OTHER_MEMBER for e in trail)


def test_per_account_exemptions_hold_in_that_account_only(fleet):
    fleet.member_role(MEMBER)
    fleet.member_role(OTHER_MEMBER)
    fleet.function(MEMBER, OREGON, "ledger-sync", reserved=1)
    fleet.function(OTHER_MEMBER, OREGON, "ledger-sync", reserved=1)

    exempt = enforce(fleet, health_event(OTHER_MEMBER, OREGON, "ledger-sync", event_id="a"))
    acted = enforce(fleet, health_event(MEMBER, OREGON, "ledger-sync", event_id="b"))

    assert (exempt[0]["result"], acted[0]["result"]) == ("exempt", "throttled")
    assert fleet.reservation(OTHER_MEMBER, OREGON, "ledger-sync") == 1


def test_home_targets_keep_the_ledger_keys_they_always_had(fleet):
    fleet.function(ACCOUNT, HOME, "nightly-batch", reserved=7)
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    enforce(fleet, health_event(ACCOUNT, HOME, "nightly-batch", event_id="h"))
    enforce(fleet, health_event(ACCOUNT, OREGON, "nightly-batch", event_id="o"))
    items = fleet.session.client("dynamodb").scan(TableName=fleet.settings.ledger_table)["Items"]
    keys = {item["pk"]["S"] for item in items if item["sk"]["S"] == "THROTTLE"}
    assert keys == {"FUNCTION#nightly-batch", f"FUNCTION#{ACCOUNT}#{OREGON}#nightly-batch"}


def test_the_invocation_scan_covers_every_watched_region_of_the_home_account(fleet, monkeypatch):
    start = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    fleet.function(ACCOUNT, HOME, "orders-api")
    publish(fleet.account(ACCOUNT, OREGON), "nightly-batch", {**steady(2), 59: 800, 60: 2400}, start)
    publish(fleet.account(ACCOUNT, HOME), "orders-api", steady(40, minutes=61), start)
    for name, value in {**fleet.settings.to_env(), "AWS_REGION": HOME}.items():
        monkeypatch.setenv(name, value)
    scheduled = scheduled_event("c8f5f0b8-0000-0000-0000-000000000003", start)

    answer = invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))

    assert [(r["function"], r["region"], r["result"]) for r in answer["results"]] == [
        ("nightly-batch", OREGON, "throttled")
    ]
    assert answer["why"].startswith(f"{HOME}: account quiet; {OREGON}: ")
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 0


def test_a_region_the_scan_cannot_read_fails_the_run_after_the_others_are_enforced(fleet, monkeypatch):
    """CloudWatch in us-west-2 is made to fail at the adapter boundary (moto never fails on its own)."""
    start = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    fleet.function(ACCOUNT, HOME, "nightly-batch", reserved=7)
    publish(fleet.account(ACCOUNT, HOME), "nightly-batch", {**steady(2), 59: 800, 60: 2400}, start)
    samples = CloudWatchMetrics.samples

    def down_in_oregon(self, *args, **kwargs):
        if self._client.meta.region_name == OREGON:
            raise AwsCallFailed("InternalFailure", "CloudWatch is down", operation="GetMetricData")
        return samples(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchMetrics, "samples", down_in_oregon)
    for name, value in {**fleet.settings.to_env(), "AWS_REGION": HOME}.items():
        monkeypatch.setenv(name, value)
    scheduled = scheduled_event("c8f5f0b8-0000-0000-0000-000000000004", start)

    with pytest.raises(invocation_scan.ScanFailed, match=f"{OREGON}: InternalFailure"):
        invocation_scan.handler(scheduled, lambda_context("runaway-guardrail-invocation-scan"))

    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 0  # the home region's runaway is stopped
