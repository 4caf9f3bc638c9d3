"""Adapter that publishes rendered alerts to the guardrail's SNS topic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import client_for
from guardrail.alerts.render import Alert
from guardrail.errors import AwsCallFailed

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

logger = logging.getLogger(__name__)


class SnsAlerts:
    """Publishes alerts with `MessageStructure=json` and filterable message attributes.

    Raises AwsCallFailed when SNS refuses or cannot be reached.
    """

    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = ("sns:Publish",)

    def __init__(
        self,
        topic_arn: str,
        *,
        boto3_client: SNSClient | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._client: SNSClient = client_for(
            "sns", boto3_client=boto3_client, boto3_session=boto3_session, boto_config=boto_config
        )
        self._topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        """Publish one alert and return its SNS message id.

        When SNS refuses the full alert (too long, invalid), its short fallback (target, action, undo
        command) is sent instead, so that an action is never silent; AwsCallFailed if that fails too.
        """
        try:
            return self._send(alert)
        except AwsCallFailed:
            if alert.fallback is None:
                raise
            logger.exception("full alert refused by SNS; sending the short one: %s", alert.subject)
            return self._send(alert.fallback)

    def _send(self, alert: Alert) -> str:
        with translated("Publish"):
            response = self._client.publish(
                TopicArn=self._topic_arn,
                Subject=alert.subject,
                Message=alert.sns_message(),
                MessageStructure="json",
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in alert.attributes.items()
                },
            )
        return response["MessageId"]
