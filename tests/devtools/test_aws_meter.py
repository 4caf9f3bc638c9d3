"""The AWS meter: DynamoDB's item sizes and units as DynamoDB bills them, and every call counted (moto)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from devtools.aws_meter import AwsMeter, item_bytes, number_bytes, read_units, value_bytes, write_units


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "abc"}, 3),
        ({"S": "é"}, 2),  # UTF-8 bytes
        ({"N": "7"}, 2),  # 1 byte per two significant digits, plus 1
        ({"N": "123456"}, 4),
        ({"N": "1000"}, 2),  # trailing zeros are not significant
        ({"N": "-0.0012"}, 2),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"SS": ["ab", "c"]}, 3),
        ({"NS": ["1", "22"]}, 4),
        ({"L": [{"S": "ab"}]}, 3 + 1 + 2),  # 3 bytes, plus 1 per element
        ({"M": {"k": {"S": "ab"}}}, 3 + 1 + 1 + 2),
    ],
)
def test_value_sizes_follow_dynamodb_rules(value, size):
    assert value_bytes(value) == size


def test_an_item_is_its_names_and_values():
    assert item_bytes({"pk": {"S": "q"}, "queries": {"N": "12"}}) == 2 + 1 + 7 + 2
    assert item_bytes(None) == 0
    assert number_bytes("99") == 2


def test_units_round_up_per_kb_written_and_per_4_kb_read():
    assert write_units(0, 10) == 1
    assert write_units(1025, 10) == 2  # the larger of before and after
    assert read_units(0, consistent=True) == 1.0  # nothing found still costs the minimum
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(4096, consistent=False) == 0.5


def _table(aws: boto3.session.Session) -> None:
    aws.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _key(sk: str) -> dict:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def test_every_call_of_a_client_made_in_the_block_is_counted_with_its_units(aws):
    _table(aws)
    before = aws.client("dynamodb")  # made before the block: not counted
    with AwsMeter(aws) as meter:
        client = boto3.session.Session(region_name=aws.region_name).client("dynamodb")
        client.put_item(TableName="t", Item=_key("a") | {"blob": {"S": "x" * 1500}})  # 2 KB
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": _key(k),
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
                for k in ("b", "c")
            ]
        )
        with pytest.raises(ClientError):
            client.update_item(
                TableName="t",
                Key=_key("b"),
                UpdateExpression="SET m = :v",
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeValues={":v": {"N": "1"}},
            )
        client.get_item(TableName="t", Key=_key("a"), ConsistentRead=True)
        client.get_item(TableName="t", Key=_key("nothing"))
        client.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ConsistentRead=True,
        )
        client.batch_get_item(
            RequestItems={"t": {"Keys": [_key("b"), _key("nothing")], "ConsistentRead": True}}
        )
    before.put_item(TableName="t", Item=_key("z"))

    usage = meter.usage
    assert usage.calls == {
        "dynamodb:PutItem": 1,
        "dynamodb:TransactWriteItems": 1,
        "dynamodb:UpdateItem": 1,
        "dynamodb:GetItem": 2,
        "dynamodb:Query": 1,
        "dynamodb:BatchGetItem": 1,
    }
    # put 2 KB: 2; transaction of two small items: 2 x 2; a failed condition still costs its item: 1
    assert usage.write_units == 2 + 4 + 1
    # 2 KB consistent: 1; nothing, eventually consistent: 0.5; ~1.6 KB in one Query page: 1; two keys: 2
    assert usage.read_units == 1 + 0.5 + 1 + 2
