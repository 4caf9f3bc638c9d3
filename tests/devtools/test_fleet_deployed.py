"""Acceptance (#12): an organization on the stand-in, three accounts, two regions, all of it deployed.

`devtools.fleet` deploys the central stacks (home ap-northeast-1, us-west-2 watched, organization mode)
and the member template in two member accounts and both regions into moto; events put on a bus travel
by the deployed forwarding rules to the central bus, whose deployed rules run the deployed handlers;
enforcement goes through the member's deployed role (the moto patches refuse AssumeRole of a role that
does not exist, as AWS does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.fleet import HOME, MEMBER, OREGON, OTHER, FleetDeployment, deploy_fleet
from tests.conftest import ACCOUNT
from tests.integration.fleet.conftest import Fleet
from tests.integration.fleet.health_notices import health_event

pytestmark = [pytest.mark.infra, pytest.mark.usefixtures("moto_patches")]
BUS = "runaway-guardrail-signals"


@pytest.fixture
def organization(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FleetDeployment]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    deployed = deploy_fleet(tmp_path)
    yield deployed
    deployed.lambdas.detach()


@pytest.fixture
def fleet(organization: FleetDeployment) -> Fleet:
    """Functions and reservations in any account of the deployed organization."""
    return Fleet(session=organization.accounts.home, settings=None, queue_url="")  # type: ignore[arg-type]


def results(deliveries: list[Any]) -> list[dict[str, Any]]:
    """The handlers' results of every delivery (failing if a handler raised)."""
    for delivery in deliveries:
        assert delivery.error is None, delivery.error
    return [result for delivery in deliveries for result in delivery.result.get("results", [])]


def test_from_tokyo_a_loop_in_oregon_is_stopped_named_by_its_region_and_restored_exactly(organization, fleet):
    """The recursion guard in Oregon publishes on Oregon's signal bus; the regional stack forwards it."""
    arn = fleet.function(ACCOUNT, OREGON, "nightly-batch", reserved=7)
    fleet.account(ACCOUNT, OREGON).client("lambda").tag_resource(
        Resource=arn, Tags={"guardrail:guarded": "true"}
    )
    fleet.function(ACCOUNT, HOME, "nightly-batch", reserved=3)  # same name at home: not the one looping
    refusal = {
        "version": "0",
        "id": "r-1",
        "detail-type": "Recursion Depth Exceeded",
        "source": "guardrail",
        "account": ACCOUNT,
        "time": "2026-11-28T02:00:00Z",
        "region": OREGON,
        "resources": [arn],
        "detail": {"function": "nightly-batch", "depth": 17, "limit": 16, "chain_id": "c0ffee"},
    }

    [result] = results(organization.put(ACCOUNT, OREGON, refusal, bus=BUS))

    assert (result["region"], result["result"], result["prior_reservation"]) == (OREGON, "throttled", 7)
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 0
    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 3
    [alert] = organization.alerts()
    assert (alert["region"], alert["function"]) == (OREGON, "nightly-batch")
    restored = organization.kill_switch(alert["undo"]["payload"])
    assert [(r["region"], r["result"]) for r in restored["results"]] == [(OREGON, "restored")]
    assert fleet.reservation(ACCOUNT, OREGON, "nightly-batch") == 7
    assert fleet.reservation(ACCOUNT, HOME, "nightly-batch") == 3


def test_a_runaway_in_a_member_account_in_oregon_is_stopped_through_its_role_and_restored(
    organization, fleet
):
    fleet.function(MEMBER, OREGON, "nightly-batch", reserved=7)
    fleet.function(OTHER, OREGON, "nightly-batch", reserved=4)

    [result] = results(organization.put(MEMBER, OREGON, health_event(MEMBER, OREGON, "nightly-batch")))

    assert (result["account"], result["region"], result["result"]) == (MEMBER, OREGON, "throttled")
    assert fleet.reservation(MEMBER, OREGON, "nightly-batch") == 0
    assert fleet.reservation(OTHER, OREGON, "nightly-batch") == 4
    status = organization.kill_switch({"action": "status"})
    assert list(status["by_place"]) == [MEMBER]
    assert [r["function"] for r in status["by_place"][MEMBER][OREGON]] == ["nightly-batch"]
    arn = f"arn:aws:lambda:{OREGON}:{MEMBER}:function:nightly-batch"
    restored = organization.kill_switch({"action": "restore", "functions": [arn]})
    assert [r["result"] for r in restored["results"]] == ["restored"]
    assert fleet.reservation(MEMBER, OREGON, "nightly-batch") == 7


def test_a_forged_event_claiming_another_account_changes_nothing(organization, fleet):
    fleet.function(OTHER, OREGON, "payments", reserved=9)
    victim = f"arn:aws:lambda:{OREGON}:{OTHER}:function:payments"

    [result] = results(organization.put(MEMBER, OREGON, health_event(MEMBER, OREGON, victim)))

    assert result["result"] == "unverified"
    assert fleet.reservation(OTHER, OREGON, "payments") == 9


def test_a_panic_scoped_to_one_account_leaves_the_others_untouched(organization, fleet):
    fleet.function(MEMBER, OREGON, "etl", reserved=3)
    fleet.function(OTHER, OREGON, "etl", reserved=5)
    fleet.function(ACCOUNT, OREGON, "etl", reserved=6)

    answer = organization.kill_switch(
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
    assert (fleet.reservation(OTHER, OREGON, "etl"), fleet.reservation(ACCOUNT, OREGON, "etl")) == (5, 6)
