import pytest

from guardrail.detectors.invocation_scan import InvocationScanConfig
from guardrail.errors import SettingsError


def test_empty_section_gives_the_defaults():
    assert InvocationScanConfig.from_mapping({}) == InvocationScanConfig()


def test_camel_case_keys_are_parsed():
    config = InvocationScanConfig.from_mapping({"maxInvocationsPerMinute": 500, "spikeRatio": 4})
    assert (config.max_invocations_per_minute, config.spike_ratio) == (500, 4.0)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"maxInvocations": 5}, "unknown keys: maxInvocations"),
        ({"spikeRatio": "10"}, "spikeRatio must be a number"),
        ({"baselineMinutes": 7.5}, "baselineMinutes must be a whole number"),
        ({"spikeRatio": 1}, "spikeRatio must be greater than 1"),
        ({"baselineMinutes": 2}, "baselineMinutes must be between 5 and 1440"),
        ({"fullSweepEveryMinutes": True}, "fullSweepEveryMinutes must be a number"),
    ],
)
def test_bad_sections_are_rejected_with_the_key_named(section, message):
    with pytest.raises(SettingsError, match=message):
        InvocationScanConfig.from_mapping(section)
