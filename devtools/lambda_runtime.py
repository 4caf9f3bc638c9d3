"""An in-process Lambda runtime over moto, shared by the tests and the local stand-in.

moto stores Lambda functions but cannot run their code (it needs docker). The runtime runs them here:
- `lambda.Invoke`, made through any boto3 session the runtime is attached to, is answered by it as
  Lambda would: an unknown function fails with moto's own error; a function whose reserved concurrency
  is 0 is throttled (`TooManyRequestsException`), not run; `RequestResponse` runs the handler at once
  and answers its result (or its error as `FunctionError`); `Event` is queued (202) for `pump()`.
- The handler is the one registered for the function, or else the function's deployed `Handler`,
  imported here. It runs with the function's deployed environment and a Lambda context built from
  the function's deployed configuration, so the code under test is configured the way the stack
  configures it.
- `pump()` runs the queued asynchronous invocations and hands the messages of the SQS queues a
  function subscribes to (an event source mapping) to it in batches, until nothing is left.
Every invocation and every error a handler raised are recorded, in order.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass
from typing import Any, TextIO

import boto3
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from devtools.moto_server import ACCOUNT

Handler = Callable[[Any, Any], Any]
_HOOKS = ("before-parameter-build.lambda.Invoke", "before-call.lambda.Invoke")


@dataclass(frozen=True)
class LambdaContext:
    """The Lambda context object, with every attribute powertools reads."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    log_stream_name: str = "local"

    @property
    def log_group_name(self) -> str:
        """The function's log group, as Lambda names it."""
        return f"/aws/lambda/{self.function_name}"


def lambda_context(
    name: str, *, region: str = "us-east-1", account: str = ACCOUNT, memory_limit_in_mb: int = 128
) -> LambdaContext:
    """The context of function `name` in `account` and `region` (moto's defaults)."""
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return LambdaContext(name, arn, memory_limit_in_mb=memory_limit_in_mb)


