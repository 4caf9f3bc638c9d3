"""An organization on the stand-in: the central stacks and the member template deployed into moto.

By default home is ap-northeast-1 and us-west-2 is watched; two member accounts get the member
template in both regions, as the StackSet's stack instances would (moto cannot run a service-managed
StackSet). A `FleetShape` chooses other regions and members (none: organization mode off). Every
account's and region's buses are bridged (`Buses`): an event put on a member's bus travels by the
deployed forwarding rules to the central bus, whose deployed rules run the deployed handlers.
Needs moto (in-process `mock_aws` or its server) with the moto patches.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aws_cdk as cdk
import boto3

from devtools.deploy import deploy
from devtools.event_bridge import Buses, Delivery, EventBusBridge
from devtools.inbox import drain_inbox, subscribe_inbox
from devtools.lambda_runtime import LambdaRuntime
from devtools.moto_server import ACCOUNT
from devtools.scenario import Scenario
from devtools.stand_in import guardrail_context, stand_in_layer
from runaway_guardrail_cdk.app import build_stacks

HOME, OREGON = "ap-northeast-1", "us-west-2"
MEMBER, OTHER = "222222222222", "333333333333"
ORGANIZATION = {
    "enabled": True,
    "organizationId": "o-abcdefghij",
    "organizationalUnitIds": ["ou-ab12-cdefgh34"],
}
MEMBER_STACK = "StackSet-runaway-guardrail-member"
#: A role's trust in the central (home) account.
CENTRAL_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}
ADMIN_ROLE = "OrganizationAccountAccessRole"


def organization_access_role(session: boto3.session.Session, account: str) -> None:
    """The role AWS Organizations creates in every account it creates, trusting the central account.

    Created in `account` through moto's `x-moto-account-id` header (in-process or on moto's server),
    as Organizations does when it creates the account.
    """
    iam = session.client("iam")

    def in_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    iam.meta.events.register("before-sign.iam.*", in_account)
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=ADMIN_ROLE, AssumeRolePolicyDocument=json.dumps(CENTRAL_TRUST))


@dataclass
class AccountSessions:
    """Sessions acting in any account of the stand-in: the home account's own, a member's as its admin."""

    home: boto3.session.Session
    _admins: dict[str, dict[str, Any]] = field(default_factory=dict)

    def session(self, account: str, region: str) -> boto3.session.Session:
        """A session acting in `account` and `region`."""
        if account == ACCOUNT:
            return boto3.session.Session(region_name=region)
        if account not in self._admins:
            organization_access_role(self.home, account)
            self._admins[account] = self.home.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ADMIN_ROLE}", RoleSessionName="admin"
            )["Credentials"]
        given = self._admins[account]
        return boto3.session.Session(
            aws_access_key_id=given["AccessKeyId"],
            aws_secret_access_key=given["SecretAccessKey"],
            aws_session_token=given["SessionToken"],
            region_name=region,
        )


@dataclass(frozen=True)
class FleetShape:
    """Where the guardrail is deployed and what it watches: its home region, other regions, members."""

    home: str = HOME
    regions: tuple[str, ...] = (OREGON,)  # watched besides home
    members: tuple[str, ...] = (MEMBER, OTHER)  # organization mode when any

    @classmethod
    def of(cls, scenario: Scenario) -> FleetShape:
        """The shape a replay scenario names: its home region, Athena's region, its member accounts."""
        return cls(
            home=scenario.home_region, regions=scenario.watched_regions, members=scenario.member_accounts
        )

    @property
    def places(self) -> list[tuple[str, str]]:
        """Every (account, region) with a deployed bus: the central account's and the members'."""
        return [(a, r) for a in (ACCOUNT, *self.members) for r in (self.home, *self.regions)]


@dataclass
class FleetDeployment:
    """The deployed organization: its account sessions, the bus network, the central functions' runtime."""

    accounts: AccountSessions
    buses: Buses
    lambdas: LambdaRuntime
    inbox: str  # a queue subscribed to the alert topic
    outputs: dict[str, str] = field(default_factory=dict)  # the central stacks' outputs
    stacks: list[str] = field(default_factory=list)  # every stack deployed in the central account

    def put(self, account: str, region: str, event: dict[str, Any], bus: str = "default") -> list[Delivery]:
        """Put an event on an account's bus in `region` (EventBridge stamps both)."""
        return self.buses.deliver(f"arn:aws:events:{region}:{account}:event-bus/{bus}", event)

    def kill_switch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Invoke the deployed kill switch."""
        answer: dict[str, Any] = json.loads(
            json.dumps(self.lambdas.run(self.outputs["KillSwitchFunctionName"], request))
        )
        return answer

    def envelopes(self) -> list[dict[str, Any]]:
        """The SNS envelopes of the alerts sent since the last call (subject and message)."""
        return drain_inbox(self.accounts.home, self.inbox)

    def alerts(self) -> list[dict[str, Any]]:
        """The JSON documents of the alerts sent since the last call."""
        return [json.loads(e["Message"]) for e in self.envelopes()]


def deploy_fleet(
    workdir: Path,
    shape: FleetShape = FleetShape(),
    *,
    detectors: Mapping[str, Any] | None = None,
    logs: TextIO | None = None,
) -> FleetDeployment:
    """Synthesize the app for `shape` and deploy it, home, regions and members, into the stand-in.

    `detectors` overrides cdk.json's detector sections (a replay's `athena-watch`).
    """
    home = boto3.session.Session(region_name=shape.home)
    outdir = workdir / "cdk.out"
    overrides = {
        "powertoolsLayerArn": stand_in_layer(home),
        "regions": list(shape.regions),
        "organization": ORGANIZATION if shape.members else {"enabled": False},
    }
    context = guardrail_context(overrides, detectors)
    app = cdk.App(outdir=str(outdir), context=context)
    stacks = build_stacks(app, env=cdk.Environment(account=ACCOUNT, region=shape.home))
    app.synth()
    central = [stacks.state.stack_name, stacks.service.stack_name]
    outputs: dict[str, str] = {}
    for values in deploy(home, outdir, central, ACCOUNT, shape.home).values():
        outputs.update(values)
    for region in shape.regions:
        regional = stacks.regions[region].stack_name
        deploy(boto3.session.Session(region_name=region), outdir, [regional], ACCOUNT, region)
        central.append(regional)
    accounts = AccountSessions(home)
    if stacks.organization is not None:
        template = json.dumps(stacks.organization.member_template)
        for account, region in shape.places:  # the StackSet's stack instances
            if account != ACCOUNT:
                _create_member_stack(accounts.session(account, region), template, shape.home)
    lambdas = LambdaRuntime(home, logs=logs or io.StringIO())
    lambdas.attach()
    buses = Buses()
    for account, region in shape.places:
        session = accounts.session(account, region)
        for bus in ("default", outputs["SignalBusName"]):
            buses.add(
                f"arn:aws:events:{region}:{account}:event-bus/{bus}",
                EventBusBridge(session, lambdas, bus=bus, account=account),
            )
    inbox = subscribe_inbox(home, outputs["AlertTopicArn"])
    return FleetDeployment(accounts, buses, lambdas, inbox, outputs, central)


def _create_member_stack(session: boto3.session.Session, template: str, home: str) -> None:
    """Create the member template in a member account and region, as a StackSet instance."""
    session.client("cloudformation").create_stack(
        StackName=MEMBER_STACK,
        TemplateBody=template,
        Parameters=[
            {"ParameterKey": "CentralAccount", "ParameterValue": ACCOUNT},
            {"ParameterKey": "HomeRegion", "ParameterValue": home},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
