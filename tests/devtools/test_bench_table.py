"""The bench's DynamoDB aid changes no answer: expiry is DynamoDB's TTL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.bench_table import expire
from tests.conftest import ACCOUNT, REGION

TABLE = "bench-table"


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


def test_expiry_deletes_only_the_items_whose_ttl_has_passed(table):
    deleted = expire(ACCOUNT, REGION, TABLE, "expires_at", datetime.fromtimestamp(1005, tz=UTC))
    assert deleted == 2 * 2 * 5  # two scopes, two kinds, n = 0..4
    left = table.scan(TableName=TABLE)["Items"]
    assert len(left) == 20
    assert min(int(item["expires_at"]["N"]) for item in left) == 1005
