"""Where a chain's context travels, how it is signed, how it is read from an event and written into a call.

One carrier, `{"depth": N, "chain_id": "...", "origin": "<function>", "issued": <epoch s>, "sig": "..."}`,
under the name `guardrail-chain`:
- Lambda Invoke: a key of the JSON payload object.
- SQS and SNS: a String message attribute holding the carrier as JSON.
- EventBridge: a key of the event's `detail` object.
Everything else in the payload, attributes or detail is left as it was.

`sig` is an HMAC-SHA256 over depth, chain id, origin and `issued`, with the chain key that only guarded
functions can read (`guardrail.recursion.chain_key`). Anyone who can send to a guarded function can
write a carrier; only a carrier the key verifies, written less than a day ago, carries its depth on.
Any other (unsigned, badly signed, expired, malformed) starts a new chain and is reported: a warning
and an `UnverifiedChainContext` metric (CloudWatch embedded metric format), never a refusal.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from guardrail.recursion.chain_key import MAX_AGE_SECONDS, MAX_SKEW_SECONDS, Keyring

logger = logging.getLogger(__name__)

CHAIN_KEY = "guardrail-chain"
#: The metric an unverified incoming chain context counts in (per function), and its namespace.
UNVERIFIED_METRIC = "UnverifiedChainContext"
METRIC_NAMESPACE = "RunawayGuardrail/RecursionGuard"
_MAX_ATTRIBUTES = 10  # SQS and SNS accept at most ten message attributes per message
_MAX_CHAIN_ID = 128
_MAX_ORIGIN = 140  # a function name (64) or ARN
_SIGNED_FORMAT = "guardrail-chain/1"


@dataclass(frozen=True)
class Chain:
    """A chain of invocations caused by one first event, and how deep this invocation is in it.

    `verified`: the depth is known to come from a guarded function (a new chain, or a carrier the chain
    key verified); False when the guard had no key and took the depth it received on trust.
    """

    depth: int
    chain_id: str
    origin: str = ""
    verified: bool = False

    @classmethod
    def fresh(cls, origin: str = "") -> Chain:
        """The start of a new chain, at the function `origin`."""
        return cls(depth=0, chain_id=uuid.uuid4().hex, origin=origin[:_MAX_ORIGIN], verified=True)

    def carrier(self, keys: Keyring | None = None) -> dict[str, Any]:
        """The carrier for calls made from this invocation: one level deeper, same chain, signed if it can."""
        carrier: dict[str, Any] = {"depth": self.depth + 1, "chain_id": self.chain_id}
        if self.origin:
            carrier["origin"] = self.origin
        if keys is not None:
            issued = int(keys.now())
            signature = keys.sign(_signed(self.depth + 1, self.chain_id, self.origin, issued))
            if signature is not None:
                carrier.update(issued=issued, sig=signature)
        return carrier


class MalformedCarrier(ValueError):
    """A `guardrail-chain` field that is not a carrier."""


def chain_of(event: Any, keys: Keyring | None = None, *, function: str = "") -> Chain:
    """The chain an incoming event belongs to; a new chain (started at `function`) when it carries none.

    With `keys`, only a carrier they verify counts; any other is reported and ignored. Without them,
    every well-formed carrier is taken on trust (the chain is then not `verified`). For a batch (SQS
    or SNS records) the deepest carrier that counts decides.
    """
    found: list[Chain] = []
    for raw in _carriers(event):
        try:
            chain, issued, signature = _parse(raw)
        except MalformedCarrier as exc:
            _report(function, f"malformed {CHAIN_KEY} field ignored: {exc}")
            continue
        if keys is None:
            found.append(chain)
            continue
        doubt = _doubt(chain, issued, signature, keys)
        if doubt:
            _report(function, f"{doubt} {CHAIN_KEY} (depth {chain.depth}, chain {chain.chain_id[:40]!r})")
        else:
            found.append(Chain(chain.depth, chain.chain_id, chain.origin, verified=True))
    return max(found, key=lambda chain: chain.depth) if found else Chain.fresh(function)


def _doubt(chain: Chain, issued: int | None, signature: str | None, keys: Keyring) -> str:
    """Why a carrier does not count ('' when it does)."""
    if signature is None or issued is None:
        return "unsigned"
    if not keys.verifies(_signed(chain.depth, chain.chain_id, chain.origin, issued), signature):
        return "badly signed"
    age = keys.now() - issued
    if age > MAX_AGE_SECONDS:
        return f"expired ({int(age)} s old)"
    if age < -MAX_SKEW_SECONDS:
        return "future-dated"
    return ""


def _signed(depth: int, chain_id: str, origin: str, issued: int) -> bytes:
    return json.dumps([_SIGNED_FORMAT, depth, chain_id, origin, issued], separators=(",", ":")).encode()


def _report(function: str, what: str) -> None:
    """A warning, and one count of `UnverifiedChainContext` for the function (embedded metric format)."""
    logger.warning("%s: %s; counting from a new chain", function or "guarded function", what)
    metric = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": UNVERIFIED_METRIC, "Unit": "Count"}],
                }
            ],
        },
        "FunctionName": function or "unknown",
        UNVERIFIED_METRIC: 1,
    }
    print(json.dumps(metric), file=sys.stdout, flush=True)  # Lambda turns this log line into the metric


def _carriers(event: Any) -> Iterator[Any]:
    if not isinstance(event, Mapping):
        return
    if CHAIN_KEY in event:  # Invoke payload
        yield event[CHAIN_KEY]
    detail = event.get("detail")
    if isinstance(detail, Mapping) and CHAIN_KEY in detail:  # EventBridge
        yield detail[CHAIN_KEY]
    records = event.get("Records")
    for record in records if isinstance(records, list) else []:
        yield from _record_carrier(record)


def _record_carrier(record: Any) -> Iterator[Any]:
    if not isinstance(record, Mapping):
        return
    sqs_attribute = (record.get("messageAttributes") or {}).get(CHAIN_KEY)
    if isinstance(sqs_attribute, Mapping):  # SQS, or SNS -> SQS with raw delivery
        yield sqs_attribute.get("stringValue")
    sns = record.get("Sns")
    if isinstance(sns, Mapping):  # SNS -> Lambda
        yield from _sns_attribute(sns)
    body = record.get("body")
    if isinstance(body, str) and body.startswith("{") and '"Notification"' in body:  # SNS -> SQS envelope
        try:
            envelope = json.loads(body)
        except json.JSONDecodeError:
            return
        if isinstance(envelope, Mapping) and envelope.get("Type") == "Notification":
            yield from _sns_attribute(envelope)


def _sns_attribute(message: Mapping[str, Any]) -> Iterator[Any]:
    attribute = (message.get("MessageAttributes") or {}).get(CHAIN_KEY)
    if isinstance(attribute, Mapping):
        yield attribute.get("Value")


def _parse(raw: Any) -> tuple[Chain, int | None, str | None]:
    """The carrier's chain (not yet verified), its `issued` time and its signature (None when absent)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise MalformedCarrier(f"not JSON: {raw[:80]!r}") from exc
    if not isinstance(raw, Mapping):
        raise MalformedCarrier(f"expected an object, got {type(raw).__name__}")
    depth, chain_id, origin = raw.get("depth"), raw.get("chain_id"), raw.get("origin", "")
    issued, signature = raw.get("issued"), raw.get("sig")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise MalformedCarrier(f"depth must be a non-negative integer, got {depth!r}")
    if not isinstance(chain_id, str) or not 0 < len(chain_id) <= _MAX_CHAIN_ID:
        raise MalformedCarrier(f"chain_id must be a string of 1-{_MAX_CHAIN_ID} characters")
    if not isinstance(origin, str) or len(origin) > _MAX_ORIGIN:
        raise MalformedCarrier(f"origin must be a string of at most {_MAX_ORIGIN} characters")
    if issued is not None and (isinstance(issued, bool) or not isinstance(issued, int)):
        raise MalformedCarrier(f"issued must be whole seconds since the epoch, got {issued!r}")
    if signature is not None and not isinstance(signature, str):
        raise MalformedCarrier("sig must be a string")
    return Chain(depth=depth, chain_id=chain_id, origin=origin), issued, signature


