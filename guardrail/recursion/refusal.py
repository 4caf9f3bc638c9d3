"""The `Recursion Depth Exceeded` event the guard publishes when it refuses a call."""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from guardrail.recursion.exceptions import RecursionDepthExceeded

logger = logging.getLogger(__name__)

EVENT_SOURCE = "guardrail"
DETAIL_TYPE = "Recursion Depth Exceeded"


def refusal_entry(
    refusal: RecursionDepthExceeded, *, function_arn: str | None, target: str
) -> dict[str, Any]:
    """The PutEvents entry (default bus) that tells the guardrail which function crossed its limit."""
    detail = {
        "function": refusal.function,
        "depth": refusal.depth,
        "limit": refusal.limit,
        "chain_id": refusal.chain_id,
        "operation": refusal.operation,
        "target": target,
    }
    entry: dict[str, Any] = {"Source": EVENT_SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail)}
    if function_arn:
        entry["Resources"] = [function_arn]
    return entry


def publish(client: Any, entry: dict[str, Any]) -> bool:
    """Put the event on the default bus; a failure is logged, never raised over the refusal itself."""
    try:
        response = client.put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        logger.error("could not publish %r: %s", DETAIL_TYPE, exc)
        return False
    if response.get("FailedEntryCount"):
        logger.error("EventBridge rejected %r: %s", DETAIL_TYPE, response.get("Entries"))
        return False
    return True
