"""The moto speed-up keeps moto's transaction semantics: all or nothing, conditions, unique keys."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.conftest import create_stateful_resources


def _update(pk: str, condition: str | None = None) -> dict:
    update = {
        "TableName": "runaway-guardrail-ledger",
        "Key": {"pk": {"S": pk}, "sk": {"S": "X"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _n(client, pk: str) -> int | None:
    item = client.get_item(TableName="runaway-guardrail-ledger", Key={"pk": {"S": pk}, "sk": {"S": "X"}})
    return int(item["Item"]["n"]["N"]) if "Item" in item else None


def test_a_failed_condition_cancels_the_whole_transaction(aws):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    client.transact_write_items(TransactItems=[_update("a"), _update("b", "attribute_not_exists(n)")])
    assert (_n(client, "a"), _n(client, "b")) == (1, 1)

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[_update("a"), _update("b", "attribute_not_exists(n)")])

    assert (_n(client, "a"), _n(client, "b")) == (1, 1)


def test_two_operations_on_one_item_are_still_refused(aws):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    with pytest.raises(ClientError, match="ValidationException"):
        client.transact_write_items(TransactItems=[_update("a"), _update("a")])
    assert _n(client, "a") is None


def test_queries_still_return_exactly_their_partitions_range(aws):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    for pk in ("a", "b"):
        for sk in ("M#1", "M#2", "M#3", "H#1"):
            client.put_item(TableName="runaway-guardrail-ledger", Item={"pk": {"S": pk}, "sk": {"S": sk}})

    page = client.query(
        TableName="runaway-guardrail-ledger",
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "b"}, ":a": {"S": "M#2"}, ":b": {"S": "M#9"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["M#3"]
    rest = client.query(
        TableName="runaway-guardrail-ledger",
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "b"}, ":a": {"S": "M#2"}, ":b": {"S": "M#9"}},
        ScanIndexForward=False,
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert [i["sk"]["S"] for i in rest["Items"]] == ["M#2"]
    assert len(client.scan(TableName="runaway-guardrail-ledger")["Items"]) == 8


def test_conditional_writes_are_atomic_across_threads(aws):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    start = threading.Barrier(8)

    def claim(i: int) -> bool:
        start.wait()
        try:
            client.put_item(
                TableName="runaway-guardrail-ledger",
                Item={"pk": {"S": "claim"}, "sk": {"S": "X"}, "by": {"N": str(i)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(claim, range(8)))
    assert won.count(True) == 1
