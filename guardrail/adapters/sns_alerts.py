"""Adapter that publishes rendered alerts to the guardrail's SNS topic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Unpack

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.adapters.permissions import Grant, Resource
from guardrail.alerts.chat import sns_message
from guardrail.alerts.render import Alert
from guardrail.errors import AwsCallFailed

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient

logger = logging.getLogger(__name__)


class SnsAlerts(AwsAdapter["SNSClient"]):
    """Publishes alerts with `MessageStructure=json` and filterable message attributes.

    Each protocol gets its own form: text for e-mail, the JSON document for machines, and for
    `https` (AWS Chatbot's subscription) a Chatbot custom notification (`guardrail.alerts.chat`).

    Raises AwsCallFailed when SNS refuses or cannot be reached.
    """

    SERVICE = "sns"
    PERMISSIONS = (Grant(Resource.ALERT_TOPIC, ("sns:Publish",)),)

    def __init__(self, topic_arn: str, **clients: Unpack[ClientOptions[SNSClient]]) -> None:
        super().__init__(**clients)
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
                Message=sns_message(alert),  # Chatbot's custom notification under `https`
                MessageStructure="json",
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in alert.attributes.items()
                },
            )
        return response["MessageId"]
