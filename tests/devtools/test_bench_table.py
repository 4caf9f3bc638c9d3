"""The bench's DynamoDB aids change no answer: a prefiltered Query is moto's, expiry is DynamoDB's TTL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from devtools.bench_table import expire, plain_json_responses, range_prefiltered
from tests.conftest import ACCOUNT, REGION

TABLE = "bench-table"
CONDITIONS = [
    ("pk = :pk AND sk BETWEEN :a AND :b", {":a": {"S": "M#0003"}, ":b": {"S": "M#0007"}}),
    ("pk = :pk AND begins_with(sk, :a)", {":a": {"S": "H#"}}),
    ("pk = :pk AND sk >= :a", {":a": {"S": "M#0008"}}),
    ("pk = :pk AND sk < :a", {":a": {"S": "H#0002"}}),
    ("pk = :pk AND sk = :a", {":a": {"S": "M#0005"}}),
    ("pk = :pk", {}),
]


@pytest.fixture
def table(aws):
    client = aws.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        BillingMode="PAY_PER_REQUEST",
    )
    for scope in ("A", "B"):
        for n in range(10):
            for kind in ("M", "H"):
                item = {
                    "pk": {"S": scope},
                    "sk": {"S": f"{kind}#{n:04d}"},
                    "expires_at": {"N": str(1000 + n)},
                }
                client.put_item(TableName=TABLE, Item=item)
    return client


def query(client, condition, values):
    return client.query(
        TableName=TABLE,
        KeyConditionExpression=condition,
        ExpressionAttributeValues={":pk": {"S": "A"}, **values},
    )["Items"]


@pytest.mark.parametrize(("condition", "values"), CONDITIONS)
def test_a_prefiltered_query_answers_what_moto_answers(table, condition, values):
    plain = query(table, condition, values)
    with range_prefiltered():
        assert query(table, condition, values) == plain
    assert plain  # every condition matches something


def test_expiry_deletes_only_the_items_whose_ttl_has_passed(table):
    deleted = expire(ACCOUNT, REGION, TABLE, "expires_at", datetime.fromtimestamp(1005, tz=UTC))
    assert deleted == 2 * 2 * 5  # two scopes, two kinds, n = 0..4
    left = table.scan(TableName=TABLE)["Items"]
    assert len(left) == 20
    assert min(int(item["expires_at"]["N"]) for item in left) == 1005


def calls(client, pk):
    """The calls the Athena watch makes, each answer without its request metadata."""
    key = {"pk": {"S": pk}, "sk": {"S": "X#1"}}
    one = {":one": {"N": "5"}, ":ids": {"SS": ["q1", "q2"]}}
    item = {**key, "n": {"N": "1"}, "m": {"M": {"k": {"L": [{"N": "2"}, {"BOOL": True}, {"NULL": True}]}}}}
    answers: list[object] = [
        client.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD"),
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="ADD n :one, ids :ids",
            ExpressionAttributeValues=one,
            ReturnValues="ALL_NEW",
        ),
        client.get_item(TableName=TABLE, Key=key, ConsistentRead=True),
        client.get_item(TableName=TABLE, Key={**key, "sk": {"S": "none"}}),
        client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
        ),
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        ),
        client.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD"),
    ]
    try:
        client.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_exists(pk)")
    except client.exceptions.ConditionalCheckFailedException as exc:
        answers.append(exc.response["Error"])
    for answer in answers:
        answer.pop("ResponseMetadata", None)  # type: ignore[attr-defined]
    return json.dumps(answers, default=str).replace(f'"{pk}"', '"PK"')


def test_plain_json_responses_are_what_moto_serializes(table):
    moto_answers = calls(table, "P1")
    with plain_json_responses():
        assert calls(table, "P2") == moto_answers
