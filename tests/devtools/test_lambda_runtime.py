"""The in-process Lambda runtime answers Invoke as Lambda would, on the sessions it is attached to."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from devtools.lambda_runtime import FunctionThrottled, LambdaRuntime
from tests.integration import sample_handlers


@pytest.fixture
def runtime(aws, sample_functions):
    runtime = LambdaRuntime(aws)
    runtime.attach()
    yield runtime
    runtime.detach()


def invoke(aws, name, payload, invocation_type="RequestResponse"):
    response = aws.client("lambda").invoke(
        FunctionName=name, InvocationType=invocation_type, Payload=json.dumps(payload)
    )
    return response["StatusCode"], response.get("FunctionError"), response["Payload"].read()


def test_sync_invoke_runs_the_deployed_handler_with_a_context_from_its_configuration(aws, runtime):
    seen = {}

    def spy(event, context):
        seen.update(arn=context.invoked_function_arn, memory=context.memory_limit_in_mb)
        return {"echo": event}

    runtime.register("recorder", spy)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:recorder"

    assert invoke(aws, arn, {"a": 1}) == (200, None, b'{"echo": {"a": 1}}')
    assert seen == {"arn": arn, "memory": 512}
    assert runtime.invocations == [("recorder", {"a": 1})]


def test_a_handler_error_is_answered_as_a_function_error_and_recorded(aws, runtime):
    status, error, body = invoke(aws, "exploder", {})

    assert (status, error) == (200, "Unhandled")
    assert json.loads(body) == {"errorType": "ValueError", "errorMessage": "boom"}
    [(name, exc)] = runtime.errors
    assert (name, str(exc)) == ("exploder", "boom")


def test_async_invokes_wait_for_pump(aws, runtime):
    assert invoke(aws, "recorder", {"n": 1}, "Event")[:2] == (202, None)
    assert sample_handlers.RECEIVED == []

    runtime.pump()

    assert sample_handlers.RECEIVED == [{"n": 1}]


def test_a_throttled_function_is_not_run(aws, runtime):
    aws.client("lambda").put_function_concurrency(FunctionName="recorder", ReservedConcurrentExecutions=0)

    with pytest.raises(ClientError, match="TooManyRequestsException"):
        invoke(aws, "recorder", {})
    with pytest.raises(FunctionThrottled):
        runtime.run("recorder", {})
    runtime.pending.append(("recorder", {}))
    runtime.pump()  # dropped, as Lambda drops an async event it cannot run

    assert sample_handlers.RECEIVED == []
    assert runtime.invocations == []


def test_an_unknown_function_fails_as_in_aws(aws, runtime):
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        invoke(aws, "ghost", {})


def test_sqs_messages_reach_the_subscribed_function_in_batches(aws, runtime):
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    runtime.subscribe(queue, "recorder")
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    runtime.pump()

    [event] = sample_handlers.RECEIVED
    assert sorted(r["body"] for r in event["Records"]) == ["one", "two"]
    assert {r["eventSourceARN"] for r in event["Records"]} == {"arn:aws:sqs:us-east-1:123456789012:jobs"}
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []


def test_after_detach_invoke_goes_to_moto_again(aws, runtime):
    runtime.detach()

    invoke(aws, "recorder", {})  # moto answers by itself (it cannot run the code without docker)

    assert sample_handlers.RECEIVED == []
    assert runtime.invocations == []
