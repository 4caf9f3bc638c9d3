"""Acceptance (#12): an organization on the stand-in, three accounts, two regions, all of it deployed.

The central stacks are synthesized with `regions` and `organization` and deployed into moto's
CloudFormation in ap-northeast-1 (home) and us-west-2; the member template goes into two member
accounts in both regions, as the StackSet's stack instances would (moto cannot run a service-managed
StackSet). Events put on a member's default bus travel by the deployed forwarding rules to the central
bus, whose deployed rules run the deployed handlers; enforcement goes through the member's deployed
role (the moto patches refuse AssumeRole of a role that does not exist, as AWS does).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest

from devtools.deploy import deploy
from devtools.event_bridge import Buses, EventBusBridge
from devtools.inbox import drain_inbox, subscribe_inbox
from devtools.lambda_runtime import LambdaRuntime
from devtools.stand_in import stand_in_layer
from infra.app import build_stacks, cdk_json_context
from tests.conftest import ACCOUNT
from tests.integration.fleet.conftest import Fleet, _organization_access_role
from tests.integration.fleet.test_regions_and_accounts import health_event

pytestmark = [pytest.mark.infra, pytest.mark.usefixtures("moto_patches")]

HOME, OREGON = "ap-northeast-1", "us-west-2"
MEMBER, OTHER = "222222222222", "333333333333"
BUS = "runaway-guardrail-signals"
ORGANIZATION = {
    "enabled": True,
    "organizationId": "o-abcdefghij",
    "organizationalUnitIds": ["ou-ab12-cdefgh34"],
}
MEMBER_STACK = "StackSet-runaway-guardrail-member"


@dataclass
class Organization:
    """The deployed fleet: sessions per account, the bus network, the central functions' runtime."""

    accounts: Fleet
    buses: Buses
    lambdas: LambdaRuntime
    inbox: str  # a queue subscribed to the alert topic

    def alerts(self) -> list[dict[str, Any]]:
        """The JSON documents of the alerts sent since the last call."""
        return [json.loads(e["Message"]) for e in drain_inbox(self.accounts.session, self.inbox)]

    def put(self, account: str, region: str, event: dict[str, Any], bus: str = "default") -> list[Any]:
        """Put an event on an account's bus in `region` (EventBridge stamps both)."""
        return self.buses.deliver(f"arn:aws:events:{region}:{account}:event-bus/{bus}", event)

    def kill_switch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Invoke the deployed kill switch."""
        answer: dict[str, Any] = json.loads(
            json.dumps(self.lambdas.run("runaway-guardrail-kill-switch", request))
        )
        return answer


def _synthesize(outdir: Path, layer: str) -> Any:
    context = cdk_json_context()
    context["guardrail"] = {
        **context["guardrail"],
        "powertoolsLayerArn": layer,
        "regions": [OREGON],
        "organization": ORGANIZATION,
    }
    app = cdk.App(outdir=str(outdir), context=context)
    stacks = build_stacks(app, env=cdk.Environment(account=ACCOUNT, region=HOME))
    app.synth()
    return stacks


@pytest.fixture
def organization(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Organization]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    home = boto3.session.Session(region_name=HOME)
    stacks = _synthesize(tmp_path / "cdk.out", stand_in_layer(home))
    outputs = deploy(
        home, tmp_path / "cdk.out", [stacks.state.stack_name, stacks.service.stack_name], ACCOUNT, HOME
    )
    inbox = subscribe_inbox(home, outputs[stacks.state.stack_name]["AlertTopicArn"])
    oregon = boto3.session.Session(region_name=OREGON)
    deploy(oregon, tmp_path / "cdk.out", [stacks.regions[OREGON].stack_name], ACCOUNT, OREGON)
    accounts = Fleet(session=home, settings=None, queue_url="")  # type: ignore[arg-type]
    template = json.dumps(stacks.organization.member_template)
    for account in (MEMBER, OTHER):
        _organization_access_role(account)
        for region in (HOME, OREGON):  # the StackSet's stack instances
            accounts.account(account, region).client("cloudformation").create_stack(
                StackName=MEMBER_STACK,
                TemplateBody=template,
                Parameters=[
                    {"ParameterKey": "CentralAccount", "ParameterValue": ACCOUNT},
                    {"ParameterKey": "HomeRegion", "ParameterValue": HOME},
                ],
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
    lambdas = LambdaRuntime(home, logs=io.StringIO())
    lambdas.attach()
    buses = Buses()
    for account in (ACCOUNT, MEMBER, OTHER):
        for region in (HOME, OREGON):
            session = accounts.account(account, region)
            for bus in ("default", BUS):  # every account's and region's signal bus forwards to home's
                bridge = EventBusBridge(session, lambdas, bus=bus, account=account)
                buses.add(f"arn:aws:events:{region}:{account}:event-bus/{bus}", bridge)
    yield Organization(accounts, buses, lambdas, inbox)
    lambdas.detach()


def results(deliveries: list[Any]) -> list[dict[str, Any]]:
    """The handlers' results of every delivery (failing if a handler raised)."""
    for delivery in deliveries:
        assert delivery.error is None, delivery.error
    return [result for delivery in deliveries for result in delivery.result.get("results", [])]


def test_from_tokyo_a_loop_in_oregon_is_stopped_named_by_its_region_and_restored_exactly(organization):
    """The recursion guard in Oregon publishes on Oregon's signal bus; the regional stack forwards it."""
    fleet = organization.accounts
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


def test_a_runaway_in_a_member_account_in_oregon_is_stopped_through_its_role_and_restored(organization):
    fleet = organization.accounts
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


def test_a_forged_event_claiming_another_account_changes_nothing(organization):
    fleet = organization.accounts
    fleet.function(OTHER, OREGON, "payments", reserved=9)
    victim = f"arn:aws:lambda:{OREGON}:{OTHER}:function:payments"

    [result] = results(organization.put(MEMBER, OREGON, health_event(MEMBER, OREGON, victim)))

    assert result["result"] == "unverified"
    assert fleet.reservation(OTHER, OREGON, "payments") == 9


def test_a_panic_scoped_to_one_account_leaves_the_others_untouched(organization):
    fleet = organization.accounts
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
