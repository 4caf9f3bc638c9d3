"""A queue subscribed to the alert topic, as a machine subscriber would be, and its reader."""

from __future__ import annotations

import json
from typing import Any

import boto3


def subscribe_inbox(session: boto3.session.Session, topic_arn: str, name: str = "demo-alert-inbox") -> str:
    """Subscribe a queue to the alert topic, as a machine subscriber would be; return its URL."""
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def drain_inbox(session: boto3.session.Session, url: str) -> list[dict[str, Any]]:
    """Receive and delete every message on the queue; return the SNS envelopes."""
    sqs = session.client("sqs")
    envelopes = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            envelopes.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return envelopes
