"""The recursion watch survives arbitrary events, and acts on none that is not a valid signal."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import recursion_watch
from tests.properties.harness import DEPLOYED, GHOSTS, expect, mix, survives
from tests.properties.samples import ALARM, GUARD, HEALTH, HEALTH_CODE, alarm, arn, health, refusal
from tests.properties.strategies import (
    bad_function_refs,
    envelope_wrongs,
    envelopes,
    json_values,
    missing_or,
    nasty_text,
    not_integers,
    not_scalars,
    not_strings,
    one_field_wrong,
    scalars,
    shallow_lists,
    shallow_objects,
)

CONTEXT = lambda_context("runaway-guardrail-recursion-watch")


deployed_refs = st.sampled_from(sorted(DEPLOYED)).flatmap(lambda name: st.sampled_from([name, arn(name)]))
METRIC = ("detail", "configuration", "metrics", 0, "metricStat", "metric")

near_valid = st.one_of(
    one_field_wrong(
        deployed_refs.map(refusal),
        {
            **envelope_wrongs(*GUARD),
            ("detail", "function"): missing_or(not_strings, bad_function_refs),
            ("detail", "depth"): missing_or(not_integers, st.integers(max_value=0)),
            ("detail", "limit"): missing_or(not_integers, st.integers(max_value=-1)),
            ("detail", "chain_id"): missing_or(not_strings, st.sampled_from(["", "c" * 129, "y" * 100_000])),
            ("detail", "operation"): not_strings,
            ("detail", "target"): not_strings,
        },
    ),
    one_field_wrong(
        deployed_refs.map(health),
        {
            **envelope_wrongs(*HEALTH),
            ("detail", "service"): missing_or(not_strings, st.sampled_from(["lambda", "EC2", ""])),
            ("detail", "eventTypeCode"): missing_or(
                not_strings, st.sampled_from([HEALTH_CODE.lower(), "AWS_LAMBDA_OPERATIONAL_ISSUE", ""])
            ),
            ("detail", "eventArn"): missing_or(not_strings),
            ("detail", "affectedEntities"): st.one_of(
                nasty_text,
                shallow_objects,
                st.lists(st.one_of(scalars, shallow_lists), min_size=1, max_size=3),
                st.lists(st.fixed_dictionaries({"entityValue": st.one_of(not_strings, bad_function_refs)})),
            ),
        },
    ),
    one_field_wrong(
        deployed_refs.map(alarm),
        {
            **envelope_wrongs(*ALARM),
            ("detail", "alarmName"): not_strings,
            ("detail", "state"): missing_or(
                not_scalars,
                nasty_text,
                st.sampled_from([{}, {"value": "OK"}, {"value": "INSUFFICIENT_DATA"}, {"value": "alarm"}]),
            ),
            ("detail", "state", "value"): missing_or(not_strings, st.sampled_from(["OK", "alarm", "ALARM "])),
            ("detail", "state", "reason"): not_strings,
            ("detail", "state", "timestamp"): not_strings,
            ("detail", "configuration"): missing_or(not_scalars, nasty_text, st.just({})),
            ("detail", "configuration", "metrics"): missing_or(
                nasty_text, shallow_objects, st.lists(st.one_of(not_scalars, nasty_text), max_size=3)
            ),
            METRIC[:-1]: missing_or(nasty_text, not_scalars),
            METRIC: missing_or(nasty_text, not_scalars),
            (*METRIC, "namespace"): missing_or(
                not_strings, st.sampled_from(["Custom/Lambda", "aws/lambda", "AWS/Lambda ", "AWS/Events"])
            ),
            (*METRIC, "name"): missing_or(
                not_strings, st.sampled_from(["Invocations", "recursiveinvocationsdropped", ""])
            ),
            (*METRIC, "dimensions"): missing_or(
                nasty_text,
                st.lists(shallow_objects, max_size=2),
                st.sampled_from([{}, {"functionname": "nightly-batch"}]),
                st.fixed_dictionaries({"FunctionName": st.one_of(not_strings, bad_function_refs)}),
            ),
        },
    ),
)

ids = st.integers(0, 10**9).map(lambda n: f"chain-{n}")
#: Valid signals naming functions that do not exist, with hostile free text: the whole path runs.
for_ghosts = st.sampled_from(GHOSTS).flatmap(
    lambda name: st.one_of(
        st.builds(refusal, st.just(name), chain_id=ids, operation=nasty_text, target=nasty_text),
        st.builds(
            health, st.sampled_from([name, arn(name)]), eventArn=ids.map(lambda i: f"arn:aws:health:{i}")
        ),
        st.builds(alarm, st.just(name), alarmName=nasty_text.filter(lambda s: 1 <= len(s) <= 255)),
    )
)


def no_finding(answer: dict[str, Any]) -> None:
    """A signal with a wrong field is refused, names nothing to act on, or is unverified (acts on nothing)."""
    for result in answer.get("results", []):
        assert result["result"] == "unverified" or (
            result["result"] == "duplicate" and "signal unverified:" in result["detail"]
        ), answer


def test_recursion_watch_survives_any_event(world):
    sources = [GUARD[0], HEALTH[0], ALARM[0]]
    kinds = [GUARD[1], HEALTH[1], ALARM[1]]
    cases = mix(
        (1, expect("any JSON", json_values)),
        (1, expect("any envelope", envelopes(sources, kinds))),
        (3, expect("one field wrong", near_valid, no_finding)),
        (1, expect("valid, for a ghost", for_ghosts)),
    )
    survives(
        world,
        recursion_watch.handler,
        CONTEXT,
        cases,
        reaches=frozenset({"not-found"}),
    )
