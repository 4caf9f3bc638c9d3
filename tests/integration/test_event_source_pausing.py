"""A throttle pauses what feeds the function, and the restore resumes exactly that, against moto.

moto 5.2 creates, lists, disables and enables event source mappings of SQS queues, Kinesis streams and
DynamoDB streams, but runs no poller; `deliver` stands in for Lambda's pollers with the in-process
runtime: every *enabled* SQS mapping hands its queue to its function (`LambdaRuntime.pump`), and the
runtime runs nothing while the function's reserved concurrency is 0.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.lambda_runtime import LambdaRuntime
from guardrail.adapters.ledger import Ledger
from guardrail.domain import Finding, Result, Target
from guardrail.prior_state import FunctionPrior

CONSUMER = "orders-consumer"


def throttle(deployed, name: str = CONSUMER, key: str | None = None):
    finding = Finding(
        Target.function(name),
        "invocation-scan",
        "9000 invocations a minute",
        deployed.clock(),
        dedupe_key=key,
    )
    return deployed.enforcer().enforce(finding)


def restore(deployed, name: str = CONSUMER):
    return deployed.enforcer().restore(Target.function(name))


def queue(aws, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def mapping(aws, source_arn: str, *, enabled: bool = True, **extra: Any) -> str:
    return aws.client("lambda").create_event_source_mapping(
        EventSourceArn=source_arn, FunctionName=CONSUMER, Enabled=enabled, **extra
    )["UUID"]


def state(aws, uuid: str) -> str:
    return aws.client("lambda").get_event_source_mapping(UUID=uuid)["State"]


def deliver(aws, runtime: LambdaRuntime) -> None:
    """What Lambda's pollers do: each enabled SQS mapping feeds its function; a disabled one does not."""
    runtime.queues.clear()
    sqs = aws.client("sqs")
    for found in aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]:
        arn = found["EventSourceArn"]
        if found["State"] == "Enabled" and ":sqs:" in arn:
            url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
            runtime.subscribe(url, found["FunctionArn"].rsplit(":", 1)[1])
    runtime.pump()


