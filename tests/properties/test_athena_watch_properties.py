"""The Athena watch survives arbitrary events, and counts none that is not a well-formed Athena event."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import athena_watch
from tests.conftest import ACCOUNT
from tests.properties.harness import DEPLOYED, GHOSTS, expect, mix, survives
from tests.properties.samples import FINISHED, KNOWN_QUERIES, STARTED, finished, started
from tests.properties.strategies import (
    envelope_wrongs,
    envelopes,
    json_values,
    missing_or,
    nasty_text,
    not_strings,
    not_times,
    one_field_wrong,
    shallow_lists,
)

CONTEXT = lambda_context("runaway-guardrail-athena-watch")


def _as_user(event: dict[str, Any]) -> dict[str, Any]:
    """The same call, made by an IAM user rather than a role's session."""
    name = event["detail"]["userIdentity"]["principalId"].rsplit(":", 1)[-1]
    identity = {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}"}
    return {**event, "detail": {**event["detail"], "userIdentity": identity}}


minutes = st.integers(0, 180).map(lambda m: f"2026-11-28T{m // 60:02d}:{m % 60:02d}:00Z")
#: Mostly new query ids, some of the ids Athena knows (whose finish is booked with bytes and regions).
query_ids = st.tuples(st.integers(0, 3), st.uuids(), st.sampled_from(KNOWN_QUERIES)).map(
    lambda t: t[2] if t[0] == 0 else str(t[1])
)
huge = st.sampled_from(["y" * 129, "y" * 3_000, "y" * 100_000])
#: Identities that are no IAM identity: too long for a counter key, or not printable ASCII.
bad_identities = st.sampled_from(
    ["y" * 1025, "y" * 100_000, f"arn:aws:iam::{ACCOUNT}:role/\nnightly-batch", "arn:aws:iam::名前:role/r"]
)
IDENTITY = ("detail", "userIdentity")
REQUEST = ("detail", "requestParameters")
one_wrong = st.one_of(
    one_field_wrong(
        st.sampled_from(sorted(DEPLOYED)).map(started),
        {
            **envelope_wrongs(*STARTED),
            ("detail", "eventName"): not_strings,
            ("detail", "eventTime"): missing_or(not_times),
            IDENTITY: missing_or(nasty_text, shallow_lists),
            (*IDENTITY, "type"): missing_or(not_strings),
            (*IDENTITY, "arn"): st.one_of(not_strings, bad_identities),
            (*IDENTITY, "sessionContext", "sessionIssuer", "arn"): st.one_of(not_strings, bad_identities),
            ("detail", "errorCode"): not_strings.filter(lambda v: v is not None),
            REQUEST: st.one_of(nasty_text, shallow_lists, st.booleans(), st.integers()),
            (*REQUEST, "workGroup"): st.one_of(not_strings.filter(lambda v: v is not None), huge),
            (*REQUEST, "queryString"): not_strings.filter(lambda v: v is not None),
            ("detail", "responseElements"): missing_or(nasty_text, shallow_lists),
            ("detail", "responseElements", "queryExecutionId"): missing_or(not_strings, st.just(""), huge),
        },
    ),
    one_field_wrong(
        st.sampled_from(KNOWN_QUERIES).map(finished),
        {
            **envelope_wrongs(*FINISHED),
            ("detail", "currentState"): missing_or(not_strings, st.just("")),
            ("detail", "queryExecutionId"): missing_or(not_strings, st.just(""), huge),
            ("detail", "workgroupName"): st.one_of(not_strings, huge),
        },
    ),
)
#: Well-formed events from callers that are not the deployed functions, with hostile free text.
valid = st.one_of(
    st.builds(started, st.sampled_from(GHOSTS), query_ids, at=minutes),
    st.builds(
        started,
        st.sampled_from(GHOSTS),
        query_ids,
        at=minutes,
        queryString=nasty_text,
        workGroup=st.sampled_from(["primary", "analytics", "etl.nightly"]),
    ),
    st.builds(started, st.sampled_from(GHOSTS), query_ids, at=minutes).map(_as_user),
    st.builds(finished, query_ids, at=minutes, workgroupName=st.sampled_from(["primary", "analytics"])),
    st.builds(finished, query_ids, at=minutes, currentState=st.sampled_from(["RUNNING", "QUEUED", "FAILED"])),
)


def not_counted(answer: dict[str, Any]) -> None:
    """An event with a wrong field is rejected, with the reason, or ignored: never counted."""
    assert answer["status"] in {"rejected", "ignored"}, answer
    assert answer["status"] == "ignored" or answer["error"], answer


def test_athena_watch_survives_any_event(watched):
    cases = mix(
        (1, expect("any JSON", json_values)),
        (1, expect("any envelope", envelopes([STARTED[0]], [STARTED[1], FINISHED[1]]))),
        (3, expect("one field wrong", one_wrong, not_counted)),
        (2, expect("valid, not a deployed function", valid)),
    )
    survives(watched, athena_watch.handler, CONTEXT, cases, reaches=frozenset({"alerted", "already-alerted"}))
