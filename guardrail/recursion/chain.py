"""Where a chain's depth travels, and how it is read from an event and written into a call.

One carrier, `{"depth": N, "chain_id": "..."}`, under the name `guardrail-chain`:
- Lambda Invoke: a key of the JSON payload object.
- SQS and SNS: a String message attribute holding the carrier as JSON.
- EventBridge: a key of the event's `detail` object.
Everything else in the payload, attributes or detail is left as it was.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

CHAIN_KEY = "guardrail-chain"
_MAX_ATTRIBUTES = 10  # SQS and SNS accept at most ten message attributes per message
_MAX_CHAIN_ID = 128


@dataclass(frozen=True)
class Chain:
    """A chain of invocations caused by one first event, and how deep this invocation is in it."""

    depth: int
    chain_id: str

    @classmethod
    def fresh(cls) -> Chain:
        """The start of a new chain."""
        return cls(depth=0, chain_id=uuid.uuid4().hex)

    def carrier(self) -> dict[str, Any]:
        """The carrier for calls made from this invocation: one level deeper, same chain."""
        return {"depth": self.depth + 1, "chain_id": self.chain_id}


class MalformedCarrier(ValueError):
    """A `guardrail-chain` field that is not a carrier."""


def chain_of(event: Any) -> Chain:
    """The chain an incoming event belongs to; a fresh chain when it carries none or a malformed one.

    For a batch (SQS or SNS records) the deepest record decides.
    """
    found: list[Chain] = []
    for raw in _carriers(event):
        try:
            found.append(_parse(raw))
        except MalformedCarrier as exc:
            logger.warning("malformed %s field ignored, counting from a fresh chain: %s", CHAIN_KEY, exc)
    return max(found, key=lambda chain: chain.depth) if found else Chain.fresh()


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


def _parse(raw: Any) -> Chain:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise MalformedCarrier(f"not JSON: {raw[:80]!r}") from exc
    if not isinstance(raw, Mapping):
        raise MalformedCarrier(f"expected an object, got {type(raw).__name__}")
    depth, chain_id = raw.get("depth"), raw.get("chain_id")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise MalformedCarrier(f"depth must be a non-negative integer, got {depth!r}")
    if not isinstance(chain_id, str) or not 0 < len(chain_id) <= _MAX_CHAIN_ID:
        raise MalformedCarrier(f"chain_id must be a string of 1-{_MAX_CHAIN_ID} characters")
    return Chain(depth=depth, chain_id=chain_id)


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
