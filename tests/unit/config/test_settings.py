import json
import re
from pathlib import Path

import pytest

from guardrail.config import GuardrailConfig, Settings
from guardrail.config.settings import ENV_BUDGET
from guardrail.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
ENV = {
    "GUARDRAIL_CONFIG": "{}",
    "GUARDRAIL_LEDGER_TABLE": "t",
    "GUARDRAIL_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a",
    "GUARDRAIL_ACCOUNT": "123456789012",
    "GUARDRAIL_PARTITION": "aws",
    "AWS_REGION": "us-east-1",
}
#: What runaway_guardrail_cdk/function.py adds next to the settings.
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME": "runaway-guardrail", "POWERTOOLS_LOG_LEVEL": "INFO"}


def _settings(config: GuardrailConfig) -> Settings:
    return Settings(
        config=config,
        ledger_table="t",
        alert_topic_arn=ENV["GUARDRAIL_ALERT_TOPIC_ARN"],
        account="123456789012",
        region="us-east-1",
    )


def test_round_trip_through_the_environment():
    config = GuardrailConfig.from_context(
        {
            "exemptFunctions": ["b", "a"],
            "notifyOnly": True,
            "detectors": {"athena-watch": {"callers": {"batch": {"activeHoursUtc": "22:00-09:00"}}}},
        }
    )
    settings = _settings(config)
    env = settings.to_env()
    assert set(env) == {
        "GUARDRAIL_CONFIG",
        "GUARDRAIL_LEDGER_TABLE",
        "GUARDRAIL_ALERT_TOPIC_ARN",
        "GUARDRAIL_ACCOUNT",
        "GUARDRAIL_PARTITION",
    }
    assert Settings.from_env({**env, "AWS_REGION": "us-east-1"}) == settings
    assert settings.exempt_functions == frozenset({"a", "b"})
    assert settings.notify_only is True
    assert settings.kill_switch_function == "runaway-guardrail-kill-switch"
    assert settings.config.detectors.athena_watch.caller_rules("batch").active_hours_utc is not None


def test_an_empty_config_variable_means_the_defaults():
    settings = Settings.from_env(ENV)
    assert settings.config == GuardrailConfig()
    assert (settings.ledger_table, settings.region, settings.config.name_prefix) == (
        "t",
        "us-east-1",
        "runaway-guardrail",
    )
    assert "runaway-guardrail-athena-watch" in settings.own_functions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"GUARDRAIL_LEDGER_TABLE": " "}, "environment variable GUARDRAIL_LEDGER_TABLE is missing or empty"),
        ({"GUARDRAIL_CONFIG": ""}, "environment variable GUARDRAIL_CONFIG is missing or empty"),
        ({"AWS_REGION": ""}, "environment variable AWS_REGION is missing or empty"),
        ({"GUARDRAIL_ACCOUNT": ""}, "environment variable GUARDRAIL_ACCOUNT is missing or empty"),
        ({"GUARDRAIL_CONFIG": "{"}, "environment variable GUARDRAIL_CONFIG is not valid JSON"),
        ({"GUARDRAIL_CONFIG": "[]"}, "environment variable GUARDRAIL_CONFIG: guardrail: expected an object"),
        (
            {"GUARDRAIL_CONFIG": '{"notifyOnly": "maybe"}'},
            "environment variable GUARDRAIL_CONFIG: guardrail.notifyOnly: expected true or false",
        ),
        (
            {"GUARDRAIL_CONFIG": '{"detectors": {"athena-watch": {"maxQueries": 5}}}'},
            "environment variable GUARDRAIL_CONFIG: guardrail.detectors.athena-watch: unknown keys",
        ),
    ],
)
def test_bad_environment_is_named(change, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        Settings.from_env({**ENV, **change})


def test_the_default_config_fits_lambdas_4_kb_environment():
    written = json.loads((ROOT / "cdk.json").read_text())["context"]["guardrail"]
    settings = Settings(
        config=GuardrailConfig.from_context(written),
        ledger_table="L" * 255,  # DynamoDB's longest table name
        alert_topic_arn="arn:aws-us-gov:sns:us-gov-west-1:123456789012:" + "T" * 256,  # SNS's longest name
        account="123456789012",
        region="us-gov-west-1",
        partition="aws-us-gov",
    )
    env = {**settings.to_env(), **POWERTOOLS}
    assert sum(len(name) + len(value.encode()) for name, value in env.items()) < 4096
    # the defaults leave more than half of the budget to `callers` / `workgroups` overrides
    assert len(settings.to_env()["GUARDRAIL_CONFIG"]) < ENV_BUDGET // 2


def test_a_config_too_large_for_the_environment_is_refused_at_synthesis():
    callers = {f"caller-function-number-{i:03}": {"maxQueriesPerWindow": 100 + i} for i in range(120)}
    settings = _settings(GuardrailConfig.from_context({"detectors": {"athena-watch": {"callers": callers}}}))
    with pytest.raises(
        ConfigError, match=rf"^guardrail: the configuration takes \d+ bytes .* over the {ENV_BUDGET}"
    ):
        settings.to_env()


def test_only_the_settings_read_the_environment():
    """Nothing in the Lambda asset reads os.environ but Settings (the recursion guard keeps its own)."""
    readers = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "guardrail").rglob("*.py")
        if re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text())
        and not path.is_relative_to(ROOT / "guardrail" / "recursion")
    }
    assert readers == {"guardrail/config/settings.py"}


def test_the_environment_leaves_out_defaults_only_where_it_reads_back_the_same():
    """An override equal to the model's default, under a section that is not, must be written out."""
    config = GuardrailConfig.from_context(
        {
            "detectors": {
                "athena-watch": {
                    "caller": {"maxQueriesPerWindow": 100},
                    "callers": {"nightly-batch": {"maxQueriesPerWindow": 60}},
                }
            }
        }
    )
    env = _settings(config).to_env()
    assert Settings.from_env({**env, "AWS_REGION": "us-east-1"}).config == config
    assert '"nightly-batch":{"maxQueriesPerWindow":60' in env["GUARDRAIL_CONFIG"]
    default = _settings(GuardrailConfig()).to_env()["GUARDRAIL_CONFIG"]
    assert Settings.from_env({**ENV, "GUARDRAIL_CONFIG": default}).config == GuardrailConfig()
    assert len(default) < 100  # the defaults themselves take no room
