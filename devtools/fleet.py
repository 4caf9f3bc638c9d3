"""An organization on the stand-in: the central stacks and the member template deployed into moto.

Home is ap-northeast-1 and us-west-2 is watched; two member accounts get the member template in both
regions, as the StackSet's stack instances would (moto cannot run a service-managed StackSet). Every
account's and region's buses are bridged (`Buses`): an event put on a member's bus travels by the
deployed forwarding rules to the central bus, whose deployed rules run the deployed handlers.
Needs moto running in-process (`mock_aws`) with the moto patches.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3

from devtools.deploy import deploy
from devtools.event_bridge import Buses, Delivery, EventBusBridge
from devtools.inbox import drain_inbox, subscribe_inbox
from devtools.lambda_runtime import LambdaRuntime
from devtools.moto_server import ACCOUNT
from devtools.stand_in import stand_in_layer
from infra.app import build_stacks, cdk_json_context

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


def organization_access_role(account: str) -> None:
    """The role AWS Organizations creates in every account it creates (moto's backend, not its API)."""
    from moto.iam.models import iam_backends  # noqa: PLC0415 - moto's own state, as Organizations would

    backend = iam_backends[account]["aws"]
    if ADMIN_ROLE not in {role.name for role in backend.roles.values()}:
        backend.create_role(
            role_name=ADMIN_ROLE,
            assume_role_policy_document=json.dumps(CENTRAL_TRUST),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=None,
            linked_service=None,
        )


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
            organization_access_role(account)
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


@dataclass
class FleetDeployment:
    """The deployed organization: its account sessions, the bus network, the central functions' runtime."""

    accounts: AccountSessions
    buses: Buses
    lambdas: LambdaRuntime
    inbox: str  # a queue subscribed to the alert topic

    def put(self, account: str, region: str, event: dict[str, Any], bus: str = "default") -> list[Delivery]:
        """Put an event on an account's bus in `region` (EventBridge stamps both)."""
        return self.buses.deliver(f"arn:aws:events:{region}:{account}:event-bus/{bus}", event)

    def kill_switch(self, request: dict[str, Any]) -> dict[str, Any]:
        """Invoke the deployed kill switch."""
        answer: dict[str, Any] = json.loads(
            json.dumps(self.lambdas.run("runaway-guardrail-kill-switch", request))
        )
        return answer

    def alerts(self) -> list[dict[str, Any]]:
        """The JSON documents of the alerts sent since the last call."""
        return [json.loads(e["Message"]) for e in drain_inbox(self.accounts.home, self.inbox)]


def deploy_fleet(workdir: Path) -> FleetDeployment:
    """Synthesize the app in organization mode and deploy it, home, region and members, into moto."""
    home = boto3.session.Session(region_name=HOME)
    outdir = workdir / "cdk.out"
    context = cdk_json_context()
    context["guardrail"] = {
        **context["guardrail"],
        "powertoolsLayerArn": stand_in_layer(home),
        "regions": [OREGON],
        "organization": ORGANIZATION,
    }
    app = cdk.App(outdir=str(outdir), context=context)
    stacks = build_stacks(app, env=cdk.Environment(account=ACCOUNT, region=HOME))
    app.synth()
    state, service = stacks.state.stack_name, stacks.service.stack_name
    outputs = deploy(home, outdir, [state, service], ACCOUNT, HOME)
    deploy(
        boto3.session.Session(region_name=OREGON),
        outdir,
        [stacks.regions[OREGON].stack_name],
        ACCOUNT,
        OREGON,
    )
    assert stacks.organization is not None  # noqa: S101 - organization mode is on above
    accounts = AccountSessions(home)
    template = json.dumps(stacks.organization.member_template)
    for account in (MEMBER, OTHER):
        for region in (HOME, OREGON):  # the StackSet's stack instances
            accounts.session(account, region).client("cloudformation").create_stack(
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
    bus_names = ("default", f"{context['guardrail']['namePrefix']}-signals")
    for account in (ACCOUNT, MEMBER, OTHER):
        for region in (HOME, OREGON):
            session = accounts.session(account, region)
            for bus in bus_names:
                buses.add(
                    f"arn:aws:events:{region}:{account}:event-bus/{bus}",
                    EventBusBridge(session, lambdas, bus=bus, account=account),
                )
    inbox = subscribe_inbox(home, outputs[state]["AlertTopicArn"])
    return FleetDeployment(accounts, buses, lambdas, inbox)
