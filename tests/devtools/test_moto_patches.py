"""The moto patches: moto's transaction semantics kept (all or nothing, whichever operation fails),
atomic conditional writes, exact query results; pinned to one moto version; removable."""

from __future__ import annotations

import copy
import re
import threading
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import moto
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from devtools import moto_patches
from tests.conftest import create_stateful_resources

TABLE = "runaway-guardrail-ledger"
PATCHED = [(DynamoDBBackend, name) for name in ("put_item", "update_item", "delete_item")] + [
    (DynamoDBBackend, "transact_write_items"),
    (dynamodb_models, "copy"),
    (Table, "all_items"),
    (Table, "query"),
]


def _update(pk: str, condition: str | None = None, expression: str = "ADD n :one", **extra) -> dict:
    update = {
        "TableName": TABLE,
        "Key": {"pk": {"S": pk}, "sk": {"S": "X"}},
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        **extra,
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _n(client, pk: str) -> int | None:
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": "X"}})
    return int(item["Item"]["n"]["N"]) if "Item" in item else None


def test_a_failed_condition_cancels_the_whole_transaction(aws, moto_patches):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    client.transact_write_items(TransactItems=[_update("a"), _update("b", "attribute_not_exists(n)")])
    assert (_n(client, "a"), _n(client, "b")) == (1, 1)

    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(TransactItems=[_update("a"), _update("b", "attribute_not_exists(n)")])

    assert (_n(client, "a"), _n(client, "b")) == (1, 1)


def test_two_operations_on_one_item_are_still_refused(aws, moto_patches):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    with pytest.raises(ClientError, match="ValidationException"):
        client.transact_write_items(TransactItems=[_update("a"), _update("a")])
    assert _n(client, "a") is None


def test_queries_still_return_exactly_their_partitions_range(aws, moto_patches):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    for pk in ("a", "b"):
        for sk in ("M#1", "M#2", "M#3", "H#1"):
            client.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}})

    page = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "b"}, ":a": {"S": "M#2"}, ":b": {"S": "M#9"}},
        ScanIndexForward=False,
        Limit=1,
    )
    assert [i["sk"]["S"] for i in page["Items"]] == ["M#3"]
    rest = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
        ExpressionAttributeValues={":pk": {"S": "b"}, ":a": {"S": "M#2"}, ":b": {"S": "M#9"}},
        ScanIndexForward=False,
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert [i["sk"]["S"] for i in rest["Items"]] == ["M#2"]
    assert len(client.scan(TableName=TABLE)["Items"]) == 8


def test_conditional_writes_are_atomic_across_threads(aws, moto_patches):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    start = threading.Barrier(8)

    def claim(i: int) -> bool:
        start.wait()
        try:
            client.put_item(
                TableName=TABLE,
                Item={"pk": {"S": "claim"}, "sk": {"S": "X"}, "by": {"N": str(i)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(claim, range(8)))
    assert won.count(True) == 1


def _no_table_copies(value, memo=None):
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


#: Operations that fail for a reason other than a condition, after earlier ones were written.
FAILING = {
    "operand of the wrong type": _update("text", expression="ADD n :one"),
    "undefined expression value": _update("text", expression="SET n = :two"),
    "update of a key attribute": _update("text", expression="SET sk = :one"),
    "undefined attribute name": _update("text", expression="SET #gone = :one"),
}


@pytest.mark.parametrize("failing", FAILING.values(), ids=FAILING)
def test_a_non_condition_failure_after_the_conditions_held_writes_nothing(aws, monkeypatch, failing):
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    client.put_item(TableName=TABLE, Item={"pk": {"S": "text"}, "sk": {"S": "X"}, "n": {"S": "seven"}})
    client.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}, "sk": {"S": "X"}, "n": {"N": "5"}})
    items = [_update("new", "attribute_not_exists(n)"), _update("kept", "n = :five"), failing]
    for item in items[:2]:
        item["Update"]["ExpressionAttributeValues"][":five"] = {"N": "5"}

    def attempt() -> str:
        with pytest.raises(ClientError) as failed:
            client.transact_write_items(TransactItems=items)
        return failed.value.response["Error"]["Code"]

    moto_code = attempt()  # moto's own path: the table snapshot taken, everything rolled back
    assert (_n(client, "new"), _n(client, "kept")) == (None, 5)
    # the hole: every condition held, so the old fast path skipped moto's table snapshot, and
    # moto's rollback put back the very table it had written to
    with monkeypatch.context() as old_fast_path:
        old_fast_path.setattr(dynamodb_models, "copy", types.SimpleNamespace(deepcopy=_no_table_copies))
        attempt()
    assert (_n(client, "new"), _n(client, "kept")) == (1, 6)
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "new"}, "sk": {"S": "X"}})
    client.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}, "sk": {"S": "X"}, "n": {"N": "5"}})

    with moto_patches.patched():
        assert attempt() == moto_code

    assert (_n(client, "new"), _n(client, "kept")) == (None, 5)
    assert len(client.scan(TableName=TABLE)["Items"]) == 2


def test_uninstall_restores_motos_originals():
    originals = {(owner, name): vars(owner)[name] for owner, name in PATCHED}
    assert not moto_patches.is_installed()

    moto_patches.install()
    moto_patches.install()  # idempotent
    try:
        assert all(vars(owner)[name] is not originals[owner, name] for owner, name in PATCHED)
    finally:
        moto_patches.uninstall()

    assert all(vars(owner)[name] is originals[owner, name] for owner, name in PATCHED)
    assert not moto_patches.is_installed()


def test_a_scoped_install_leaves_patches_it_did_not_install():
    moto_patches.install()
    try:
        with moto_patches.patched():
            pass
        assert moto_patches.is_installed()
    finally:
        moto_patches.uninstall()
    with moto_patches.patched():
        assert moto_patches.is_installed()
    assert not moto_patches.is_installed()


def test_another_moto_version_fails_at_install_naming_both(monkeypatch):
    original = vars(DynamoDBBackend)["transact_write_items"]
    monkeypatch.setattr(moto, "__version__", "5.3.0")

    with pytest.raises(moto_patches.MotoVersionError, match=r"moto 5\.2\.5.*moto 5\.3\.0 is installed"):
        moto_patches.install()

    assert not moto_patches.is_installed()
    assert vars(DynamoDBBackend)["transact_write_items"] is original


def test_the_project_pins_the_moto_the_patches_expect():
    requirements = (Path(__file__).resolve().parents[2] / "requirements-dev.txt").read_text()
    [pinned] = re.findall(r"^moto\[server\]==(\S+)$", requirements, flags=re.MULTILINE)
    assert pinned == moto_patches.EXPECTED_MOTO_VERSION
