"""What a query's guard mark may add to an alert: a claim, verified only by CloudTrail's caller.

A mark (`guardrail.recursion.query_mark`) is text anyone who can run a query can write. It never makes
the watch throttle: it names, in the evidence of the workgroup's alerts, the function the query claims
to come from, marked `verified: false` until CloudTrail's record of the same query names that function
as the caller (`verified: true`); a mark that names another function than the verified caller is shown
as `contradicted`.
"""

from __future__ import annotations

from typing import Any

from guardrail.detectors.athena.events import Caller
from guardrail.recursion.query_mark import read_mark


def mark_evidence(sql: str, caller: Caller | None) -> dict[str, Any]:
    """`{"query_mark": ...}` for a marked query (empty for an unmarked one), against its verified caller."""
    mark = read_mark(sql)
    if mark is None:
        return {}
    shown: dict[str, Any] = {"claimed_function": mark.function, "chain_id": mark.chain_id}
    if caller is None:
        shown |= {
            "verified": False,
            "note": "claimed by the query's text, not verified: nothing throttled on it",
        }
    elif caller.function == mark.function:
        shown |= {"verified": True}
    else:
        shown |= {"verified": False, "contradicted": True, "caller": caller.arn}
    return {"query_mark": shown}
