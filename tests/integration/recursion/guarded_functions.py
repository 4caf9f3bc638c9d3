"""Guarded sample functions for the recursion tests, and what their runtime recorded of refusals."""

from __future__ import annotations

import json
from typing import Any

import boto3

from guardrail.recursion import RecursionDepthExceeded, recursion_guard


def invoker(target: str, invocation_type: str, **guard: Any) -> Any:
    """A guarded handler that invokes `target` with the event it received, unchanged."""

    @recursion_guard(**guard)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        boto3.client("lambda").invoke(
            FunctionName=target, InvocationType=invocation_type, Payload=json.dumps(event)
        )
        return {"ok": True}

    return handler


def forwarder(queue_url: str, *, batch: bool = False, **guard: Any) -> Any:
    """A guarded SQS consumer that sends every message body on to `queue_url`."""

    @recursion_guard(**guard)
    def handler(event: dict[str, Any], context: Any) -> None:
        sqs = boto3.client("sqs")
        bodies = [record["body"] for record in event["Records"]]
        if batch:
            entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
            sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        else:
            for body in bodies:
                sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    return handler


def refused(runtime: Any) -> list[tuple[str, int, int]]:
    return [
        (name, exc.depth, exc.limit)
        for name, exc in runtime.errors
        if isinstance(exc, RecursionDepthExceeded)
    ]


def enforce_refusals(runtime: Any) -> list[dict[str, Any]]:
    """Hand every published refusal to the recursion watch; return its results."""
    events = runtime.refusal_events()
    return [result for event in events for result in runtime.deliver_to_watch(event)["results"]]
