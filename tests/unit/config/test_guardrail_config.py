import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from guardrail.config import CONTEXT_KEY, AthenaWatchConfig, GuardrailConfig, InvocationScanConfig
from guardrail.config.athena_watch import DETECTOR as ATHENA_WATCH
from guardrail.config.invocation_scan import DETECTOR as INVOCATION_SCAN
from guardrail.errors import ConfigError

CDK_JSON = Path(__file__).resolve().parents[3] / "cdk.json"


def cdk_json_guardrail() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"][CONTEXT_KEY]
    return context


def test_context_becomes_typed_props():
    config = GuardrailConfig.from_context(
        {
            "namePrefix": "rgx",
            "alertEmails": ["ops@example.com"],
            "exemptFunctions": ["payments"],
            "notifyOnly": True,
            "logRetentionDays": 30,
            "detectors": {"athena-watch": {"windowMinutes": 10}},
        }
    )
    assert config.alert_emails == ("ops@example.com",)
    assert config.exempt_functions == ("payments",)
    assert (config.notify_only, config.log_retention_days) == (True, 30)
    assert config.detectors.athena_watch.window_minutes == 10
    assert config.detectors.invocation_scan == InvocationScanConfig()
    assert config.function_name("kill-switch") == "rgx-kill-switch"
    assert GuardrailConfig.from_context(None) == GuardrailConfig.from_context({}) == GuardrailConfig()


def _assert_written_in(written: Any, dumped: Any, path: str = CONTEXT_KEY) -> None:
    if isinstance(written, dict):
        assert isinstance(dumped, dict), path
        for key, value in written.items():
            assert key in dumped, f"{path}.{key}"
            _assert_written_in(value, dumped[key], f"{path}.{key}")
    else:
        assert written == dumped, path


def test_the_defaults_are_cdk_json_values_and_dump_under_its_keys():
    written = cdk_json_guardrail()
    assert GuardrailConfig.from_context(written) == GuardrailConfig()
    # every key cdk.json writes comes back under the same key, with the same value
    _assert_written_in(written, GuardrailConfig().model_dump(mode="json", by_alias=True))
    assert set(GuardrailConfig().detectors.model_dump(by_alias=True)) == {ATHENA_WATCH, INVOCATION_SCAN}


def test_a_written_configuration_survives_a_dump_and_a_parse():
    written = {
        **cdk_json_guardrail(),
        "alertEmails": ["ops@example.com"],
        "detectors": {
            "athena-watch": {
                "callers": {"batch": {"activeHoursUtc": "22:00-09:00"}},
                "workgroups": {"adhoc": {"disableOnRunaway": True}},
            }
        },
    }
    config = GuardrailConfig.from_context(written)
    assert GuardrailConfig.parse(json.loads(config.model_dump_json(by_alias=True))) == config
    assert GuardrailConfig.model_validate(config.model_dump()) == config


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"alertEmails": ["not-an-email"]},
            "guardrail.alertEmails[0]: 'not-an-email' is not an e-mail address",
        ),
        ({"alertEmails": "ops@example.com"}, "guardrail.alertEmails: expected a list, got 'ops@example.com'"),
        ({"notifyOnly": "yes"}, "guardrail.notifyOnly: expected true or false, got 'yes'"),
        ({"notifyOnly": 1}, "guardrail.notifyOnly: expected true or false, got 1"),
        ({"logRetentionDays": True}, "guardrail.logRetentionDays: expected a whole number, got True"),
        ({"logRetentionDays": "90"}, "guardrail.logRetentionDays: expected a whole number, got '90'"),
        ({"logRetentionDays": 42}, "guardrail.logRetentionDays: 42 is not a CloudWatch Logs retention"),
        ({"breakerMaxActionsPerHour": 0}, "guardrail.breakerMaxActionsPerHour: Input should be greater than"),
        ({"breakerMaxActionsPerHour": "5"}, "guardrail.breakerMaxActionsPerHour: expected a whole number"),
        ({"namePrefix": "Bad_Prefix"}, "guardrail.namePrefix: 'Bad_Prefix' is not 3-40 lowercase letters"),
        ({"namePrefix": "ab"}, "guardrail.namePrefix: 'ab' is not 3-40"),
        (
            {"exemptFunctions": ["no spaces"]},
            "guardrail.exemptFunctions[0]: 'no spaces' is not a Lambda function",
        ),
        ({"powertoolsLayerArn": "arn:aws:lambda:us-east-1:1:function:x"}, "guardrail.powertoolsLayerArn: "),
        ({"detectors": {"athena-watch": 3}}, "guardrail.detectors.athena-watch: expected an object, got 3"),
        ({"detectors": {"athena_watch": {}}}, "guardrail.detectors: unknown keys athena_watch "),
        ({"detectors": {"cost-watch": {}}}, "guardrail.detectors: unknown keys cost-watch "),
        (
            {"typo": 1},
            "guardrail: unknown keys typo (known: alertEmails, breakerMaxActionsPerHour, detectors, ",
        ),
        ({"notify_only": True}, "guardrail: unknown keys notify_only "),  # the keys as written only
        (
            {"detectors": {"athena-watch": {"caller": {"maxQueriesPerWindow": "lots"}}}},
            "guardrail.detectors.athena-watch.caller.maxQueriesPerWindow: expected a whole number",
        ),
        (
            {"detectors": {"invocation-scan": {"spikeRatio": 1}}},
            "guardrail.detectors.invocation-scan.spikeRatio: Input should be greater than 1",
        ),
    ],
)
def test_malformed_context_is_rejected_with_the_key_path(context, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        GuardrailConfig.from_context(context)


def test_every_problem_is_named_at_once():
    with pytest.raises(ConfigError) as raised:
        GuardrailConfig.from_context({"notifyOnly": "yes", "logRetentionDays": 42, "alertEmails": ["x", "y"]})
    assert str(raised.value).count("; ") == 3


def test_the_layer_arn_may_use_cloudformation_placeholders():
    arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:layer:guard:3"
    assert GuardrailConfig.from_context({"powertoolsLayerArn": arn}).powertools_layer_arn == arn


def test_python_construction_is_validated_too():
    with pytest.raises(ValidationError, match="is not 3-40 lowercase letters"):
        GuardrailConfig(name_prefix="Bad_Prefix")
    with pytest.raises(ValidationError):
        GuardrailConfig(notify_only="yes")  # type: ignore[arg-type]
    config = GuardrailConfig(detectors={"athena-watch": AthenaWatchConfig(window_minutes=7)})  # type: ignore[arg-type]
    assert config.detectors.athena_watch.window_minutes == 7
