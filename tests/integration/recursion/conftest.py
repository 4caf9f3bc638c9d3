"""Chains of guarded functions, run by the shared in-process Lambda runtime against moto.

moto cannot run Lambda code (no docker) and EventBridge cannot deliver to Lambda, so:
- `Invoke` made through boto3's default session (every client the handlers create) is answered by
  `devtools.lambda_runtime.LambdaRuntime`, which runs the registered handler: sync calls at once,
  async (`Event`) calls queued; SQS goes through moto's real queues, which `pump()` hands to the
  subscribed function; a function whose reserved concurrency is 0 is not run, as in Lambda;
- `Recursion Depth Exceeded` events go to the guardrail's signal bus (GUARDRAIL_SIGNAL_BUS), through
  moto's real EventBridge rule on that bus to an SQS queue; the test hands them to the recursion-watch
  handler (adding the `account` field moto leaves out);
- the functions made here carry the guard's layer, published in moto under the deployed layer's name,
  as a function that runs the guard does, and read the chain key (a secret in moto, named in
  GUARDRAIL_CHAIN_SECRET) as `guard(fn)` lets them.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from devtools.lambda_runtime import LambdaRuntime, lambda_context
from guardrail.handlers import recursion_watch
from guardrail.recursion.chain import Chain
from guardrail.recursion.chain_key import CHAIN_SECRET_ENV, forget_keys, keyring
from guardrail.recursion.limits import limit_from_tag
from guardrail.recursion.refusal import SIGNAL_BUS_ENV
from tests.conftest import ACCOUNT, REGION


class ChainRuntime(LambdaRuntime):
    """The shared runtime, with what the chain tests read: depths, refusals, the watch's answers."""

    def __init__(self, session: boto3.session.Session, refusal_queue: str) -> None:
        super().__init__(session)
        self.refusal_queue = refusal_queue

    def depths(self, function: str | None = None) -> list[int]:
        """The chain depth each invocation received (0 when it carried none), in order."""
        return [
            carried_depth(event) for name, event in self.invocations if function is None or name == function
        ]

    def refusal_events(self) -> list[dict[str, Any]]:
        """The refusals the guard published, as the recursion watch's rule delivered them."""
        sqs = self.session.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.refusal_queue, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=self.refusal_queue, ReceiptHandle=message["ReceiptHandle"])
        # moto's EventBridge -> SQS delivery leaves out the envelope's `account`; AWS always sets it
        return [{"account": ACCOUNT, **json.loads(message["Body"])} for message in messages]

    def deliver_to_watch(self, event: dict[str, Any]) -> dict[str, Any]:
        """Hand one refusal event to the recursion watch's handler."""
        result: dict[str, Any] = recursion_watch.handler(event, lambda_context("runaway-guardrail-watch"))
        return result


def carried_depth(event: Any) -> int:
    """Read the depth the way a reader of the docs would: payload key, or an SQS attribute."""
    if "guardrail-chain" in event:
        return int(event["guardrail-chain"]["depth"])
    records = event.get("Records", [])
    depths = [
        json.loads(r["messageAttributes"]["guardrail-chain"]["stringValue"])["depth"]
        for r in records
        if "guardrail-chain" in r.get("messageAttributes", {})
    ]
    return max(depths, default=0)


def signed_carrier(depth: int, chain_id: str, origin: str = "upstream") -> dict[str, Any]:
    """A carrier as the guarded function `origin` writes it, signed with the runtime's chain key."""
    keys = keyring()
    assert keys is not None and keys.available, "the runtime fixture sets the chain key"
    return Chain(depth - 1, chain_id, origin).carrier(keys)


@pytest.fixture
def guard_layer(deployed: Any) -> str:
    """The guard's layer, published in moto under the deployed layer's name; its versioned ARN."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("python/guardrail/recursion/__init__.py", "")
    client = deployed.session.client("lambda")
    name = deployed.settings.config.guard_layer_name
    arn: str = client.publish_layer_version(LayerName=name, Content={"ZipFile": buffer.getvalue()})[
        "LayerVersionArn"
    ]
    return arn


@pytest.fixture
def make_function(make_function: Callable[..., str], guard_layer: str) -> Callable[..., str]:
    """Functions that run the guard: they carry its layer unless told otherwise (`layers=[]`)."""

    def make(name: str, *, layers: list[str] | None = None, **kwargs: Any) -> str:
        return make_function(name, layers=[guard_layer] if layers is None else layers, **kwargs)

    return make


@pytest.fixture
def runtime(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChainRuntime]:
    """The in-process runtime; the guardrail's settings are in the environment for its handlers."""
    bus = deployed.settings.config.signal_bus_name
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION, SIGNAL_BUS_ENV: bus}.items():
        monkeypatch.setenv(name, value)
    session = deployed.session
    events, sqs = session.client("events"), session.client("sqs")
    inbox = sqs.create_queue(QueueName="recursion-watch-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.create_event_bus(Name=bus)
    events.put_rule(
        Name="recursion-depth-exceeded",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["guardrail"], "detail-type": ["Recursion Depth Exceeded"]}),
    )
    events.put_targets(
        Rule="recursion-depth-exceeded", EventBusName=bus, Targets=[{"Id": "inbox", "Arn": inbox_arn}]
    )
    key = session.client("secretsmanager").create_secret(Name="chain-key", SecretString=uuid.uuid4().hex * 2)
    monkeypatch.setenv(CHAIN_SECRET_ENV, key["ARN"])
    forget_keys()
    runtime = ChainRuntime(session, refusal_queue=inbox)
    boto3.setup_default_session(region_name=REGION)
    assert boto3.DEFAULT_SESSION is not None
    runtime.attach(boto3.DEFAULT_SESSION)
    limit_from_tag.cache_clear()
    yield runtime
    runtime.detach()
    boto3.DEFAULT_SESSION = None
    limit_from_tag.cache_clear()
    forget_keys()


@pytest.fixture
def watch(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployed recursion watch's handler: `watch(event)` answers as Lambda would (JSON)."""
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        context = lambda_context("runaway-guardrail-recursion-watch")
        return json.loads(json.dumps(recursion_watch.handler(event, context)))

    return call
