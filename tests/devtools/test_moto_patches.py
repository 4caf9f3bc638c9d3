"""The moto patches: moto's transaction semantics kept (all or nothing, whichever operation fails),
atomic conditional writes, exact query results and response bodies; pinned to one moto version;
removable."""

from __future__ import annotations

import copy
import json
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
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.dynamodb.responses import DynamoResult

from devtools import moto_patches
from tests.conftest import create_stateful_resources
from tests.devtools.conftest import RANGE_TABLE

TABLE = "runaway-guardrail-ledger"
PATCHED = [(DynamoDBBackend, name) for name in ("put_item", "update_item", "delete_item")] + [
    (DynamoDBBackend, "transact_write_items"),
    (dynamodb_models, "copy"),
    (Table, "all_items"),
    (Table, "query"),
    (DynamoResult, "execute_result"),  # inherited: the patch is DynamoDB's own
    (UpdateExpressionParser, "make"),
]
MISSING = object()


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


#: Update expressions DynamoDB refuses: two clauses of a kind, one path twice, overlapping paths.
INVALID_UPDATES = [
    ("ADD a :one ADD b :one", {}),
    ("SET a = :one, b = :one, a = :one", {}),
    ("SET a = :one REMOVE a", {}),
    ("SET m.x = :one, m = :one", {}),
    ("SET #a = :one, a = :one ADD #a :one", {"#a": "a"}),
]


@pytest.mark.parametrize(("expression", "names"), INVALID_UPDATES)
def test_an_invalid_update_expression_is_refused_as_moto_refuses_it(aws, expression, names):
    """The patched validators check the whole expression once: the same error, and nothing written."""
    create_stateful_resources(aws)
    client = aws.client("dynamodb")
    request = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "a"}, "sk": {"S": "X"}},
        "UpdateExpression": expression,
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        **({"ExpressionAttributeNames": names} if names else {}),
    }
    with pytest.raises(ClientError) as moto_refused:
        client.update_item(**request)
    with moto_patches.patched(), pytest.raises(ClientError) as refused:
        client.update_item(**request)
    assert refused.value.response["Error"] == moto_refused.value.response["Error"]
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


def _pages(client, condition, values, **options):
    """Every page of the query, each as its items' sort keys and its LastEvaluatedKey."""
    pages, start = [], {}
    while True:
        page = client.query(
            TableName=RANGE_TABLE,
            KeyConditionExpression=condition,
            ExpressionAttributeValues={":pk": {"S": "A"}, **values},
            **options,
            **start,
        )
        pages.append(([item["sk"]["S"] for item in page["Items"]], page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page:
            return pages
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


#: Key conditions of every kind, on a partition with items below, inside and above each range.
CONDITIONS = [
    ("pk = :pk AND sk BETWEEN :a AND :b", {":a": {"S": "M#0003"}, ":b": {"S": "M#0007"}}),
    ("pk = :pk AND begins_with(sk, :a)", {":a": {"S": "H#"}}),
    ("pk = :pk AND sk >= :a", {":a": {"S": "M#0008"}}),
    ("pk = :pk AND sk > :a", {":a": {"S": "H#0008"}}),
    ("pk = :pk AND sk < :a", {":a": {"S": "H#0002"}}),
    ("pk = :pk AND sk <= :a", {":a": {"S": "H#0002"}}),
    ("pk = :pk AND sk = :a", {":a": {"S": "M#0005"}}),
    ("pk = :pk", {}),
]


@pytest.mark.parametrize(("condition", "values"), CONDITIONS)
@pytest.mark.parametrize(
    "options",
    [{}, {"ScanIndexForward": False}, {"Limit": 1}, {"Limit": 2, "ScanIndexForward": False}, {"Limit": 5}],
    ids=["all", "backwards", "limit 1", "limit 2 backwards", "limit 5"],
)
def test_a_query_reads_the_pages_moto_reads(range_table, condition, values, options):
    plain = _pages(range_table, condition, values, **options)
    with moto_patches.patched():
        assert _pages(range_table, condition, values, **options) == plain
    assert any(items for items, _ in plain)  # every condition matches something


def _calls(client, pk):
    """The item reads and writes the guardrail makes, each answer without its request metadata."""
    key = {"pk": {"S": pk}, "sk": {"S": "X#1"}}
    one = {":one": {"N": "5"}, ":ids": {"SS": ["q1", "q2"]}}
    item = {**key, "n": {"N": "1"}, "m": {"M": {"k": {"L": [{"N": "2"}, {"BOOL": True}, {"NULL": True}]}}}}
    answers: list[object] = [
        client.put_item(TableName=RANGE_TABLE, Item=item, ReturnValues="ALL_OLD"),
        client.update_item(
            TableName=RANGE_TABLE,
            Key=key,
            UpdateExpression="ADD n :one, ids :ids",
            ExpressionAttributeValues=one,
            ReturnValues="ALL_NEW",
        ),
        client.update_item(  # the same expression again (parsed once), other values
            TableName=RANGE_TABLE,
            Key=key,
            UpdateExpression="ADD n :one, ids :ids",
            ExpressionAttributeValues={":one": {"N": "-4"}, ":ids": {"SS": ["q3"]}},
            ReturnValues="UPDATED_NEW",
        ),
        client.get_item(TableName=RANGE_TABLE, Key=key, ConsistentRead=True),
        client.get_item(TableName=RANGE_TABLE, Key={**key, "sk": {"S": "none"}}),
        client.batch_get_item(RequestItems={RANGE_TABLE: {"Keys": [key, {**key, "sk": {"S": "none"}}]}}),
        client.query(
            TableName=RANGE_TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": pk}},
        ),
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": RANGE_TABLE,
                        "Key": key,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        ),
        client.delete_item(TableName=RANGE_TABLE, Key=key, ReturnValues="ALL_OLD"),
    ]
    try:
        client.put_item(TableName=RANGE_TABLE, Item=item, ConditionExpression="attribute_exists(pk)")
    except client.exceptions.ConditionalCheckFailedException as exc:
        answers.append(exc.response["Error"])
    for answer in answers:
        answer.pop("ResponseMetadata", None)  # type: ignore[attr-defined]
    return json.loads(json.dumps(answers, default=str).replace(f'"{pk}"', '"PK"'))  # keys in any order


def test_plain_json_responses_are_what_moto_serializes(range_table):
    moto_answers = _calls(range_table, "P1")
    with moto_patches.patched():
        assert _calls(range_table, "P2") == moto_answers
    assert moto_answers[3]["Item"]["n"] == {"N": "2"}  # the answers are the items written
    assert moto_answers[3]["Item"]["ids"] == {"SS": ["q1", "q2", "q3"]}
    assert moto_answers[5]["Responses"][RANGE_TABLE] == [moto_answers[3]["Item"]]


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
    originals = {(owner, name): vars(owner).get(name, MISSING) for owner, name in PATCHED}
    assert not moto_patches.is_installed()

    moto_patches.install()
    moto_patches.install()  # idempotent
    try:
        assert all(vars(owner)[name] is not originals[owner, name] for owner, name in PATCHED)
    finally:
        moto_patches.uninstall()

    assert all(vars(owner).get(name, MISSING) is originals[owner, name] for owner, name in PATCHED)
    assert "execute_result" not in vars(DynamoResult)  # inherited again, not left as an attribute
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