def sqs_event(queue_arn: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping hands a function for `messages` (ReceiveMessage's)."""
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
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


class FunctionThrottled(RuntimeError):
    """A function whose reserved concurrency is 0 was asked to run."""


@contextmanager
def function_environment(variables: dict[str, str]) -> Iterator[None]:
    """Set a function's environment for the duration of one invocation."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.cache
def discarded() -> TextIO:
    """A sink for handlers' logs nobody reads, open for the life of the process.

    A handler module's loggers keep the stream they were imported with, for every later run in the
    process: a sink closed after one run would make each later log line fail.
    """
    return open(os.devnull, "w")


class LambdaRuntime:
    """Runs functions' handlers in-process: on `Invoke` through an attached session, or directly."""

    def __init__(self, session: boto3.session.Session, *, logs: TextIO | None = None) -> None:
        self.session = session
        self.handlers: dict[str, Handler] = {}
        self.queues: dict[str, tuple[str, str]] = {}  # queue URL -> (queue ARN, consumer function)
        self.pending: list[tuple[str, Any]] = []  # asynchronous invocations not yet run
        self.invocations: list[tuple[str, Any]] = []
        self.errors: list[tuple[str, BaseException]] = []
        self._logs = logs
        self._configs: dict[str, dict[str, Any]] = {}
        self._attached: list[boto3.session.Session] = []

    @functools.cached_property
    def _lambda(self) -> Any:
        """The session's Lambda client, made at first use (where the runtime's calls go then)."""
        return self.session.client("lambda")

    def register(self, name: str, handler: Handler) -> None:
        """Run `handler` for function `name` instead of its deployed handler."""
        self.handlers[name] = handler

    def subscribe(self, queue_url: str, function: str) -> None:
        """Hand the queue's messages to `function`, as an SQS event source mapping does."""
        attributes = self.session.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )
        self.queues[queue_url] = (attributes["Attributes"]["QueueArn"], function)

    def attach(self, session: boto3.session.Session | None = None) -> None:
        """Answer every `Invoke` made by clients created from now on from `session` (default: ours)."""
        target = session or self.session
        target.events.register(_HOOKS[0], self._remember)
        target.events.register(_HOOKS[1], self._dispatch)
        self._attached.append(target)

    def detach(self) -> None:
        """Stop answering `Invoke` on every session attached to."""
        for session in self._attached:
            session.events.unregister(_HOOKS[0], self._remember)
            session.events.unregister(_HOOKS[1], self._dispatch)
        self._attached.clear()

    def throttled(self, name: str) -> bool:
        """Whether the function's reserved concurrency is 0 (Lambda then refuses to run it)."""
        concurrency = self._lambda.get_function_concurrency(FunctionName=name)
        return bool(concurrency.get("ReservedConcurrentExecutions") == 0)

    def run(self, name: str, event: Any) -> Any:
        """Run the function's handler on `event` now; its error is recorded, then raised."""
        config = self._configuration(name)
        if self.throttled(config["FunctionName"]):
            raise FunctionThrottled(f"{config['FunctionName']} is throttled (reserved concurrency 0)")
        return self._execute(config, event)

    def pump(self, limit: int = 500) -> None:
        """Run queued async invocations and SQS batches until nothing is left (or fail after `limit`)."""
        sqs = self.session.client("sqs")
        for _ in range(limit):
            if self.pending:
                _unwaited(self.run, *self.pending.pop(0))  # throttled: Lambda drops it after its retries
                continue
            for url, (arn, function) in self.queues.items():
                if self.throttled(function):
                    continue
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
                ).get("Messages", [])
                if messages:
                    for message in messages:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    _unwaited(self.run, function, sqs_event(arn, messages))
                    break
            else:
                return
        raise RuntimeError(f"the invocations did not stop within {limit} runs")

    def _configuration(self, name: str) -> dict[str, Any]:
        """The function's deployed configuration (read once: a deployment does not change it)."""
        if name not in self._configs:
            self._configs[name] = dict(self._lambda.get_function_configuration(FunctionName=name))
        return self._configs[name]

    def _execute(self, config: dict[str, Any], event: Any) -> Any:
        function = config["FunctionName"]
        handler = self.handlers.get(function) or self._deployed_handler(config["Handler"])
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        variables["AWS_REGION"] = self.session.region_name or "us-east-1"
        context = LambdaContext(
            function,
            config["FunctionArn"],
            aws_request_id=f"local-{len(self.invocations)}",
            memory_limit_in_mb=int(config.get("MemorySize", 128)),
        )
        self.invocations.append((function, event))
        with function_environment(variables), self._logging():
            try:
                return handler(event, context)
            except Exception as exc:  # the runtime reports a handler's error, it does not crash
                self.errors.append((function, exc))
                raise

    def _deployed_handler(self, handler: str) -> Handler:
        module_name, _, attribute = handler.rpartition(".")
        with self._logging():  # loggers bind stdout when their module is imported
            function: Handler = getattr(importlib.import_module(module_name), attribute)
        return function

    def _logging(self) -> contextlib.AbstractContextManager[Any]:
        return redirect_stdout(self._logs) if self._logs else nullcontext()

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["runtime_params"] = params  # the same dict the guard's hooks stamp, read at before-call

    def _dispatch(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context["runtime_params"]
        payload = params.get("Payload") or b"{}"
        event = json.loads(payload if isinstance(payload, (bytes, str)) else payload.read())
        config = self._configuration(params["FunctionName"])  # an unknown function fails as in AWS
        function = config["FunctionName"]
        if self.throttled(function):
            raise self._lambda.exceptions.TooManyRequestsException(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."}}, "Invoke"
            )
        if params.get("InvocationType") == "Event":
            self.pending.append((function, event))
            return _response(202, b"")
        try:
            body = json.dumps(self._execute(config, event)).encode()
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return _response(200, json.dumps(error).encode(), function_error="Unhandled")
        return _response(200, body)


def _response(
    status: int, body: bytes, function_error: str | None = None
) -> tuple[AWSResponse, dict[str, Any]]:
    parsed: dict[str, Any] = {"StatusCode": status, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if status == 200:
        parsed["ExecutedVersion"] = "$LATEST"
    if function_error:
        parsed["FunctionError"] = function_error
    return AWSResponse("local://lambda", status, {}, None), parsed


def _unwaited(run: Callable[[str, Any], Any], name: str, event: Any) -> None:
    # recorded in `errors`; nobody waits on an asynchronous invocation or an SQS batch
    with contextlib.suppress(Exception):
        run(name, event)
