import re

import pytest

from guardrail.config import InvocationScanConfig
from guardrail.errors import ConfigError

PATH = "guardrail.detectors.invocation-scan"


def test_empty_section_gives_the_defaults():
    assert InvocationScanConfig.parse({}) == InvocationScanConfig()


def test_camel_case_keys_are_parsed():
    config = InvocationScanConfig.parse(
        {"maxInvocationsPerMinute": 500, "spikeRatio": 4, "baselineMinutes": 30.0}
    )
    assert (config.max_invocations_per_minute, config.spike_ratio, config.baseline_minutes) == (500, 4.0, 30)
    assert isinstance(config.baseline_minutes, int)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"maxInvocations": 5}, f"{PATH}: unknown keys maxInvocations (known: accountRisePerMinute, "),
        ({"spikeRatio": "10"}, f"{PATH}.spikeRatio: expected a number, got '10'"),
        ({"baselineMinutes": 7.5}, f"{PATH}.baselineMinutes: expected a whole number, got 7.5"),
        ({"spikeRatio": 1}, f"{PATH}.spikeRatio: Input should be greater than 1"),
        ({"baselineMinutes": 2}, f"{PATH}.baselineMinutes: Input should be greater than or equal to 5"),
        ({"baselineMinutes": 1441}, f"{PATH}.baselineMinutes: Input should be less than or equal to 1440"),
        (
            {"maxInvocationsPerMinute": 0},
            f"{PATH}.maxInvocationsPerMinute: Input should be greater than or equal to 1",
        ),
        (
            {"spikeMinInvocationsPerMinute": 0},
            f"{PATH}.spikeMinInvocationsPerMinute: Input should be greater",
        ),
        (
            {"accountRisePerMinute": 0},
            f"{PATH}.accountRisePerMinute: Input should be greater than or equal to 1",
        ),
        (
            {"fullSweepEveryMinutes": -1},
            f"{PATH}.fullSweepEveryMinutes: Input should be greater than or equal to 0",
        ),
        ({"fullSweepEveryMinutes": True}, f"{PATH}.fullSweepEveryMinutes: expected a whole number, got True"),
        (
            {"maxDrillDownsPerHour": 0},
            f"{PATH}.maxDrillDownsPerHour: Input should be greater than or equal to 1",
        ),
        (
            {"ceilingInvocationsPerMinute": 2000},
            f"{PATH}: ceilingInvocationsPerMinute (2000) is below maxInvocationsPerMinute (3000)",
        ),
    ],
)
def test_bad_sections_are_rejected_with_the_key_named(section, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        InvocationScanConfig.parse(section)
