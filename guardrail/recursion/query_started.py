"""The `Athena Query Started` event a guarded function publishes right after StartQueryExecution returns.

CloudTrail's record of the same call reaches EventBridge 20 s to a few minutes later; this event is on
the guardrail's signal bus within about half a second. It says which function started which query,
in which workgroup and chain, and which session it ran in (`sts:GetCallerIdentity`, read once per
execution environment, needs no permission). The Athena watch acts on it only once verified: the
function runs the guard, the session is the function's own, under its execution role, in the
guardrail's account and region (docs/trust-model.md). Otherwise it is alerted as unverified.

Published by `mark_athena_queries` clients, with the mark. A failure to publish is logged, never
raised: the query has started, and CloudTrail still tells the watch about it.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from guardrail.recursion import hooks
from guardrail.recursion.refusal import EVENT_SOURCE, signal_bus

logger = logging.getLogger(__name__)

QUERY_STARTED = "Athena Query Started"
#: Query texts longer than this are left out of the event (EventBridge takes 256 KB per entry).
MAX_QUERY_CHARS = 64 * 1024
_LOOKUP = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


@functools.lru_cache(maxsize=1)
def session_arn() -> str:
    """The ARN this execution environment calls AWS as (an assumed-role session in Lambda), or ''."""
    try:
        return str(boto3.client("sts", config=_LOOKUP).get_caller_identity().get("Arn", ""))
    except (BotoCoreError, ClientError) as exc:
        logger.warning("no caller identity; %r events will not verify: %s", QUERY_STARTED, exc)
        return ""


@functools.lru_cache(maxsize=1)
def _publisher() -> Any:
    """One unstamped EventBridge client per execution environment (a query may start every second)."""
    return hooks.publisher()


def query_started_entry(
    invocation: hooks.Invocation,
    *,
    query_id: str,
    workgroup: str,
    query: str,
    caller: str,
    bus: str,
    at: datetime,
) -> dict[str, Any]:
    """The PutEvents entry, on `bus`, that tells the watch `invocation` started query `query_id`."""
    detail = {
        "function": invocation.function,
        "query_execution_id": query_id,
        "workgroup": workgroup,
        "chain_id": invocation.chain.chain_id,
        "depth": invocation.chain.depth,
        "caller": caller,
        "query": query if len(query) <= MAX_QUERY_CHARS else "",
    }
    entry: dict[str, Any] = {
        "Source": EVENT_SOURCE,
        "DetailType": QUERY_STARTED,
        "Detail": json.dumps(detail),
        "EventBusName": bus,
        "Time": at,
    }
    if invocation.function_arn:
        entry["Resources"] = [":".join(invocation.function_arn.split(":")[:7])]  # unqualified
    return entry


def publish_started(started: Mapping[str, Any], parsed: Mapping[str, Any]) -> bool:
    """Publish the event for a StartQueryExecution call (`started`: its request) that returned `parsed`."""
    invocation = hooks.current()
    query_id = parsed.get("QueryExecutionId")
    if invocation is None or not isinstance(query_id, str) or not query_id:
        return False
    entry = query_started_entry(
        invocation,
        query_id=query_id,
        workgroup=str(started.get("WorkGroup") or "primary"),
        query=str(started.get("QueryString") or ""),
        caller=session_arn(),
        bus=signal_bus(),
        at=datetime.now(UTC),
    )
    try:
        response = _publisher().put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        logger.error("could not publish %r for query %s: %s", QUERY_STARTED, query_id, exc)
        return False
    if response.get("FailedEntryCount"):
        logger.error("EventBridge rejected %r: %s", QUERY_STARTED, response.get("Entries"))
        return False
    return True
