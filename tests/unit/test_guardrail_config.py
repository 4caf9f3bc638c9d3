import pytest

from infra.config import ConfigError, GuardrailConfig


def test_context_becomes_typed_props():
    config = GuardrailConfig.from_context(
        {
            "namePrefix": "rgx",
            "alertEmails": ["ops@example.com"],
            "exemptFunctions": ["payments"],
            "notifyOnly": True,
            "logRetentionDays": 30,
            "detectors": {"athena-watch": {}},
        }
    )
    assert config.alert_emails == ("ops@example.com",)
    assert config.function_name("kill-switch") == "rgx-kill-switch"
    assert GuardrailConfig.from_context(None) == GuardrailConfig()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"alertEmails": ["not-an-email"]}, "alertEmails"),
        ({"notifyOnly": "yes"}, "notifyOnly: expected bool"),
        ({"logRetentionDays": True}, "logRetentionDays: expected int"),
        ({"logRetentionDays": 42}, "not a CloudWatch Logs retention"),
        ({"namePrefix": "Bad_Prefix"}, "namePrefix"),
        ({"exemptFunctions": ["no spaces"]}, "exemptFunctions"),
        ({"detectors": {"athena-watch": 3}}, "detectors.athena-watch"),
        ({"typo": 1}, "unknown guardrail context keys: typo"),
    ],
)
def test_malformed_context_is_rejected_by_name(context, message):
    with pytest.raises(ConfigError, match=message):
        GuardrailConfig.from_context(context)
