"""cdk.json's `reservedConcurrency`: overrides of the defaults; 0 leaves a function unreserved."""

import pytest

from guardrail.config import GuardrailConfig
from guardrail.config.guardrail import ReservedConcurrency
from guardrail.errors import ConfigError
from runaway_guardrail_cdk.app import cdk_json_context

DEFAULTS = {"kill-switch": 5, "recursion-watch": 10, "invocation-scan": 2, "athena-watch": 20}


def test_defaults_reserve_every_guardrail_function():
    config = GuardrailConfig()
    assert {role: config.reserved_concurrency_for(role) for role in DEFAULTS} == DEFAULTS
    assert ReservedConcurrency().model_dump(by_alias=True) == DEFAULTS


def test_cdk_json_spells_out_the_defaults():
    assert cdk_json_context()["guardrail"]["reservedConcurrency"] == DEFAULTS


def test_an_override_changes_one_function_and_zero_leaves_it_unreserved():
    config = GuardrailConfig.from_context({"reservedConcurrency": {"athena-watch": 50, "kill-switch": 0}})
    assert config.reserved_concurrency_for("athena-watch") == 50
    assert config.reserved_concurrency_for("kill-switch") is None  # no reservation, not a throttle
    assert config.reserved_concurrency_for("invocation-scan") == DEFAULTS["invocation-scan"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"athena-wacth": 5}, r"guardrail\.reservedConcurrency: unknown keys athena-wacth"),
        ({"kill-switch": -1}, r"guardrail\.reservedConcurrency\.kill-switch: "),
        ({"kill-switch": True}, r"guardrail\.reservedConcurrency\.kill-switch: "),
        ({"kill-switch": 2.5}, r"guardrail\.reservedConcurrency\.kill-switch: "),
        (5, r"guardrail\.reservedConcurrency: "),
    ],
)
def test_malformed_reserved_concurrency_is_rejected_by_name(value, message):
    with pytest.raises(ConfigError, match=message):
        GuardrailConfig.from_context({"reservedConcurrency": value})