def waiting(aws, url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


@pytest.fixture
def consumer(aws, make_function) -> tuple[LambdaRuntime, list[str]]:
    make_function(CONSUMER, reserved=5)
    received: list[str] = []
    runtime = LambdaRuntime(aws)
    runtime.register(CONSUMER, lambda event, _: received.extend(r["body"] for r in event["Records"]))
    return runtime, received


def test_a_throttled_sqs_consumer_loses_no_message(deployed, aws, consumer):
    runtime, received = consumer
    orders_url, orders_arn = queue(aws, "orders")
    orders = mapping(aws, orders_arn)
    archive = mapping(aws, queue(aws, "archive")[1], enabled=False)  # disabled by its owner

    throttled = throttle(deployed)

    assert throttled.result is Result.THROTTLED
    assert (state(aws, orders), state(aws, archive)) == ("Disabled", "Disabled")
    assert [m.uuid for m in FunctionPrior.of(throttled.prior).paused] == [orders]
    sqs = aws.client("sqs")
    for n in range(25):
        sqs.send_message(QueueUrl=orders_url, MessageBody=f"order-{n}")
    deliver(aws, runtime)
    assert received == []
    assert waiting(aws, orders_url) == 25

    restored = restore(deployed)

    assert restored.result is Result.RESTORED
    assert deployed.reservation(CONSUMER) == 5
    assert (state(aws, orders), state(aws, archive)) == ("Enabled", "Disabled")
    assert waiting(aws, orders_url) == 25  # every message sent while throttled is still in the queue
    deliver(aws, runtime)
    assert sorted(received) == sorted(f"order-{n}" for n in range(25))
    assert waiting(aws, orders_url) == 0


def test_alerts_name_what_was_paused_and_what_was_resumed(deployed, aws, consumer):
    _, orders_arn = queue(aws, "orders")
    orders = mapping(aws, orders_arn)

    throttle(deployed)
    restore(deployed)

    throttled, restored = (alert["Document"] for alert in deployed.alerts())
    assert throttled["paused_event_sources"] == [
        {"uuid": orders, "source_arn": orders_arn, "state": "Enabled"}
    ]
    assert throttled["prior_reserved_concurrency"] == 5
    assert f"Paused:              event source {orders_arn} ({orders})" in throttled["text"]
    assert "retries them for up to 6 h, then dropped (no DLQ, no on-failure destination)" in throttled["text"]
    assert f"Resumed:             event source {orders_arn} ({orders})" in restored["text"]


def test_the_alert_names_the_on_failure_destination_of_async_invocations(deployed, aws, consumer):
    _, failures_arn = queue(aws, "consumer-failures")
    aws.client("lambda").put_function_event_invoke_config(
        FunctionName=CONSUMER, DestinationConfig={"OnFailure": {"Destination": failures_arn}}
    )

    throttle(deployed)

    [alert] = deployed.alerts()
    assert alert["Document"]["async_failure_targets"] == {"on_failure": failures_arn}
    assert f"then sent to on-failure {failures_arn}" in alert["Document"]["text"]


def test_stream_mappings_are_paused_and_resumed_with_the_retention_risk_stated(deployed, aws, consumer):
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    clicks_arn = kinesis.describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    table = aws.client("dynamodb").create_table(
        TableName="carts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    clicks = mapping(aws, clicks_arn, StartingPosition="LATEST")
    carts = mapping(aws, table["LatestStreamArn"], StartingPosition="LATEST")

    throttle(deployed)

    assert (state(aws, clicks), state(aws, carts)) == ("Disabled", "Disabled")
    [alert] = deployed.alerts()
    text = alert["Document"]["text"]
    assert f"{clicks_arn}: records expire after the stream's retention period (24 h by default)" in text
    assert f"{table['LatestStreamArn']}: records expire" in text

    assert restore(deployed).result is Result.RESTORED
    assert (state(aws, clicks), state(aws, carts)) == ("Enabled", "Enabled")


def test_duplicate_throttles_neither_pause_again_nor_lose_the_list(deployed, aws, consumer):
    _, orders_arn = queue(aws, "orders")
    orders = mapping(aws, orders_arn)
    throttle(deployed, key="event-1")

    assert throttle(deployed, key="event-1").result is Result.DUPLICATE
    again = throttle(deployed, key="event-2")

    assert again.result is Result.ALREADY_THROTTLED
    assert [m.uuid for m in FunctionPrior.of(again.prior).paused] == [orders]
    record = Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    ).get(Target.function(CONSUMER))
    assert [m.uuid for m in FunctionPrior.of(record.prior).paused] == [orders]
    assert restore(deployed).result is Result.RESTORED
    assert state(aws, orders) == "Enabled"


def test_a_mapping_that_cannot_be_paused_is_reported_and_the_throttle_stands(deployed, aws, consumer):
    orders = mapping(aws, queue(aws, "orders")[1])
    stuck = mapping(aws, queue(aws, "stuck")[1])
    refusals = []

    def refuse_stuck(params: dict[str, Any], **_: Any) -> None:
        """Lambda refusing to disable one mapping (as it does while the mapping is being updated)."""
        if params.get("UUID") == stuck and params.get("Enabled") is False:
            refusals.append(stuck)
            raise aws_error("ResourceInUseException", "The mapping is being updated")

    aws.events.register("before-parameter-build.lambda.UpdateEventSourceMapping", refuse_stuck)
    throttled = throttle(deployed)
    aws.events.unregister("before-parameter-build.lambda.UpdateEventSourceMapping", refuse_stuck)

    assert throttled.result is Result.THROTTLED
    assert deployed.reservation(CONSUMER) == 0
    assert refusals == [stuck]
    assert f"({stuck}) not paused: ResourceInUseException" in throttled.detail
    assert (state(aws, orders), state(aws, stuck)) == ("Disabled", "Enabled")
    [alert] = deployed.alerts()
    assert alert["Document"]["not_done"] == [throttled.detail]
    assert "Not done:            event source" in alert["Document"]["text"]

    assert restore(deployed).result is Result.RESTORED
    assert (state(aws, orders), state(aws, stuck)) == ("Enabled", "Enabled")


def test_a_mapping_that_cannot_be_resumed_fails_the_restore_and_a_retry_finishes_it(deployed, aws, consumer):
    orders = mapping(aws, queue(aws, "orders")[1])
    throttle(deployed)

    def refuse(params: dict[str, Any], **_: Any) -> None:
        raise aws_error("ServiceException", "Lambda is down")

    aws.events.register("before-parameter-build.lambda.UpdateEventSourceMapping", refuse)
    failed = restore(deployed)
    aws.events.unregister("before-parameter-build.lambda.UpdateEventSourceMapping", refuse)

    assert failed.result is Result.ERROR
    assert orders in failed.error
    assert state(aws, orders) == "Disabled"
    assert restore(deployed).result is Result.RESTORED
    assert (deployed.reservation(CONSUMER), state(aws, orders)) == (5, "Enabled")


def test_a_mapping_deleted_while_throttled_does_not_block_the_restore(deployed, aws, consumer):
    orders = mapping(aws, queue(aws, "orders")[1])
    throttle(deployed)
    aws.client("lambda").delete_event_source_mapping(UUID=orders)

    assert restore(deployed).result is Result.RESTORED
    assert deployed.reservation(CONSUMER) == 5


def aws_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateEventSourceMapping")


@pytest.mark.usefixtures("moto_patches", "atomic_calls")
def test_a_restore_after_a_mapping_was_repointed_leaves_it_alone_and_says_so(
    aws, deployed, make_function, invoke
):
    make_function(CONSUMER, reserved=3)
    make_function("orders-consumer-v2")
    _, orders = queue(aws, "orders")
    _, audit = queue(aws, "audit")
    moved, kept = mapping(aws, orders), mapping(aws, audit)
    throttled = invoke({"action": "throttle", "functions": [CONSUMER], "reason": "loop", "by": "alice"})
    assert throttled["results"][0]["result"] == "throttled"
    deployed.alerts()
    # while the function was held, its owner pointed the orders queue at the new version
    aws.client("lambda").update_event_source_mapping(UUID=moved, FunctionName="orders-consumer-v2")

    [answer] = invoke({"action": "restore", "functions": [CONSUMER]})["results"]

    assert (answer["result"], answer["prior_reservation"]) == ("restored", 3)
    assert f"event source mapping {moved} now feeds orders-consumer-v2 from {orders}" in answer["detail"]
    assert "left as it is" in answer["detail"]
    assert (state(aws, moved), state(aws, kept)) == ("Disabled", "Enabled")  # only its own is resumed
    assert deployed.reservation(CONSUMER) == 3
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "restored"
    assert any(moved in line for line in alert["Document"]["not_done"]), alert["Document"]
