from types import SimpleNamespace

import pytest

from guardrail.recursion import DEFAULT_MAX_DEPTH, hooks, recursion_guard
from guardrail.recursion.limits import parse_limit


def test_bare_and_called_forms_wrap_the_handler_and_keep_its_name():
    @recursion_guard
    def bare(event, context):
        return hooks._current

    @recursion_guard(max_depth=3)
    def limited(event, context):
        return hooks._current

    context = SimpleNamespace(function_name="f")  # no ARN: no tag lookup
    assert bare.__name__ == "bare"
    assert bare({}, context).limit == DEFAULT_MAX_DEPTH
    running = limited({"guardrail-chain": {"depth": 2, "chain_id": "c"}}, context)
    assert (running.function, running.chain.depth, running.limit) == ("f", 2, 3)
    assert hooks._current is None


def test_nested_invocations_restore_the_outer_one():
    @recursion_guard(max_depth=9)
    def inner(event, context):
        return hooks._current.chain.depth

    @recursion_guard(max_depth=9)
    def outer(event, context):
        depth = inner({"guardrail-chain": {"depth": 5, "chain_id": "c"}}, None)
        return depth, hooks._current.chain.depth

    assert outer({}, None) == (5, 0)


@pytest.mark.parametrize("value", [-1, 2.5, "many", True])
def test_a_bad_limit_is_rejected_when_the_handler_is_decorated(value):
    with pytest.raises(ValueError, match="max_depth must be a whole number"):
        recursion_guard(max_depth=value)


def test_tag_values_are_whole_numbers():
    assert parse_limit(" 672 ", "tag") == 672
    with pytest.raises(ValueError, match="tag must be"):
        parse_limit("-3", "tag")
