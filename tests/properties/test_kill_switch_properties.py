"""The kill switch survives arbitrary requests, and a malformed one changes nothing and says why."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import kill_switch
from guardrail.kill_switch.requests import MAX_TARGETS
from tests.conftest import ACCOUNT, REGION
from tests.properties.harness import DEPLOYED, GHOSTS, expect, mix, survives
from tests.properties.strategies import (
    bad_function_refs,
    json_objects,
    json_values,
    missing_or,
    nasty_text,
    not_strings,
    one_field_wrong,
    scalars,
    shallow_objects,
)

CONTEXT = lambda_context("runaway-guardrail-kill-switch")
ACTIONS = ("throttle", "restore", "status", "panic")

deployed_refs = st.sampled_from(sorted(DEPLOYED)).flatmap(
    lambda name: st.sampled_from([name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"])
)
deployed_lists = st.lists(deployed_refs, min_size=1, max_size=4)
valid_reason = st.just("stop the loop")
throttle = st.fixed_dictionaries(
    {"action": st.just("throttle"), "functions": deployed_lists, "reason": valid_reason}
)
restore = st.fixed_dictionaries({"action": st.just("restore"), "functions": deployed_lists})
panic = st.fixed_dictionaries({"action": st.just("panic"), "reason": valid_reason})
wrong_actions = st.one_of(
    not_strings,
    st.sampled_from(["", "Throttle", "THROTTLE", "throttle ", "restore-all", "explode", "panic!", "PANIC"]),
    nasty_text.filter(lambda s: s not in ACTIONS),
)
wrong_functions = st.one_of(
    st.sampled_from(["ALL", "all ", "All", "*", "", "nightly-batch", []]),
    st.lists(deployed_refs, min_size=MAX_TARGETS + 1, max_size=MAX_TARGETS + 1),
    st.just(["nightly-batch"] * 10_000),
    st.lists(st.one_of(not_strings, bad_function_refs), min_size=1, max_size=3).map(
        lambda bad: ["nightly-batch", *bad]
    ),
    st.just({"all": ["nightly-batch"]}),
    shallow_objects,
    scalars.filter(lambda v: v != "all"),
)
wrong_reasons = st.one_of(not_strings, st.sampled_from(["", "r" * 1001, "y" * 100_000]))
#: Keys no action takes (`confirm` and its like are left out: an action may come to take one).
extra_keys = st.sampled_from(["Action", "function", "functionz", "dry_run", "reasons", "all"])
one_wrong = st.one_of(
    one_field_wrong(
        throttle,
        {
            ("action",): missing_or(wrong_actions),
            ("functions",): missing_or(wrong_functions, st.just("all")),  # "all" only restores
            ("reason",): missing_or(wrong_reasons),
        },
    ),
    one_field_wrong(
        restore, {("action",): missing_or(wrong_actions), ("functions",): missing_or(wrong_functions)}
    ),
    one_field_wrong(panic, {("action",): missing_or(wrong_actions), ("reason",): missing_or(wrong_reasons)}),
    st.builds(
        lambda request, key, value: {**request, key: value},
        st.one_of(throttle, restore, panic),
        extra_keys,
        json_values,
    ),
)
#: Valid requests that change nothing here: status, and actions on functions that do not exist.
harmless = st.one_of(
    st.just({"action": "status"}),
    st.fixed_dictionaries(
        {
            "action": st.just("throttle"),
            "functions": st.lists(st.sampled_from(GHOSTS), min_size=1, max_size=3),
            "reason": nasty_text.filter(lambda s: 1 <= len(s) <= 1000),
        }
    ),
    st.fixed_dictionaries(
        {
            "action": st.just("restore"),
            "functions": st.one_of(st.just("all"), st.lists(deployed_refs, min_size=1)),
        }
    ),
)


#: Any object that names a real action.
any_action = st.builds(
    lambda body, action: {**body, "action": action}, json_objects, st.sampled_from(ACTIONS)
)


def refused(answer: dict[str, Any]) -> None:
    """A malformed request is answered with an error that says what is wrong."""
    assert answer["ok"] is False, answer
    assert answer["error"]["type"] == "InvalidRequest"
    assert answer["error"]["message"], answer


def test_kill_switch_survives_any_request(world):
    cases = mix(
        (1, expect("any JSON", json_values)),
        (1, expect("any object", json_objects)),
        (1, expect("any action", any_action)),
        (2, expect("one field wrong", one_wrong, refused)),
        (3, expect("valid, harmless", harmless)),
    )
    survives(world, kill_switch.handler, CONTEXT, cases, reaches=frozenset({"not-found", "not-throttled"}))
