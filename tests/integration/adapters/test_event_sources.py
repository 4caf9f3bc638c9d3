"""The event source adapter: mappings and pausing against moto; paging, dead letters and errors stubbed.

moto's ListEventSourceMappings returns one page whatever the marker, and its GetFunction carries no
`DeadLetterConfig`, so those are answered by botocore's Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from guardrail.adapters.event_sources import EventSources
from guardrail.errors import AwsCallFailed, TargetNotFound
from guardrail.prior_state import EventSourceMapping

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
U1, U2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_mappings_follow_every_page():
    client, stub = stubbed()
    with stub:
        page = {"EventSourceMappings": [{"UUID": U1, "EventSourceArn": QUEUE_ARN, "State": "Enabled"}]}
        stub.add_response("list_event_source_mappings", {**page, "NextMarker": "m1"}, {"FunctionName": "f"})
        stub.add_response(
            "list_event_source_mappings",
            {
                "EventSourceMappings": [
                    {
                        "UUID": U2,
                        "State": "Disabled",
                        "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b1:9092"]}},
                    }
                ]
            },
            {"FunctionName": "f", "Marker": "m1"},
        )

        assert EventSources(boto3_client=client).mappings("f") == [
            EventSourceMapping(U1, QUEUE_ARN, "Enabled"),
            EventSourceMapping(U2, "b1:9092", "Disabled"),
        ]
        stub.assert_no_pending_responses()


def test_mappings_are_listed_disabled_and_enabled(aws, make_function):
    make_function("consumer")
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uuid = aws.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer")[
        "UUID"
    ]
    sources = EventSources(boto3_session=aws)

    [found] = sources.mappings("consumer")
    assert found == EventSourceMapping(uuid, arn, "Enabled")
    assert sources.set_enabled(found, False) is True
    assert [m.state for m in sources.mappings("consumer")] == ["Disabled"]
    assert sources.set_enabled(found, True) is True
    assert [m.state for m in sources.mappings("consumer")] == ["Enabled"]


def test_a_deleted_mapping_is_answered_false():
    client, stub = stubbed()
    with stub:
        stub.add_client_error("update_event_source_mapping", "ResourceNotFoundException", "gone", 404)
        assert EventSources(boto3_client=client).set_enabled(EventSourceMapping(U1, QUEUE_ARN), True) is False


def test_other_errors_become_aws_call_failed():
    client, stub = stubbed()
    with stub:
        stub.add_client_error("update_event_source_mapping", "ResourceInUseException", "busy", 400)
        stub.add_client_error("list_event_source_mappings", "ResourceNotFoundException", "no function", 404)
        sources = EventSources(boto3_client=client)
        with pytest.raises(AwsCallFailed, match="ResourceInUseException: busy") as failure:
            sources.set_enabled(EventSourceMapping(U1, QUEUE_ARN), False)
        assert failure.value.operation == "UpdateEventSourceMapping"
        with pytest.raises(TargetNotFound, match="function 'ghost' does not exist"):
            sources.mappings("ghost")


def test_async_failure_targets_read_the_dead_letter_queue_and_the_on_failure_destination():
    client, stub = stubbed()
    config = {"FunctionName": "f", "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:1:dlq"}}
    with stub:
        stub.add_response("get_function", {"Configuration": config}, {"FunctionName": "f"})
        stub.add_response(
            "get_function_event_invoke_config",
            {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sns:us-east-1:1:failed"}}},
            {"FunctionName": "f"},
        )
        stub.add_response("get_function", {"Configuration": {"FunctionName": "f"}}, {"FunctionName": "f"})
        stub.add_client_error("get_function_event_invoke_config", "ResourceNotFoundException", "none", 404)

        sources = EventSources(boto3_client=client)
        assert sources.async_failure_targets("f") == {
            "dead_letter": "arn:aws:sqs:us-east-1:1:dlq",
            "on_failure": "arn:aws:sns:us-east-1:1:failed",
        }
        assert sources.async_failure_targets("f") == {}  # no DLQ, no invoke config: the normal case


def test_async_failure_targets_against_moto(aws, make_function):
    make_function("consumer")
    sources = EventSources(boto3_session=aws)
    assert sources.async_failure_targets("consumer") == {}
    aws.client("lambda").put_function_event_invoke_config(
        FunctionName="consumer", DestinationConfig={"OnFailure": {"Destination": QUEUE_ARN}}
    )
    assert sources.async_failure_targets("consumer") == {"on_failure": QUEUE_ARN}


def test_an_access_denied_on_the_invoke_config_is_raised(aws, make_function):
    make_function("consumer")

    def deny(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "X")

    aws.events.register("before-call.lambda.GetFunctionEventInvokeConfig", deny)
    with pytest.raises(AwsCallFailed, match="AccessDeniedException"):
        EventSources(boto3_session=aws).async_failure_targets("consumer")
