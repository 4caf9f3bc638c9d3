import pytest

from guardrail.errors import SettingsError
from guardrail.settings import Settings

ENV = {
    "GUARDRAIL_LEDGER_TABLE": "t",
    "GUARDRAIL_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a",
    "GUARDRAIL_NAME_PREFIX": "runaway-guardrail",
    "GUARDRAIL_KILL_SWITCH_FUNCTION": "runaway-guardrail-kill-switch",
    "AWS_REGION": "us-east-1",
}


def test_round_trip_through_the_environment():
    settings = Settings.from_env(
        {
            **ENV,
            "GUARDRAIL_EXEMPT_FUNCTIONS": "b, a,",
            "GUARDRAIL_NOTIFY_ONLY": "TRUE",
            "GUARDRAIL_DETECTORS": '{"athena-watch": {"maxQueries": 5}}',
        }
    )
    assert settings.exempt_functions == frozenset({"a", "b"})
    assert settings.notify_only is True
    assert settings.detector("athena-watch") == {"maxQueries": 5}
    assert settings.detector("unknown") == {}
    assert Settings.from_env({**settings.to_env(), "AWS_REGION": "us-east-1"}) == settings


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"GUARDRAIL_LEDGER_TABLE": ""}, "GUARDRAIL_LEDGER_TABLE is missing"),
        ({"GUARDRAIL_NOTIFY_ONLY": "maybe"}, "must be true or false"),
        ({"GUARDRAIL_DETECTORS": "{"}, "not valid JSON"),
        ({"GUARDRAIL_DETECTORS": '{"a": 1}'}, "must map detector names to objects"),
    ],
)
def test_bad_environment_is_named(change, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**ENV, **change})
