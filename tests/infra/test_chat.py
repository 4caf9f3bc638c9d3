"""Chat channels from cdk.json: Chatbot configurations on the alert topic, read-only unless configured."""

from __future__ import annotations

import json

import pytest

from guardrail.errors import ConfigError
from runaway_guardrail_cdk.app import cdk_json_context
from runaway_guardrail_cdk.chat import READ_ONLY_ACTIONS
from tests.infra.conftest import cfn_lint, synthesize

pytestmark = pytest.mark.infra

SLACK = {"name": "ops-alerts", "workspaceId": "T012ABCDEFG", "channelId": "C012ABCDEFG"}
TEAMS = {
    "name": "ops-teams",
    "teamId": "2b9b1f55-5a1c-4a0e-9d6b-2a3c4d5e6f70",
    "tenantId": "0f1e2d3c-4b5a-4968-8776-655443322110",
    "channelId": "19%3aabcdef%40thread.tacv2",
    "allowKillSwitch": True,
}


def _with(**keys):
    return {"guardrail": {**cdk_json_context()["guardrail"], **keys}}


@pytest.fixture(scope="module")
def with_chat(tmp_path_factory):
    """The app with one Slack channel (read-only) and one Teams channel (may invoke the kill switch)."""
    return synthesize(tmp_path_factory.mktemp("chat"), _with(slack=[SLACK], microsoftTeams=[TEAMS]))


def test_slack_and_teams_channels_subscribe_to_the_alert_topic(with_chat):
    template = with_chat.service_template
    [slack] = template.find_resources("AWS::Chatbot::SlackChannelConfiguration").values()
    [teams] = template.find_resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration").values()
    assert slack["Properties"]["ConfigurationName"] == "runaway-guardrail-ops-alerts"
    assert (slack["Properties"]["SlackWorkspaceId"], slack["Properties"]["SlackChannelId"]) == (
        "T012ABCDEFG",
        "C012ABCDEFG",
    )
    assert teams["Properties"]["TeamsChannelId"] == TEAMS["channelId"]
    for config in (slack, teams):
        [topic] = config["Properties"]["SnsTopicArns"]
        assert "GuardrailAlertTopic" in json.dumps(topic)  # the state stack's alert topic
        assert config["Properties"]["LoggingLevel"] == "ERROR"
    # a channel that may invoke the kill switch acts with each member's own role, not the channel's
    assert slack["Properties"]["UserRoleRequired"] is False  # read-only
    assert teams["Properties"]["UserRoleRequired"] is True  # allowKillSwitch


def test_chat_is_read_only_unless_a_channel_may_invoke_the_kill_switch(with_chat):
    template = with_chat.service_template
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    by_channel = {
        name: next(s for k, s in policies.items() if k.startswith(f"GuardrailChat{name}"))
        for name in ("opsalerts", "opsteams")
    }
    slack = by_channel["opsalerts"]["Properties"]["PolicyDocument"]["Statement"]
    teams = by_channel["opsteams"]["Properties"]["PolicyDocument"]["Statement"]
    assert slack == [{"Action": list(READ_ONLY_ACTIONS), "Effect": "Allow", "Resource": "*"}]
    assert teams[0] == slack[0]
    assert teams[1]["Action"] == "lambda:InvokeFunction"
    assert "KillSwitch" in json.dumps(teams[1]["Resource"])
    assert len(teams) == 2
    roles = [r for r in template.find_resources("AWS::IAM::Role").values() if "chatbot" in json.dumps(r)]
    assert len(roles) == 2
    assert not any("ManagedPolicyArns" in role["Properties"] for role in roles)  # no AWS-managed policy


def test_cfn_lint_and_cdk_nag_are_clean_with_chat(with_chat):
    """cdk-nag ran at synthesis (an unacknowledged finding fails it); cfn-lint checks the Chatbot types."""
    templates = sorted(str(p) for p in with_chat.outdir.glob("*.template.json"))
    rules, output = cfn_lint(templates)
    assert rules <= {"W3005"}, output


def test_no_chat_channel_no_chatbot_resource(synthesized):
    assert not synthesized.service_template.find_resources("AWS::Chatbot::SlackChannelConfiguration")
    assert not synthesized.service_template.find_resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration")


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"slack": [{**SLACK, "workspaceId": "t0"}]}, "guardrail.slack[0].workspaceId: 't0' is not a Slack"),
        ({"slack": [{**SLACK, "channel": "C1"}]}, "guardrail.slack[0]: unknown keys channel"),
        (
            {"microsoftTeams": [{**TEAMS, "tenantId": "x"}]},
            "guardrail.microsoftTeams[0].tenantId: 'x' is not a UUID",
        ),
        ({"slack": [SLACK], "microsoftTeams": [{**TEAMS, "name": "ops-alerts"}]}, "must be unique"),
    ],
)
def test_a_bad_chat_channel_fails_synthesis_naming_its_key(tmp_path, keys, problem):
    with pytest.raises(ConfigError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        synthesize(tmp_path, _with(**keys))
