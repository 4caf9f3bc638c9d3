"""The opt-in Athena wrapper against moto: a guarded invocation's queries carry its mark.

moto's Athena keeps a query's text as given, so `GetQueryExecution` returns the mark the watch reads.
"""

from __future__ import annotations

from guardrail.recursion.chain import Chain
from guardrail.recursion.hooks import Invocation, running
from guardrail.recursion.query_mark import QueryMark, mark_athena_queries, read_mark


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
