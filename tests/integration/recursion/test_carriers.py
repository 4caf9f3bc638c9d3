"""SNS and EventBridge carry the chain too (through moto's SNS -> SQS and rule -> SQS delivery)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devtools.lambda_runtime import sqs_event
from guardrail.recursion import Chain, RecursionDepthExceeded, recursion_guard
from guardrail.recursion.chain import chain_of
from guardrail.recursion.chain_key import keyring
from tests.integration.recursion.conftest import signed_carrier


@pytest.fixture
def inbox(runtime: Any, aws: Any) -> tuple[str, str, str]:
    """A queue that receives from an SNS topic and from an EventBridge rule on `source: shop`."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="fan-in")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = aws.client("sns").create_topic(Name="orders")["TopicArn"]
    aws.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    aws.client("events").put_rule(Name="shop", EventPattern=json.dumps({"source": ["shop"]}))
    aws.client("events").put_targets(Rule="shop", Targets=[{"Id": "q", "Arn": arn}])
    return url, topic, arn


def publisher(topic: str) -> Any:
    @recursion_guard(max_depth=5)
    def handler(event: Any, context: Any) -> None:
        boto3.client("sns").publish(TopicArn=topic, Message="order 1")
        detail = json.dumps({"order": 1})
        boto3.client("events").put_events(
            Entries=[{"Source": "shop", "DetailType": "Order", "Detail": detail}]
        )

    return handler


def received(aws: Any, url: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return sorted(messages, key=lambda m: "detail-type" in m["Body"])


def test_sns_and_eventbridge_carry_depth_plus_one_signed(inbox, aws):
    url, topic, arn = inbox
    publisher(topic)({"guardrail-chain": signed_carrier(2, "chain-7")}, None)

    from_sns, from_rule = received(aws, url)

    deeper = Chain(3, "chain-7", "upstream", verified=True)  # the signature survived the trip
    assert chain_of(sqs_event(arn, [from_sns]), keyring()) == deeper  # SNS envelope in the SQS body
    event = json.loads(from_rule["Body"])  # what a Lambda target of the rule receives
    assert event["detail"]["order"] == 1
    assert chain_of(event, keyring()) == deeper


def test_publish_past_the_limit_is_refused_before_it_is_made(inbox, aws, runtime):
    url, topic, _ = inbox
    with pytest.raises(RecursionDepthExceeded, match=r"refused sns.Publish at chain depth 6"):
        publisher(topic)({"guardrail-chain": signed_carrier(5, "chain-7")}, None)

    assert aws.client("sqs").receive_message(QueueUrl=url).get("Messages", []) == []
    [refusal] = runtime.refusal_events()
    assert refusal["detail"]["target"] == topic
