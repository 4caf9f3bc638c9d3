"""cdk.json's `reservedConcurrency`: overrides of the defaults; 0 leaves a function unreserved."""

import pytest

from infra.app import cdk_json_context
from infra.config import RESERVED_CONCURRENCY, ConfigError, GuardrailConfig


def test_defaults_reserve_every_guardrail_function():
    config = GuardrailConfig()
    assert {
        role: config.reserved_concurrency_for(role) for role in RESERVED_CONCURRENCY
    } == RESERVED_CONCURRENCY
    assert RESERVED_CONCURRENCY["kill-switch"] >= 1


def test_cdk_json_spells_out_the_defaults():
    assert cdk_json_context()["guardrail"]["reservedConcurrency"] == RESERVED_CONCURRENCY


def test_an_override_changes_one_function_and_zero_leaves_it_unreserved():
    config = GuardrailConfig.from_context({"reservedConcurrency": {"athena-watch": 50, "kill-switch": 0}})
    assert config.reserved_concurrency_for("athena-watch") == 50
    assert config.reserved_concurrency_for("kill-switch") is None  # no reservation, not a throttle
    assert config.reserved_concurrency_for("invocation-scan") == RESERVED_CONCURRENCY["invocation-scan"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"athena-wacth": 5}, r"reservedConcurrency\.athena-wacth: not a guardrail function"),
        ({"kill-switch": -1}, r"reservedConcurrency\.kill-switch: expected a whole number >= 0"),
        ({"kill-switch": True}, r"reservedConcurrency\.kill-switch: expected a whole number"),
        ({"kill-switch": 2.5}, r"reservedConcurrency\.kill-switch: expected a whole number"),
        (5, "reservedConcurrency: expected dict"),
    ],
)
def test_malformed_reserved_concurrency_is_rejected_by_name(value, message):
    with pytest.raises(ConfigError, match=message):
        GuardrailConfig.from_context({"reservedConcurrency": value})
