"""The opt-in Athena wrapper against moto: a guarded invocation's queries carry its mark and are told.

moto's Athena keeps a query's text as given, so `GetQueryExecution` returns the mark the watch reads;
moto's EventBridge delivers the guard's `Athena Query Started` from the signal bus to an SQS queue.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from guardrail.recursion import EVENT_SOURCE, QUERY_STARTED, query_started
from guardrail.recursion.chain import Chain
from guardrail.recursion.hooks import Invocation, running
from guardrail.recursion.query_mark import QueryMark, mark_athena_queries, read_mark
from guardrail.recursion.refusal import SIGNAL_BUS_ENV


def start(client, sql: str) -> str:
    query_id = client.start_query_execution(
        QueryString=sql, ResultConfiguration={"OutputLocation": "s3://results/"}
    )["QueryExecutionId"]
    return client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Query"]


def test_queries_started_while_guarded_are_marked_and_others_are_not(aws):
    athena = mark_athena_queries(aws.client("athena"))
    invocation = Invocation("nightly-batch", None, Chain(depth=3, chain_id="chain-1"), limit=700)
    with running(invocation):
        inside = start(athena, "SELECT 1")
    assert read_mark(inside) == QueryMark("nightly-batch", "chain-1")
    assert inside.endswith("SELECT 1")
    assert read_mark(start(athena, "SELECT 2")) is None  # outside a guarded invocation
    plain = aws.client("athena")  # a client that did not opt in is left alone
    with running(invocation):
        assert read_mark(start(plain, "SELECT 3")) is None


def signal_inbox(aws, monkeypatch) -> str:
    """The guardrail's signal bus in moto, with a rule sending `Athena Query Started` to a queue."""
    bus = "runaway-guardrail-signals"
    monkeypatch.setenv(SIGNAL_BUS_ENV, bus)
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name=bus)
    queue = sqs.create_queue(QueueName="claims")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": [EVENT_SOURCE], "detail-type": [QUERY_STARTED]}
    events.put_rule(Name="claims", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="claims", EventBusName=bus, Targets=[{"Id": "inbox", "Arn": arn}])
    query_started.session_arn.cache_clear()
    query_started._publisher.cache_clear()
    return queue


def received(aws, queue: str) -> list[dict]:
    messages = aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_guarded_invocation_tells_the_signal_bus_of_each_query_it_starts(aws, monkeypatch):
    queue = signal_inbox(aws, monkeypatch)
    athena = mark_athena_queries(aws.client("athena"))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:nightly-batch:live"
    invocation = Invocation("nightly-batch", arn, Chain(depth=16, chain_id="chain-1"), limit=16)
    with running(invocation):  # at the depth limit: the guard's own event must not be refused
        query_id = athena.start_query_execution(
            QueryString="SELECT 1", ResultConfiguration={"OutputLocation": "s3://results/"}
        )["QueryExecutionId"]
    athena.start_query_execution(QueryString="SELECT 2", ResultConfiguration={"OutputLocation": "s3://r/"})
    (event,) = received(aws, queue)  # the query started outside a guarded invocation is not told
    assert (event["source"], event["detail-type"]) == ("guardrail", "Athena Query Started")
    assert event["resources"] == ["arn:aws:lambda:us-east-1:123456789012:function:nightly-batch"]
    detail = event["detail"]
    assert "guardrail-chain" not in detail  # not stamped: the guard's own signal is not part of the chain
    assert detail == {
        "function": "nightly-batch",
        "query_execution_id": query_id,
        "workgroup": "primary",
        "chain_id": "chain-1",
        "depth": 16,
        "caller": aws.client("sts").get_caller_identity()["Arn"],
        "query": "/* guardrail: function=nightly-batch chain=chain-1 */ SELECT 1",
    }


def test_a_query_that_did_not_start_is_not_told(aws, monkeypatch):
    queue = signal_inbox(aws, monkeypatch)
    athena = mark_athena_queries(aws.client("athena"))
    invocation = Invocation("nightly-batch", None, Chain(depth=1, chain_id="chain-1"), limit=16)
    with running(invocation), pytest.raises(ClientError):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="no-such-workgroup")
    assert received(aws, queue) == []
