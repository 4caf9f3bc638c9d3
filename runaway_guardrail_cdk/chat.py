"""Chat alerts: AWS Chatbot (Amazon Q Developer in chat applications) channels on the alert topic.

Each channel in cdk.json's `slack` / `microsoftTeams` lists becomes a channel configuration subscribed
to the alert topic (Chatbot subscribes with the `https` protocol and receives the alerts' custom
notifications, `guardrail.alerts.chat`). Its role and its guardrail policy (the most any chat user may
do) are read-only: the CloudWatch reads Chatbot needs to show alarms. A channel with
`allowKillSwitch` may also invoke the kill switch, and nothing else; it requires each member's own IAM
role (`UserRoleRequired`), so only members whose role may invoke the kill switch can panic or pause.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.config.chat import SlackChannel, TeamsChannel

#: What Chatbot reads to show an alarm notification (its chart); none has resource-level permissions.
READ_ONLY_ACTIONS = (
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricWidgetImage",
)


class GuardrailChat(Construct):
    """One Chatbot channel configuration per configured Slack or Teams channel, on the alert topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        topic: sns.ITopic,
        kill_switch: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.slack: list[chatbot.SlackChannelConfiguration] = []
        self.teams: list[chatbot.CfnMicrosoftTeamsChannelConfiguration] = []
        for channel in config.slack:
            role, policy = self._access(channel, kill_switch)
            self.slack.append(
                chatbot.SlackChannelConfiguration(
                    self,
                    f"Slack-{channel.name}",
                    slack_channel_configuration_name=f"{config.name_prefix}-{channel.name}",
                    slack_workspace_id=channel.workspace_id,
                    slack_channel_id=channel.channel_id,
                    notification_topics=[topic],
                    role=role,
                    guardrail_policies=[policy],
                    logging_level=chatbot.LoggingLevel(channel.logging_level),
                    user_role_required=channel.allow_kill_switch,
                )
            )
        for team in config.microsoft_teams:  # no L2 construct for Teams in aws-cdk-lib
            role, policy = self._access(team, kill_switch)
            self.teams.append(
                chatbot.CfnMicrosoftTeamsChannelConfiguration(
                    self,
                    f"Teams-{team.name}",
                    configuration_name=f"{config.name_prefix}-{team.name}",
                    team_id=team.team_id,
                    teams_tenant_id=team.tenant_id,
                    teams_channel_id=team.channel_id,
                    sns_topic_arns=[topic.topic_arn],
                    iam_role_arn=role.role_arn,
                    guardrail_policies=[policy.managed_policy_arn],
                    logging_level=team.logging_level,
                    user_role_required=team.allow_kill_switch,
                )
            )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "Chatbot's read-only access to show alarm notifications: cloudwatch:DescribeAlarms, "
                    "GetMetricData and GetMetricWidgetImage, of which the last two have no resource-level "
                    "permissions; nothing else is granted on '*'."
                ),
            )
        )

    def _access(
        self, channel: SlackChannel | TeamsChannel, kill_switch: lambda_.IFunction
    ) -> tuple[iam.Role, iam.ManagedPolicy]:
        """The channel's role and guardrail policy: read-only, plus invoking the kill switch if allowed."""
        statements = [iam.PolicyStatement(actions=list(READ_ONLY_ACTIONS), resources=["*"])]
        if channel.allow_kill_switch:
            statements.append(
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[kill_switch.function_arn])
            )
        policy = iam.ManagedPolicy(
            self,
            f"{channel.name}-Guardrail",
            description=f"The most the chat channel {channel.name} may do (Runaway Guardrail)",
            statements=statements,
        )
        role = iam.Role(
            self,
            f"{channel.name}-Role",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description=f"Chatbot's role for the chat channel {channel.name} (Runaway Guardrail)",
        )
        for statement in statements:
            role.add_to_policy(statement)
        return role, policy
