"""The bench's DynamoDB aid changes no answer: expiry is DynamoDB's TTL."""

from __future__ import annotations

from datetime import UTC, datetime

from devtools.bench_table import expire
from tests.conftest import ACCOUNT, REGION
from tests.devtools.conftest import RANGE_TABLE as TABLE


def test_expiry_deletes_only_the_items_whose_ttl_has_passed(range_table):
    deleted = expire(ACCOUNT, REGION, TABLE, "expires_at", datetime.fromtimestamp(1005, tz=UTC))
    assert deleted == 2 * 2 * 5  # two scopes, two kinds, n = 0..4
    left = range_table.scan(TableName=TABLE)["Items"]
    assert len(left) == 20
    assert min(int(item["expires_at"]["N"]) for item in left) == 1005
