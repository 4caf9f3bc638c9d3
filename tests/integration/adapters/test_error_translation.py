"""Every adapter lets only domain errors escape: ClientError and BotoCoreError become AwsCallFailed.

The AWS error is answered by botocore's Stubber on an injected client; the Stubber cannot raise a
BotoCoreError, so the connection failure is raised by a `before-call` hook on the same client (the call
never leaves the process either way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.alerts.render import Alert
from guardrail.detectors.athena.booking import QueryFacts
from guardrail.detectors.invocation_scan.detect import MetricQuery
from guardrail.domain import Target
from guardrail.errors import AwsCallFailed
from tests.conftest import offline_client

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
ALERT = Alert(subject="s", text="t", document={}, attributes={"event_type": "throttled"})
FACTS = QueryFacts("q1", "SUCCEEDED", 1, "primary", "SELECT * FROM sales.orders", "web", "AwsDataCatalog")


@dataclass(frozen=True)
class Case:
    """One adapter call: how to build the adapter over a client, the call, and the AWS operation it makes."""

    service: str
    adapter: Callable[[Any], Any]
    call: Callable[[Any], object]
    operation: str

    @property
    def method(self) -> str:
        """The client's method name for the operation (what the Stubber queues)."""
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in self.operation).lstrip("_")


CASES = {
    "lambda facts": Case(
        "lambda", lambda c: LambdaControl(boto3_client=c), lambda a: a.facts("f"), "GetFunction"
    ),
    "lambda reserve": Case(
        "lambda",
        lambda c: LambdaControl(boto3_client=c),
        lambda a: a.set_reserved("f", 0),
        "PutFunctionConcurrency",
    ),
    "lambda list (paginator)": Case(
        "lambda", lambda c: LambdaControl(boto3_client=c), lambda a: list(a.function_names()), "ListFunctions"
    ),
    "sns publish": Case(
        "sns", lambda c: SnsAlerts("arn:topic", boto3_client=c), lambda a: a.publish(ALERT), "Publish"
    ),
    "workgroup state": Case(
        "athena", lambda c: AthenaWorkgroups(boto3_client=c), lambda a: a.state("primary"), "GetWorkGroup"
    ),
    "query facts": Case(
        "athena", lambda c: AthenaQueries(boto3_client=c), lambda a: a.get("q1"), "GetQueryExecution"
    ),
    "metric samples": Case(
        "cloudwatch",
        lambda c: CloudWatchMetrics(boto3_client=c),
        lambda a: a.samples([MetricQuery("Invocations")], start=AT, end=AT),
        "GetMetricData",
    ),
    "counters record": Case(
        "dynamodb", lambda c: AthenaCounters("t", boto3_client=c), lambda a: a.query("q1"), "GetItem"
    ),
    "counters totals": Case(
        "dynamodb",
        lambda c: AthenaCounters("t", boto3_client=c),
        lambda a: a.totals("WORKGROUP#primary", AT, window_minutes=5),
        "Query",
    ),
    "ledger record": Case(
        "dynamodb", lambda c: Ledger("t", boto3_client=c), lambda a: a.get(Target.function("f")), "GetItem"
    ),
    "ledger active (paginator)": Case(
        "dynamodb", lambda c: Ledger("t", boto3_client=c), lambda a: a.active(), "Query"
    ),
    "ledger audit": Case(
        "dynamodb",
        lambda c: Ledger("t", boto3_client=c),
        lambda a: a.audit_trail(Target.function("f")),
        "Query",
    ),
    "ledger signal": Case(
        "dynamodb",
        lambda c: Ledger("t", boto3_client=c),
        lambda a: a.claim_signal("k", now=AT, ttl_seconds=60),
        "PutItem",
    ),
}
#: DataLocations answers a Glue or S3 error itself (the table counts as a home-region one), so only a
#: failure to reach AWS escapes it.
UNREACHABLE_ONLY = {
    "data locations": Case(
        "glue",
        lambda c: DataLocations(glue_client=c, s3_client=c),
        lambda a: a.remote_tables(FACTS, "x"),
        "GetTable",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_client_error_escapes_as_aws_call_failed(case: Case):
    client = offline_client(case.service)
    adapter = case.adapter(client)
    with Stubber(client) as stub:
        stub.add_client_error(case.method, "AccessDeniedException", "not for you")
        with pytest.raises(AwsCallFailed) as failed:
            case.call(adapter)
        stub.assert_no_pending_responses()
    assert (failed.value.code, failed.value.message, failed.value.operation) == (
        "AccessDeniedException",
        "not for you",
        case.operation,
    )


@pytest.mark.parametrize("case", (CASES | UNREACHABLE_ONLY).values(), ids=(CASES | UNREACHABLE_ONLY).keys())
def test_a_botocore_error_escapes_as_aws_call_failed(case: Case):
    client = offline_client(case.service)
    adapter = case.adapter(client)

    def unreachable(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://{case.service}.example")

    client.meta.events.register("before-call", unreachable)
    with pytest.raises(AwsCallFailed) as failed:
        case.call(adapter)
    assert (failed.value.code, failed.value.operation) == ("EndpointConnectionError", case.operation)
    assert f"{case.service}.example" in failed.value.message
