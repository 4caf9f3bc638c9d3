"""An in-process Lambda runtime for chains of guarded functions, against moto.

moto cannot run Lambda code (no docker) and EventBridge cannot deliver to Lambda, so:
- `Invoke` is routed by a botocore `before-call` hook on boto3's default session (every client the
  handlers create) to the registered handler: sync calls run at once, async (`Event`) calls queue;
- SQS goes through moto's real queues; `pump()` polls them and hands batches to the consumer;
- `Recursion Depth Exceeded` events go through moto's real EventBridge rule to an SQS queue; the
  test hands them to the recursion-watch handler (adding the `account` field moto leaves out).
A function whose reserved concurrency is 0 is not run, as in Lambda.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from guardrail.handlers import recursion_watch
from guardrail.recursion.limits import limit_from_tag
from tests.conftest import ACCOUNT, REGION

Handler = Callable[[Any, Any], Any]


def lambda_context(name: str) -> SimpleNamespace:
    return SimpleNamespace(
        function_name=name,
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        memory_limit_in_mb=128,
        aws_request_id="00000000-0000-0000-0000-000000000000",
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name="local",
    )


@dataclass
class Runtime:
    """Registered handlers, the invocations they received, and the errors they raised."""

    session: boto3.session.Session
    handlers: dict[str, Handler] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # queue URL -> consumer function
    pending: list[tuple[str, Any]] = field(default_factory=list)
    invocations: list[tuple[str, Any]] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)
    refusal_queue: str = ""

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def subscribe(self, queue_url: str, function: str) -> None:
        self.queues[queue_url] = function

    def depths(self, function: str | None = None) -> list[int]:
        """The chain depth each invocation received (0 when it carried none), in order."""
        return [
            carried_depth(event) for name, event in self.invocations if function is None or name == function
        ]

    def throttled(self, name: str) -> bool:
        concurrency = self.session.client("lambda").get_function_concurrency(FunctionName=name)
        return concurrency.get("ReservedConcurrentExecutions") == 0

    def run(self, name: str, event: Any) -> Any:
        if self.throttled(name):
            raise RuntimeError(f"{name} is throttled")
        self.invocations.append((name, event))
        try:
            return self.handlers[name](event, lambda_context(name))
        except Exception as exc:  # the runtime reports a handler's error, it does not crash
            self.errors.append((name, exc))
            raise

    def pump(self, limit: int = 500) -> None:
        """Run queued async invocations and SQS batches until nothing is left (or `limit` runs)."""
        sqs = self.session.client("sqs")
        for _ in range(limit):
            if self.pending:
                name, event = self.pending.pop(0)
                if not self.throttled(name):
                    _swallow(self.run, name, event)
                continue
            for url, function in self.queues.items():
                if self.throttled(function):
                    continue
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
                ).get("Messages", [])
                if messages:
                    for message in messages:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    _swallow(self.run, function, sqs_event(url, messages))
                    break
            else:
                return
        raise AssertionError(f"the chain did not stop within {limit} runs")

    def refusal_events(self) -> list[dict[str, Any]]:
        sqs = self.session.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.refusal_queue, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=self.refusal_queue, ReceiptHandle=message["ReceiptHandle"])
        # moto's EventBridge -> SQS delivery leaves out the envelope's `account`; AWS always sets it
        return [{"account": ACCOUNT, **json.loads(message["Body"])} for message in messages]

    def deliver_to_watch(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = recursion_watch.handler(event, lambda_context("runaway-guardrail-watch"))
        return result

    def dispatch_invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """A `before-call.lambda.Invoke` hook: run (or queue) the target instead of calling moto."""
        name = unquote(params["url_path"].split("/functions/")[1].split("/")[0])
        event = json.loads(params["body"] or b"{}")
        if self.throttled(name):
            raise self.session.client("lambda").exceptions.TooManyRequestsException(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}}, "Invoke"
            )
        if params["headers"].get("X-Amz-Invocation-Type") == "Event":
            self.pending.append((name, event))
            return _response(202, b"")
        try:
            body = json.dumps(self.run(name, event)).encode()
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return _response(200, json.dumps(error).encode(), function_error="Unhandled")
        return _response(200, body)


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


def sqs_event(queue_url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rsplit('/', 1)[1]}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {
                    key: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
                    for key, value in m.get("MessageAttributes", {}).items()
                },
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def _response(
    status: int, body: bytes, function_error: str | None = None
) -> tuple[AWSResponse, dict[str, Any]]:
    parsed: dict[str, Any] = {"StatusCode": status, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        parsed["FunctionError"] = function_error
    return AWSResponse("https://lambda.local", status, {}, None), parsed


def _swallow(run: Callable[[str, Any], Any], name: str, event: Any) -> None:
    # recorded in Runtime.errors; nobody waits on an async invocation or an SQS batch
    with contextlib.suppress(Exception):
        run(name, event)


@pytest.fixture
def runtime(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The in-process runtime; the guardrail's settings are in the environment for its handlers."""
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    session = deployed.session
    events, sqs = session.client("events"), session.client("sqs")
    inbox = sqs.create_queue(QueueName="recursion-watch-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="recursion-depth-exceeded",
        EventPattern=json.dumps({"source": ["guardrail"], "detail-type": ["Recursion Depth Exceeded"]}),
    )
    events.put_targets(Rule="recursion-depth-exceeded", Targets=[{"Id": "inbox", "Arn": inbox_arn}])
    runtime = Runtime(session=session, refusal_queue=inbox)
    boto3.setup_default_session(region_name=REGION)
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.lambda.Invoke", runtime.dispatch_invoke)
    limit_from_tag.cache_clear()
    yield runtime
    boto3.DEFAULT_SESSION = None
    limit_from_tag.cache_clear()
