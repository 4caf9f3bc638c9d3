"""botocore event hooks that carry the chain into outgoing calls and refuse the call past the limit.

The hooks are added to botocore's built-in handlers, so every botocore session (and every client,
including plain `boto3.client(...)`) created after the guard is first applied carries them. Outside
a guarded invocation they do nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import handlers
from botocore.config import Config

from guardrail.recursion.chain import Chain, stamp_event_entry, stamp_invoke, stamp_message
from guardrail.recursion.exceptions import RecursionDepthExceeded
from guardrail.recursion.refusal import publish, refusal_entry, signal_bus

_PUBLISH = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})
_PUT_EVENTS = "before-parameter-build.eventbridge.PutEvents"


@dataclass(frozen=True)
class Invocation:
    """The guarded invocation that is running: who, how deep, and how deep it may call."""

    function: str
    function_arn: str | None
    chain: Chain
    limit: int


# Lambda runs one invocation at a time per execution environment; a module-level slot (not a
# ContextVar) lets calls made from the handler's own worker threads carry the chain too.
_current: Invocation | None = None
_install_lock = threading.Lock()
_installed = False


@contextmanager
def running(invocation: Invocation) -> Iterator[None]:
    """Make `invocation` the one whose chain outgoing calls carry, for the duration of the block."""
    global _current  # noqa: PLW0603 - the one slot the hooks read
    previous, _current = _current, invocation
    try:
        yield
    finally:
        _current = previous


def current() -> Invocation | None:
    """The guarded invocation running now, if any."""
    return _current


def _carrier_for(operation: str, target: str) -> dict[str, Any] | None:
    invocation = _current
    if invocation is None:
        return None
    depth = invocation.chain.depth + 1
    if depth > invocation.limit:
        refusal = RecursionDepthExceeded(
            function=invocation.function,
            depth=depth,
            limit=invocation.limit,
            chain_id=invocation.chain.chain_id,
            operation=operation,
        )
        entry = refusal_entry(refusal, function_arn=invocation.function_arn, target=target, bus=signal_bus())
        publish(publisher(), entry)
        raise refusal
    return invocation.chain.carrier()


def _on_invoke(params: MutableMapping[str, Any], **_: Any) -> None:
    carrier = _carrier_for("lambda.Invoke", str(params.get("FunctionName", "")))
    if carrier is not None:
        stamp_invoke(params, carrier)


def _on_send_message(params: MutableMapping[str, Any], **_: Any) -> None:
    carrier = _carrier_for("sqs.SendMessage", str(params.get("QueueUrl", "")))
    if carrier is not None:
        stamp_message(params, carrier)


def _on_send_message_batch(params: MutableMapping[str, Any], **_: Any) -> None:
    carrier = _carrier_for("sqs.SendMessageBatch", str(params.get("QueueUrl", "")))
    if carrier is not None:
        for entry in params.get("Entries") or []:
            stamp_message(entry, carrier)


def _on_publish(params: MutableMapping[str, Any], **_: Any) -> None:
    target = str(params.get("TopicArn") or params.get("TargetArn") or params.get("PhoneNumber") or "")
    carrier = _carrier_for("sns.Publish", target)
    if carrier is not None:
        stamp_message(params, carrier)


def _on_put_events(params: MutableMapping[str, Any], **_: Any) -> None:
    entries = params.get("Entries") or []
    buses = sorted({str(entry.get("EventBusName") or "default") for entry in entries})
    carrier = _carrier_for("events.PutEvents", ",".join(buses))
    if carrier is not None:
        for entry in entries:
            stamp_event_entry(entry, carrier)


HOOKS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("before-parameter-build.lambda.Invoke", _on_invoke),
    ("before-parameter-build.sqs.SendMessage", _on_send_message),
    ("before-parameter-build.sqs.SendMessageBatch", _on_send_message_batch),
    ("before-parameter-build.sns.Publish", _on_publish),
    (_PUT_EVENTS, _on_put_events),
)


def install() -> None:
    """Add the hooks to every botocore session created from now on (and to boto3's default one)."""
    global _installed  # noqa: PLW0603 - installed once per process
    with _install_lock:
        if _installed:
            return
        handlers.BUILTIN_HANDLERS.extend(HOOKS)
        if boto3.DEFAULT_SESSION is not None:  # created before the guard: its clients need the hooks too
            for event_name, hook in HOOKS:
                boto3.DEFAULT_SESSION.events.register(event_name, hook)
        _installed = True


def publisher() -> Any:
    """An EventBridge client whose PutEvents is not stamped (the guard's signals are not in the chain)."""
    client = boto3.session.Session().client("events", config=_PUBLISH)
    client.meta.events.unregister(_PUT_EVENTS, _on_put_events)
    return client
