"""Fixtures shared by the tooling's own tests."""

from __future__ import annotations

import pytest

from tests.integration import sample_handlers

#: The sample functions (name -> handler in `tests.integration.sample_handlers`).
SAMPLE_FUNCTIONS = {"recorder": "record", "exploder": "explode"}


@pytest.fixture
def sample_functions(aws, make_function) -> None:
    """`recorder` and `exploder` in moto (512 MB, `SAMPLE_SETTING` = their name); nothing received yet."""
    make_function("placeholder")
    client = aws.client("lambda")
    role = client.get_function(FunctionName="placeholder")["Configuration"]["Role"]
    for name, handler in SAMPLE_FUNCTIONS.items():
        client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler=f"tests.integration.sample_handlers.{handler}",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            MemorySize=512,
            Environment={"Variables": {"SAMPLE_SETTING": name}},
        )
    sample_handlers.RECEIVED.clear()


#: The key-range table's name: partitions `A` and `B`, each with sort keys `M#0000`-`M#0009` and
#: `H#0000`-`H#0009`, every item expiring at 1000 + its number (`expires_at`).
RANGE_TABLE = "range-table"


@pytest.fixture
def range_table(aws):
    """The key-range table in moto (see `RANGE_TABLE`): its client."""
    client = aws.client("dynamodb")
    client.create_table(
        TableName=RANGE_TABLE,
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
                client.put_item(TableName=RANGE_TABLE, Item=item)
    return client