# -- writing the carrier into outgoing calls (botocore request parameters, changed in place) ----


def stamp_invoke(params: MutableMapping[str, Any], carrier: Mapping[str, Any]) -> None:
    """Add the carrier to a Lambda Invoke payload (a JSON object, or none)."""
    payload = params.get("Payload")
    if payload is None:
        document: Any = {}
    elif isinstance(payload, bytes | bytearray | str):
        try:
            document = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            document = None
    else:
        document = None  # a file-like payload is streamed; reading it here would consume it
    if not isinstance(document, dict):
        logger.warning("Invoke payload is not a JSON object; the chain depth cannot travel with it")
        return
    document[CHAIN_KEY] = dict(carrier)
    params["Payload"] = json.dumps(document, separators=(",", ":")).encode()


def stamp_message(message: MutableMapping[str, Any], carrier: Mapping[str, Any]) -> None:
    """Add the carrier as a message attribute (SQS SendMessage and batch entries, SNS Publish)."""
    attributes = dict(message.get("MessageAttributes") or {})
    attributes.pop(CHAIN_KEY, None)
    if len(attributes) >= _MAX_ATTRIBUTES:
        logger.warning("message already has %d attributes; the chain depth cannot travel", len(attributes))
        return
    attributes[CHAIN_KEY] = {"DataType": "String", "StringValue": json.dumps(dict(carrier))}
    message["MessageAttributes"] = attributes


def stamp_event_entry(entry: MutableMapping[str, Any], carrier: Mapping[str, Any]) -> None:
    """Add the carrier to the detail of one EventBridge PutEvents entry."""
    try:
        detail = json.loads(entry.get("Detail") or "{}")
    except json.JSONDecodeError:
        detail = None
    if not isinstance(detail, dict):
        logger.warning("event detail is not a JSON object; the chain depth cannot travel with it")
        return
    detail[CHAIN_KEY] = dict(carrier)
    entry["Detail"] = json.dumps(detail, separators=(",", ":"))
