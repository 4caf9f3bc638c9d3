"""A chain depth written by anyone outside the guarded functions never makes the guard refuse.

The forger may send to a guarded function's queue (`sqs:SendMessage`), publish to its topic, put an
event its rule matches, or invoke it: each carries `guardrail-chain` as the guard would, with any
depth. Before, one message with depth 99 made the function refuse its first outgoing call, the watch
verified that genuine refusal and throttled the function: an outage bought with one message. Now the
guard signs its chain context with the stack's chain key (a Secrets Manager secret only guarded
functions may read, `GUARDRAIL_CHAIN_SECRET` in their environment; the runtime fixture creates it); an
unsigned, badly signed or expired depth starts a new chain and is reported, never refused.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import boto3
import pytest

from guardrail.recursion import recursion_guard
from guardrail.recursion.chain import Chain
from guardrail.recursion.chain_key import CHAIN_SECRET_ENV, Keyring, forget_keys, read_secret
from tests.integration.recursion.conftest import signed_carrier
from tests.integration.recursion.guarded_functions import enforce_refusals, forwarder, invoker, refused

FORGED = {"depth": 99, "chain_id": "forged"}


def forged_attribute(carrier: dict[str, Any]) -> dict[str, Any]:
    return {"guardrail-chain": {"DataType": "String", "StringValue": json.dumps(carrier)}}


@pytest.fixture
def job_queue(runtime: Any, make_function: Any, aws: Any) -> str:
    """A guarded worker (limit 3) that forwards each message to its own queue, once it is subscribed."""
    queue = aws.client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    make_function("job-worker")
    runtime.register("job-worker", forwarder(queue, max_depth=3))
    runtime.subscribe(queue, "job-worker")
    return queue


def test_one_forged_message_with_depth_99_is_not_refused_and_throttles_nothing(
    runtime, deployed, make_function, aws, caplog
):
    sqs = aws.client("sqs")
    jobs = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    done = sqs.create_queue(QueueName="done")["QueueUrl"]
    make_function("job-worker", reserved=10)
    runtime.register("job-worker", forwarder(done, max_depth=3))  # one hop: jobs -> done, no loop
    runtime.subscribe(jobs, "job-worker")

    with caplog.at_level(logging.WARNING, logger="guardrail.recursion"):
        sqs.send_message(QueueUrl=jobs, MessageBody="resize", MessageAttributes=forged_attribute(FORGED))
        runtime.pump()
    results = enforce_refusals(runtime)

    assert runtime.errors == [] and results == []
    assert deployed.reservation("job-worker") == 10
    [message] = sqs.receive_message(QueueUrl=done, MessageAttributeNames=["All"])["Messages"]
    carrier = json.loads(message["MessageAttributes"]["guardrail-chain"]["StringValue"])
    assert (carrier["depth"], carrier["origin"]) == (1, "job-worker")  # a new chain, started here
    assert carrier["chain_id"] != "forged"
    assert "unsigned" in caplog.text and "job-worker" in caplog.text


def test_a_forged_depth_in_an_invoke_payload_is_never_refused(runtime, deployed, make_function):
    make_function("nightly-batch")
    sent: list[Any] = []

    @recursion_guard(max_depth=5)
    def handler(event: dict[str, Any], context: Any) -> None:
        sent.append(boto3.client("sqs").create_queue(QueueName="out")["QueueUrl"])
        boto3.client("sqs").send_message(QueueUrl=sent[-1], MessageBody="once")

    runtime.register("nightly-batch", handler)
    runtime.pending.append(("nightly-batch", {"guardrail-chain": FORGED}))
    runtime.pump()

    assert runtime.errors == []
    assert runtime.refusal_events() == []
    assert deployed.reservation("nightly-batch") is None


def genuine_carrier(aws: Any) -> dict[str, Any]:
    """A carrier a guarded function really wrote (read back from the queue it sent to)."""
    queue = aws.client("sqs").create_queue(QueueName="out")["QueueUrl"]

    @recursion_guard(max_depth=5)
    def sender(event: dict[str, Any], context: Any) -> None:
        boto3.client("sqs").send_message(QueueUrl=queue, MessageBody="x")

    sender({}, None)
    [message] = aws.client("sqs").receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    carrier: dict[str, Any] = json.loads(message["MessageAttributes"]["guardrail-chain"]["StringValue"])
    return carrier


def test_a_genuine_carrier_whose_depth_was_raised_is_badly_signed_and_starts_a_new_chain(
    runtime, job_queue, aws, caplog
):
    carrier = {**genuine_carrier(aws), "depth": 99}

    with caplog.at_level(logging.WARNING, logger="guardrail.recursion"):
        aws.client("sqs").send_message(
            QueueUrl=job_queue, MessageBody="resize", MessageAttributes=forged_attribute(carrier)
        )
        runtime.pump()

    assert runtime.depths() == [99, 1, 2, 3]  # as received: 99 (badly signed), then a new chain
    assert "badly signed" in caplog.text
    assert [r["result"] for r in enforce_refusals(runtime)] == ["throttled"]  # the genuine new chain


def test_an_expired_carrier_starts_a_new_chain(runtime, job_queue, aws, caplog):
    secret = os.environ[CHAIN_SECRET_ENV]
    two_days_ago = Keyring(secret, clock=lambda: time.time() - 2 * 86400)  # the real key, an old date
    carrier = Chain(2, "old-chain", "job-worker").carrier(two_days_ago)

    with caplog.at_level(logging.WARNING, logger="guardrail.recursion"):
        aws.client("sqs").send_message(
            QueueUrl=job_queue, MessageBody="late", MessageAttributes=forged_attribute(carrier)
        )
        runtime.pump()

    assert runtime.depths() == [3, 1, 2, 3]  # as received: 3 (expired), then a new chain
    assert "expired" in caplog.text


def test_a_rotated_key_breaks_no_chain(runtime, job_queue, aws):
    secret = os.environ[CHAIN_SECRET_ENV]
    written_before = signed_carrier(2, "long-chain", "job-worker")
    aws.client("secretsmanager").put_secret_value(SecretId=secret, SecretString="k" * 64)  # rotated
    forget_keys()  # the worker's next cold start reads AWSCURRENT (new) and AWSPREVIOUS (old)

    aws.client("sqs").send_message(
        QueueUrl=job_queue, MessageBody="r", MessageAttributes=forged_attribute(written_before)
    )
    runtime.pump()

    assert runtime.depths() == [2, 3]  # the old key's depth 2 counted: 3, then depth 4 is refused
    assert refused(runtime) == [("job-worker", 4, 3)]
    assert read_secret(secret)[0] == b"k" * 64


def test_without_a_chain_key_a_forged_depth_is_refused_but_only_alerted_as_unverified(
    runtime, deployed, make_function, monkeypatch
):
    monkeypatch.delenv(CHAIN_SECRET_ENV)  # a function given the layer by hand, not by guard(fn)
    forget_keys()
    make_function("hand-made", reserved=10)
    runtime.register("hand-made", invoker("hand-made", "Event", max_depth=5))

    runtime.pending.append(("hand-made", {"guardrail-chain": FORGED}))
    runtime.pump()
    [result] = enforce_refusals(runtime)

    assert refused(runtime) == [("hand-made", 100, 5)]  # the chain still stops: the guard trusts it
    assert result["result"] == "unverified"
    assert "had no chain key" in result["detail"]
    assert deployed.reservation("hand-made") == 10
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "unverified"
