"""Shared fixtures: moto-backed AWS, the guardrail's table and topic, sample functions."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from hypothesis import settings
from moto import mock_aws

from devtools import moto_patches as patches
from devtools.inbox import drain_inbox, subscribe_inbox
from guardrail.adapters.ledger import (
    ACTIVE_INDEX,
    ACTIVE_INDEX_PARTITION_KEY,
    ACTIVE_INDEX_SORT_KEY,
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
)
from guardrail.config import GuardrailConfig, Settings
from guardrail.enforcement import Enforcer
from guardrail.handlers.composition import build_enforcer

#: Hypothesis profiles: `default` for every run (the inner loop and CI), `thorough` for `make test-all`
#: (`--hypothesis-profile=thorough`). No deadline: a loaded 2-core machine is no reason to fail an example.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile("default")

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "runaway-guardrail"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """An in-process moto account; every boto3 call in the test goes to it."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def offline_client(service: str) -> Any:
    """A real botocore client that reaches no account (for botocore's Stubber): fake keys, REGION."""
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, region_name=REGION, **keys)


@pytest.fixture
def atomic_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every AWS call of the test runs alone: moto is not thread-safe, so a test that calls it from
    several threads takes one lock around each botocore call (each call atomic, as AWS's are)."""
    lock = threading.RLock()
    original = BaseClient._make_api_call

    def one_at_a_time(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", one_at_a_time)


@pytest.fixture
def moto_patches() -> Iterator[None]:
    """`devtools.moto_patches` for this test only: atomic conditional writes, fast transactions."""
    with patches.patched():
        yield


class Clock:
    """A controllable UTC clock; `advance` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Deployed:
    """The guardrail's stateful resources in moto, and a queue subscribed to its alerts."""

    session: boto3.session.Session
    settings: Settings
    queue_url: str
    clock: Clock = field(default_factory=Clock)

    def configured(self, **changes: Any) -> Settings:
        """The settings with some configuration changed (Python field names; sections as in cdk.json)."""
        config = GuardrailConfig.model_validate({**self.settings.config.model_dump(), **changes})
        return self.settings.model_copy(update={"config": config})

    def enforcer(self, **overrides: Any) -> Enforcer:
        settings = self.configured(**overrides) if overrides else self.settings
        enforcer, _ = build_enforcer(settings, session=self.session, clock=self.clock)
        return enforcer

    def alerts(self) -> list[dict[str, Any]]:
        """Drain the alert queue; each item is the SNS envelope with its JSON document parsed."""
        return [
            {**envelope, "Document": json.loads(envelope["Message"])}
            for envelope in drain_inbox(self.session, self.queue_url)
        ]

    def reservation(self, name: str) -> int | None:
        response = self.session.client("lambda").get_function_concurrency(FunctionName=name)
        return response.get("ReservedConcurrentExecutions")


_INDEXES = {
    ACTIVE_INDEX: (ACTIVE_INDEX_PARTITION_KEY, ACTIVE_INDEX_SORT_KEY),
    AUDIT_INDEX: (AUDIT_INDEX_PARTITION_KEY, AUDIT_INDEX_SORT_KEY),
}


def create_stateful_resources(session: boto3.session.Session, prefix: str = PREFIX) -> tuple[str, str, str]:
    """Create the ledger table, the alert topic and a subscribed queue; return their names/ARN/URL."""
    table = f"{prefix}-ledger"
    session.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", *_INDEXES[ACTIVE_INDEX], *_INDEXES[AUDIT_INDEX])
        ],
        GlobalSecondaryIndexes=[  # as runaway_guardrail_cdk/state.py declares them
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (partition, sort) in _INDEXES.items()
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    topic_arn = session.client("sns").create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    return table, topic_arn, subscribe_inbox(session, topic_arn, f"{prefix}-alert-inbox")


@pytest.fixture
def deployed(aws: boto3.session.Session) -> Deployed:
    """The guardrail's table and topic in moto, with settings pointing at them."""
    table, topic_arn, queue_url = create_stateful_resources(aws)
    settings = Settings(
        config=GuardrailConfig(name_prefix=PREFIX, exempt_functions=("payments-api",)),
        ledger_table=table,
        alert_topic_arn=topic_arn,
        account=ACCOUNT,
        region=REGION,
    )
    return Deployed(session=aws, settings=settings, queue_url=queue_url)


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


@pytest.fixture
def make_function(aws: boto3.session.Session) -> Callable[..., str]:
    """Create a Lambda function in moto: `make_function(name, reserved=None, tags=None, layers=None)`.

    Each runs with the role `role` names (created on first use; default `sample-function-role`).
    """
    iam, client, code = aws.client("iam"), aws.client("lambda"), _code_zip()
    roles: dict[str, str] = {}
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }

    def make(
        name: str,
        reserved: int | None = None,
        tags: dict[str, str] | None = None,
        layers: list[str] | None = None,
        role: str = "sample-function-role",
    ) -> str:
        if role not in roles:
            roles[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
                "Arn"
            ]
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=roles[role],
            Handler="app.handler",
            Code={"ZipFile": code},
            Tags=tags or {},
            Layers=layers or [],
        )
        if reserved is not None:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        return name

    return make
