"""A fleet in moto: the home account in two regions, and two member accounts reached through their role.

moto keeps accounts apart: credentials from `sts.assume_role` act in the role's account. The moto patches
make `AssumeRole` of a role that does not exist fail, as AWS does (moto alone allows it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from devtools.fleet import CENTRAL_TRUST, HOME, OREGON, OTHER, AccountSessions
from devtools.fleet import ORGANIZATION as FLEET_ORGANIZATION
from devtools.inbox import drain_inbox
from devtools.incident import create_function
from devtools.lambda_runtime import lambda_context
from devtools.scenario import Scenario
from guardrail.config import GuardrailConfig, Settings
from guardrail.handlers import kill_switch, recursion_watch
from guardrail.handlers.composition import build_enforcer
from tests.conftest import ACCOUNT, PREFIX, create_stateful_resources

#: The incident's loop with no batch before it: a query every 3 s, over the 60-a-window limit in 3 min.
OREGON_LOOP = Scenario(
    athena_region=OREGON,
    data_region=HOME,
    reserved_concurrency=7,
    batch_queries=0,
    loop_minutes=10,
    duplicate_share=0.05,
)

OTHER_MEMBER = OTHER
#: The stand-in's organization, with one member's own exemption.
ORGANIZATION = {**FLEET_ORGANIZATION, "accounts": {OTHER_MEMBER: {"exemptFunctions": ["ledger-sync"]}}}


@dataclass
class Fleet:
    """The home session, the settings of a guardrail in ap-northeast-1 watching us-west-2 and members."""

    session: boto3.session.Session
    settings: Settings
    queue_url: str

    def __post_init__(self) -> None:
        self._accounts = AccountSessions(self.session)

    def account(self, account: str, region: str = OREGON) -> boto3.session.Session:
        """A session acting in `account` (the home account's own, or an admin's in a member account)."""
        return self._accounts.session(account, region)

    def function(self, account: str, region: str, name: str, reserved: int | None = None) -> str:
        """Create a function; return its ARN."""
        return create_function(self.account(account, region), name, role="app-role", reserved=reserved)

    def reservation(self, account: str, region: str, name: str) -> int | None:
        """A function's reserved concurrency (None: unreserved)."""
        answer = self.account(account, region).client("lambda").get_function_concurrency(FunctionName=name)
        return answer.get("ReservedConcurrentExecutions")

    def member_role(self, account: str) -> None:
        """The member stack's enforcement role in `account`, trusting the central account."""
        self.account(account, HOME).client("iam").create_role(
            RoleName=self.settings.config.member_role_name, AssumeRolePolicyDocument=json.dumps(CENTRAL_TRUST)
        )

    def enforcer(self) -> Any:
        """The enforcement path the deployed functions build from these settings."""
        return build_enforcer(self.settings, session=self.session)


@pytest.fixture
def fleet(
    aws: boto3.session.Session, moto_patches: None, atomic_calls: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Fleet]:
    """The guardrail's table and topic in ap-northeast-1, watching us-west-2 and the organization."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    home = boto3.session.Session(region_name=HOME)
    table, topic_arn, queue_url = create_stateful_resources(home)
    config = GuardrailConfig.from_context(
        {"namePrefix": PREFIX, "regions": [OREGON], "organization": ORGANIZATION}
    )
    settings = Settings(
        config=config, ledger_table=table, alert_topic_arn=topic_arn, account=ACCOUNT, region=HOME
    )
    yield Fleet(session=home, settings=settings, queue_url=queue_url)


@pytest.fixture
def alerts(fleet: Fleet) -> Callable[[], list[dict[str, Any]]]:
    """Every alert's JSON document delivered so far (SNS -> SQS)."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(envelope["Message"]) for envelope in drain_inbox(fleet.session, fleet.queue_url)]

    return read


@pytest.fixture
def invoke(fleet: Fleet, monkeypatch: pytest.MonkeyPatch):
    """The kill switch's handler, deployed in ap-northeast-1."""
    for name, value in {**fleet.settings.to_env(), "AWS_REGION": HOME}.items():
        monkeypatch.setenv(name, value)

    def call(payload: dict[str, Any]) -> dict[str, Any]:
        context = lambda_context("runaway-guardrail-kill-switch")
        return json.loads(json.dumps(kill_switch.handler(payload, context)))

    return call


@pytest.fixture
def watch(fleet: Fleet, monkeypatch: pytest.MonkeyPatch):
    """The recursion watch's handler in ap-northeast-1, with the fleet's settings as they are when called."""

    def call(event: dict[str, Any]) -> list[dict[str, Any]]:
        for name, value in {**fleet.settings.to_env(), "AWS_REGION": HOME}.items():
            monkeypatch.setenv(name, value)
        answer = recursion_watch.handler(event, lambda_context("runaway-guardrail-recursion-watch"))
        assert answer["ok"], answer
        results: list[dict[str, Any]] = json.loads(json.dumps(answer["results"]))
        return results

    return call
