"""The guard's `Athena Query Started` entry: what it says, bounded, and the watch reads it back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from guardrail.detectors.athena.claims import parse_claim
from guardrail.recursion.chain import Chain
from guardrail.recursion.hooks import Invocation
from guardrail.recursion.query_started import MAX_QUERY_CHARS, QUERY_STARTED, query_started_entry

AT = datetime(2026, 11, 28, 7, 28, tzinfo=UTC)
ARN = "arn:aws:lambda:us-west-2:123456789012:function:nightly-batch:live"
INVOCATION = Invocation("nightly-batch", ARN, Chain(depth=4, chain_id="chain-1"), limit=700)
SESSION = "arn:aws:sts::123456789012:assumed-role/nightly-batch-role/nightly-batch"


def entry(query: str = "SELECT 1") -> dict:
    return query_started_entry(
        INVOCATION, query_id="q-1", workgroup="primary", query=query, caller=SESSION, bus="signals", at=AT
    )


def as_delivered(put: dict) -> dict:
    """The event EventBridge makes of a PutEvents entry."""
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": put["DetailType"],
        "source": put["Source"],
        "account": "123456789012",
        "time": put["Time"].isoformat(),
        "region": "us-west-2",
        "resources": put["Resources"],
        "detail": json.loads(put["Detail"]),
    }


def test_the_entry_names_the_unqualified_function_on_the_signal_bus_and_reads_back():
    put = entry()
    assert (put["Source"], put["DetailType"], put["EventBusName"]) == ("guardrail", QUERY_STARTED, "signals")
    assert put["Resources"] == ["arn:aws:lambda:us-west-2:123456789012:function:nightly-batch"]
    claim = parse_claim(as_delivered(put))
    assert (claim.function, claim.query_id, claim.at, claim.session) == ("nightly-batch", "q-1", AT, SESSION)
    assert (claim.chain_id, claim.depth, claim.query) == ("chain-1", 4, "SELECT 1")


def test_a_query_text_too_long_for_an_event_is_left_out():
    assert json.loads(entry("x" * MAX_QUERY_CHARS)["Detail"])["query"] == "x" * MAX_QUERY_CHARS
    assert json.loads(entry("x" * (MAX_QUERY_CHARS + 1))["Detail"])["query"] == ""
