"""The guard's hold on every botocore client: carry the chain into outgoing calls, refuse past the limit.

Every API call of every botocore client goes through `BaseClient._make_api_call`; the guard wraps that
one method once, when this module is imported (the layer's `guardrail.recursion`), so it holds every
client the process makes, whatever the order: a client made at module level before the guard was
imported or applied (the style AWS recommends), in the handler, through a resource object or through
`boto3.Session().client(...)`. AWS's X-Ray SDK and OpenTelemetry's botocore instrumentation wrap the
same method. Outside a guarded invocation the wrapper only passes the call on.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from guardrail.recursion.chain import Chain, stamp_event_entry, stamp_invoke, stamp_message
from guardrail.recursion.chain_key import Keyring
from guardrail.recursion.exceptions import RecursionDepthExceeded
from guardrail.recursion.refusal import publish, refusal_entry, signal_bus

_PUBLISH = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


@dataclass(frozen=True)
class Invocation:
    """The guarded invocation that is running: who, how deep, how deep it may call, what it signs with."""

    function: str
    function_arn: str | None
    chain: Chain
    limit: int
    keys: Keyring | None = None


# Lambda runs one invocation at a time per execution environment; a module-level slot (not a
# ContextVar) lets calls made from the handler's own worker threads carry the chain too.
_current: Invocation | None = None
_install_lock = threading.Lock()
#: Clients whose calls are never stamped nor refused: the guard's own publishers.
_unguarded: weakref.WeakSet[BaseClient] = weakref.WeakSet()


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
        entry = refusal_entry(
            refusal,
            function_arn=invocation.function_arn,
            target=target,
            bus=signal_bus(),
            unsigned_depth=not invocation.chain.verified,
        )
        publish(publisher(), entry)
        raise refusal
    return invocation.chain.carrier(invocation.keys)


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


#: The guarded calls, by botocore service name and operation name.
HOOKS: dict[tuple[str, str], Callable[..., None]] = {
    ("lambda", "Invoke"): _on_invoke,
    ("sqs", "SendMessage"): _on_send_message,
    ("sqs", "SendMessageBatch"): _on_send_message_batch,
    ("sns", "Publish"): _on_publish,
    ("events", "PutEvents"): _on_put_events,
}


def install() -> None:
    """Wrap `BaseClient._make_api_call` once per process, so every client's calls pass the guard."""
    with _install_lock:
        original = BaseClient._make_api_call
        if getattr(original, "guardrail_guarded", False):
            return

        def guarded_call(client: BaseClient, operation_name: str, api_params: Any) -> Any:
            if _current is not None and client not in _unguarded:
                hook = HOOKS.get((client.meta.service_model.service_name, operation_name))
                if hook is not None and isinstance(api_params, MutableMapping):
                    hook(api_params)
            return original(client, operation_name, api_params)

        guarded_call.guardrail_guarded = True  # type: ignore[attr-defined]
        BaseClient._make_api_call = guarded_call


def publisher() -> Any:
    """An EventBridge client whose PutEvents is not stamped (the guard's signals are not in the chain)."""
    client = boto3.session.Session().client("events", config=_PUBLISH)
    _unguarded.add(client)
    return client


install()
