"""Chains of guarded functions stop at exactly their limit, and the one that crossed it is throttled."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from guardrail.recursion import recursion_guard
from guardrail.recursion.limits import TAG_MAX_DEPTH
from tests.integration.recursion.guarded_functions import enforce_refusals, forwarder, invoker, refused


@pytest.mark.parametrize("invocation_type", ["Event", "RequestResponse"])
def test_self_recursive_invoke_stops_at_its_limit_and_is_throttled(
    runtime, deployed, make_function, invocation_type
):
    make_function("nightly-batch")
    runtime.register("nightly-batch", invoker("nightly-batch", invocation_type, max_depth=5))

    runtime.pending.append(("nightly-batch", {"job": "athena-queries"}))
    runtime.pump()

    assert runtime.depths() == [0, 1, 2, 3, 4, 5]
    assert all(event["job"] == "athena-queries" for _, event in runtime.invocations)
    assert refused(runtime) == [("nightly-batch", 6, 5)]
    assert not runtime.throttled("nightly-batch")

    results = enforce_refusals(runtime)

    assert [r["result"] for r in results] == ["throttled"]
    assert deployed.reservation("nightly-batch") == 0
    [alert] = deployed.alerts()
    evidence = alert["Document"]["evidence"]
    chain_ids = {event["guardrail-chain"]["chain_id"] for _, event in runtime.invocations[1:]}
    assert evidence["chain_id"] in chain_ids and len(chain_ids) == 1
    assert (evidence["depth"], evidence["limit"], evidence["operation"]) == (6, 5, "lambda.Invoke")


def test_cycle_through_sync_invoke_throttles_only_the_function_that_crossed(runtime, deployed, make_function):
    make_function("chain-a")
    make_function("chain-b", tags={TAG_MAX_DEPTH: "4"})
    runtime.register("chain-a", invoker("chain-b", "RequestResponse", max_depth=4))
    runtime.register("chain-b", invoker("chain-a", "RequestResponse"))

    runtime.pending.append(("chain-a", {}))
    runtime.pump()

    assert runtime.depths("chain-a") == [0, 2, 4]
    assert runtime.depths("chain-b") == [1, 3]
    assert refused(runtime) == [("chain-a", 5, 4)]
    assert [r["function"] for r in enforce_refusals(runtime)] == ["chain-a"]
    assert deployed.reservation("chain-a") == 0
    assert deployed.reservation("chain-b") is None


def test_sqs_self_loop_stops_at_the_tagged_limit(runtime, deployed, make_function, aws):
    queue = aws.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    make_function("job-worker", tags={TAG_MAX_DEPTH: "3"})
    runtime.register("job-worker", forwarder(queue))
    runtime.subscribe(queue, "job-worker")

    aws.client("sqs").send_message(QueueUrl=queue, MessageBody="resize image 42")
    runtime.pump()

    assert runtime.depths() == [0, 1, 2, 3]
    assert refused(runtime) == [("job-worker", 4, 3)]
    assert [r["result"] for r in enforce_refusals(runtime)] == ["throttled"]
    assert deployed.reservation("job-worker") == 0


def test_sqs_cycle_with_batches_throttles_the_function_that_crossed(runtime, deployed, make_function, aws):
    sqs = aws.client("sqs")
    queue_a = sqs.create_queue(QueueName="to-a")["QueueUrl"]
    queue_b = sqs.create_queue(QueueName="to-b")["QueueUrl"]
    make_function("stage-a")
    make_function("stage-b")
    runtime.register("stage-a", forwarder(queue_b, batch=True, max_depth=3))
    runtime.register("stage-b", forwarder(queue_a, batch=True, max_depth=3))
    runtime.subscribe(queue_a, "stage-a")
    runtime.subscribe(queue_b, "stage-b")

    sqs.send_message(QueueUrl=queue_a, MessageBody="start")
    runtime.pump()

    assert runtime.depths() == [0, 1, 2, 3]
    assert refused(runtime) == [("stage-b", 4, 3)]
    assert [r["function"] for r in enforce_refusals(runtime)] == ["stage-b"]
    assert deployed.reservation("stage-b") == 0
    assert deployed.reservation("stage-a") is None


def countdown() -> Any:
    """A guarded batch that recurses `remaining` more times, then stops on its own."""

    @recursion_guard
    def handler(event: dict[str, Any], context: Any) -> None:
        if event["remaining"] > 0:
            boto3.client("lambda").invoke(
                FunctionName=context.function_name,
                InvocationType="Event",
                Payload=json.dumps({**event, "remaining": event["remaining"] - 1}),
            )

    return handler


def test_function_tagged_with_a_deeper_limit_runs_to_that_depth_untouched(runtime, deployed, make_function):
    make_function("deep-batch", tags={TAG_MAX_DEPTH: "40"})
    runtime.register("deep-batch", countdown())

    runtime.pending.append(("deep-batch", {"remaining": 40}))
    runtime.pump()

    assert runtime.depths() == list(range(41))
    assert runtime.errors == []
    assert runtime.refusal_events() == []
    assert deployed.reservation("deep-batch") is None


def test_untagged_function_stops_at_the_default_of_16(runtime, make_function):
    make_function("plain-batch")
    runtime.register("plain-batch", countdown())

    runtime.pending.append(("plain-batch", {"remaining": 40}))
    runtime.pump()

    assert max(runtime.depths()) == 16
    assert refused(runtime) == [("plain-batch", 17, 16)]


def test_duplicate_refusal_deliveries_act_once(runtime, deployed, make_function):
    make_function("nightly-batch")
    runtime.register("nightly-batch", invoker("nightly-batch", "Event", max_depth=1))
    runtime.pending.append(("nightly-batch", {}))
    runtime.pump()
    [event] = runtime.refusal_events()

    first = runtime.deliver_to_watch(event)["results"]
    second = runtime.deliver_to_watch(event)["results"]

    assert [r["result"] for r in first + second] == ["throttled", "duplicate"]
    assert len(deployed.alerts()) == 1


def test_malformed_depth_starts_a_fresh_chain_with_a_warning(runtime, aws, caplog):
    queue = aws.client("sqs").create_queue(QueueName="out")["QueueUrl"]

    @recursion_guard(max_depth=2)
    def send_once(event: dict[str, Any], context: Any) -> None:
        boto3.client("sqs").send_message(QueueUrl=queue, MessageBody="hello")

    with caplog.at_level(logging.WARNING, logger="guardrail.recursion"):
        send_once({"guardrail-chain": {"depth": "lots", "chain_id": 7}}, None)

    [message] = aws.client("sqs").receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    carrier = json.loads(message["MessageAttributes"]["guardrail-chain"]["StringValue"])
    assert carrier["depth"] == 1
    assert carrier["chain_id"] != 7
    assert "malformed guardrail-chain field" in caplog.text
