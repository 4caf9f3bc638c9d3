"""Adapter that publishes rendered alerts to the guardrail's SNS topic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.alerts.render import Alert

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


class SnsAlerts(AwsAdapter["SNSClient"]):
    """Publishes alerts with `MessageStructure=json` and filterable message attributes.

    Raises AwsCallFailed when SNS refuses or cannot be reached.
    """

    SERVICE = "sns"
    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = ("sns:Publish",)

    def __init__(self, topic_arn: str, **clients: Unpack[ClientOptions[SNSClient]]) -> None:
        super().__init__(**clients)
        self._topic_arn = topic_arn

    def publish(self, alert: Alert) -> str:
        """Publish one alert and return its SNS message id."""
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
