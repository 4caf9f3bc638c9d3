"""Issue 9, finding 7: the CLI waits for the kill switch as long as the deployed function may run."""

from guardrail_cli import aws as cli


def test_the_cli_waits_longer_than_the_kill_switch_may_run_and_only_once(synthesized):
    functions = synthesized.service_template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "guardrail.handlers.kill_switch.handler"}}
    )
    [kill_switch] = functions.values()

    assert kill_switch["Properties"]["Timeout"] == cli.KILL_SWITCH_TIMEOUT_SECONDS
    assert cli.LAMBDA_CLIENT_CONFIG.read_timeout > cli.KILL_SWITCH_TIMEOUT_SECONDS
    assert cli.LAMBDA_CLIENT_CONFIG.retries == {"total_max_attempts": 1, "mode": "standard"}
