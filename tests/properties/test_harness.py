"""The property's own checks catch what they are meant to catch (else a passing run proves nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from hypothesis import strategies as st

from devtools.lambda_runtime import lambda_context
from tests.properties.harness import expect, survives

CONTEXT = lambda_context("any")


def test_a_changed_reservation_fails_the_check_and_the_world_is_put_back(world):
    def throttles(event, context):
        world.session.client("lambda").put_function_concurrency(
            FunctionName="nightly-batch", ReservedConcurrentExecutions=0
        )
        return {"ok": True}

    with pytest.raises(AssertionError, match="changed a function or the ledger"):
        world.check(throttles, CONTEXT, {})
    assert world.snapshot()["concurrency"]["nightly-batch"] == 7


def test_a_throttle_record_fails_the_check(world):
    def records(event, context):
        item = {"pk": {"S": "FUNCTION#ghost-batch"}, "sk": {"S": "THROTTLE"}, "status": {"S": "throttled"}}
        world.session.client("dynamodb").put_item(TableName=world.table, Item=item)
        return {"ok": True}

    with pytest.raises(AssertionError, match="changed a function or the ledger"):
        world.check(records, CONTEXT, {})
    assert world.snapshot()["throttle_records"] == []


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (["ok"], AssertionError),
        ({"at": datetime(2026, 11, 28, tzinfo=UTC)}, TypeError),
        ({"x": float("nan")}, ValueError),
    ],
)
def test_an_answer_lambda_cannot_serialise_fails_the_check(world, answer, error):
    with pytest.raises(error):
        world.check(lambda event, context: answer, CONTEXT, {})


def test_lambda_refuses_a_malformed_function_name_as_aws_does(world):
    client = world.session.client("lambda")

    with pytest.raises(ClientError, match="ValidationException"):
        client.get_function(FunctionName="bad name!")
    assert (
        client.get_function(FunctionName="nightly-batch")["Configuration"]["FunctionName"] == "nightly-batch"
    )


def test_a_run_whose_answers_never_reach_the_named_results_fails(world):
    def refuses(event, context):
        return {"ok": False, "error": "refused", "results": [{"result": "not-found"}]}

    cases = expect("any integer", st.integers())
    with pytest.raises(AssertionError, match=r"results reached: \['not-found'\]"):
        survives(world, refuses, CONTEXT, cases, reaches=frozenset({"throttled"}))
