"""The Lambda adapter: paging (botocore Stubber, since moto ignores paging), facts and errors (moto)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.errors import AwsCallFailed, TargetNotFound
from tests.conftest import offline_client


def test_function_names_follows_every_page():
    """moto's ListFunctions returns one page whatever the marker, so the pages are stubbed."""
    client = offline_client("lambda")
    with Stubber(client) as stub:
        stub.add_response(
            "list_functions",
            {"Functions": [{"FunctionName": "a"}, {"FunctionName": "b"}], "NextMarker": "m1"},
            {},
        )
        stub.add_response(
            "list_functions", {"Functions": [{"FunctionName": "c"}], "NextMarker": "m2"}, {"Marker": "m1"}
        )
        stub.add_response("list_functions", {"Functions": [{"FunctionName": "d"}]}, {"Marker": "m2"})

        assert list(LambdaControl(boto3_client=client).function_names()) == ["a", "b", "c", "d"]
        stub.assert_no_pending_responses()


def test_facts_reads_reservation_and_tags(aws, make_function):
    make_function("with-reservation", reserved=7, tags={"team": "data"})
    make_function("without")
    control = LambdaControl(boto3_session=aws)

    facts = control.facts("with-reservation")
    assert (facts.reserved_concurrency, facts.tags) == (7, {"team": "data"})
    assert control.facts("without").reserved_concurrency is None
    with pytest.raises(TargetNotFound, match="function 'ghost' does not exist"):
        control.facts("ghost")
    with pytest.raises(TargetNotFound, match="function 'ghost' does not exist"):
        control.set_reserved("ghost", 0)


def test_other_aws_errors_become_aws_call_failed_with_code_and_message(aws, make_function):
    make_function("locked")

    def deny(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutFunctionConcurrency"
        )

    aws.events.register("before-call.lambda.PutFunctionConcurrency", deny)
    with pytest.raises(AwsCallFailed, match=r"^AccessDeniedException: no$") as failure:
        LambdaControl(boto3_session=aws).set_reserved("locked", 0)
    assert (failure.value.code, failure.value.operation) == (
        "AccessDeniedException",
        "PutFunctionConcurrency",
    )
