"""Makes moto's DynamoDB behave like DynamoDB under concurrency, and cost what a call touches.

Conditional writes are atomic in DynamoDB; in moto a condition is checked, then the item written,
with nothing between two threads. The guardrail's ledger relies on that atomicity (first record
wins, one restore of many), so its concurrency tests run with moto's item writes under one lock.

moto 5.2 also does two things per call that grow with the whole table, and a night's Athena replay
(one transaction and a few queries per event) slows to a crawl as the table fills:
- `TransactWriteItems` deep-copies every table it names, to be able to roll back. The speed-up checks
  every condition first (with moto's own evaluator) under a lock: when all hold, nothing will need a
  rollback and the copy is skipped; when one fails, moto's own path runs unchanged.
- `Query` on the base table sorts every item of the table, then keeps the partition's. The speed-up
  hands it the partition's items only, which is all it would keep.
The results of every call are exactly moto's; only the wasted work is saved.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_state = threading.local()
_lock = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item")
_original = DynamoDBBackend.transact_write_items
_original_query = Table.query
_original_all_items = Table.all_items


def _deepcopy(value: Any, memo: Any = None) -> Any:
    if isinstance(value, Table) and getattr(_state, "no_rollback", False):
        return value  # no condition can fail: the snapshot would never be used
    return copy.deepcopy(value, memo)


def _conditions_hold(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> bool:
    seen = set()
    for entry in transact_items:
        if len(entry) != 1:
            return False
        op_type, op = next(iter(entry.items()))
        if op_type not in {"Put", "Update", "Delete", "ConditionCheck"}:
            return False
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        identity = (op["TableName"], str(sorted(key.items())))
        if identity in seen:
            return False
        seen.add(identity)
        condition = op.get("ConditionExpression")
        if condition is None:
            continue
        current = backend.get_item(op["TableName"], key)
        expression = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if not expression.expr(current):
            return False
    return True


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with _lock:
        _state.no_rollback = _conditions_hold(self, transact_items)
        try:
            _original(self, transact_items)
        finally:
            _state.no_rollback = False


def _all_items(self: Table) -> list[Any]:
    partition = getattr(_state, "partition", None)
    if partition is not None and partition[0] is self:
        return list(self.items.get(partition[1], {}).values())
    return _original_all_items(self)


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it 8th
    if index_name or not self.range_key_attr or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    _state.partition = (self, hash_key)
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        _state.partition = None


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _lock:  # the condition check and the write, as one step
            return write(self, *args, **kwargs)

    return locked


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    if DynamoDBBackend.transact_write_items is _transact_write_items:
        return
    for name in _WRITES:
        setattr(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name)))
    setattr(dynamodb_models, "copy", types.SimpleNamespace(deepcopy=_deepcopy))  # noqa: B010 - a module global
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.query = _query  # type: ignore[method-assign]
