"""The `Recursion Depth Exceeded` event the guard publishes when it refuses a call."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from guardrail.recursion.exceptions import RecursionDepthExceeded

logger = logging.getLogger(__name__)

EVENT_SOURCE = "guardrail"
DETAIL_TYPE = "Recursion Depth Exceeded"
#: Names the guardrail's signal bus (the stack output `SignalBusName`) where the layer does not.
SIGNAL_BUS_ENV = "GUARDRAIL_SIGNAL_BUS"
#: Written into the guard's layer by the stack that publishes it: `{"signalBus": "<name>"}`.
DEPLOYMENT_FILE = Path(__file__).with_name("deployment.json")
DEFAULT_BUS = "default"


def signal_bus(env: Mapping[str, str] | None = None, deployment: Path = DEPLOYMENT_FILE) -> str:
    """The bus refusals go to: `GUARDRAIL_SIGNAL_BUS`, else the layer's own, else the default bus.

    On the default bus the guardrail does not act on a refusal: that case is logged as a warning.
    """
    bus = (os.environ if env is None else env).get(SIGNAL_BUS_ENV, "").strip()
    if not bus and deployment.is_file():
        try:
            bus = str(json.loads(deployment.read_text()).get("signalBus", "")).strip()
        except (OSError, ValueError, AttributeError) as exc:  # never raised over the refusal itself
            logger.error("unreadable %s: %s", deployment, exc)
    if bus:
        return bus
    logger.warning(
        "no signal bus: set %s to the guardrail's SignalBusName output, or use the guard's layer;"
        " this refusal goes to the default bus, where the guardrail does not act on it",
        SIGNAL_BUS_ENV,
    )
    return DEFAULT_BUS


def refusal_entry(
    refusal: RecursionDepthExceeded,
    *,
    function_arn: str | None,
    target: str,
    bus: str,
    unsigned_depth: bool = False,
) -> dict[str, Any]:
    """The PutEvents entry, on `bus`, that tells the guardrail which function crossed its limit.

    `unsigned_depth`: the depth came from a carrier no chain key verified (the function has no key),
    so someone outside the chain may have written it; the watch alerts such a refusal, never acts on it.
    """
    detail: dict[str, Any] = {
        "function": refusal.function,
        "depth": refusal.depth,
        "limit": refusal.limit,
        "chain_id": refusal.chain_id,
        "operation": refusal.operation,
        "target": target,
    }
    if unsigned_depth:
        detail["unsigned_depth"] = True
    entry: dict[str, Any] = {
        "Source": EVENT_SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "EventBusName": bus,
    }
    if function_arn:
        entry["Resources"] = [function_arn]
    return entry


def publish(client: Any, entry: dict[str, Any]) -> bool:
    """Put the event on its bus; a failure is logged, never raised over the refusal itself."""
    try:
        response = client.put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        logger.error("could not publish %r: %s", DETAIL_TYPE, exc)
        return False
    if response.get("FailedEntryCount"):
        logger.error("EventBridge rejected %r: %s", DETAIL_TYPE, response.get("Entries"))
        return False
    return True
