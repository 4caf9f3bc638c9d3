"""moto's DynamoDB for a month of events: Query reads only the keys it asks for; expired items go.

A month through the Athena watch is tens of thousands of events on one table, and two things moto
does grow with the table, not with what a call asks for:
- `Query` on the base table tests, sizes and sorts every item of the partition, then keeps those in
  the key condition's range. `range_prefiltered()` hands it the partition's items already in that
  range (tested with moto's own `DynamoType.compare`), so it does the same work on fewer items; moto
  tests them again, so the result is exactly moto's.
- moto never deletes an item whose TTL attribute has passed; DynamoDB does (typically within days).
  `expire(...)` does what DynamoDB's TTL process does, at a moment the caller chooses. The watch's
  reads name key ranges within the TTL, so expiring changes no answer; it only keeps partitions small.

Both reach into moto's internals like `devtools.moto_patches`, and are pinned the same way.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from devtools.moto_patches import check_moto_version

_state = threading.local()


@contextmanager
def range_prefiltered() -> Iterator[None]:
    """For the block, base-table Queries with a range key condition see only the items in range."""
    check_moto_version()
    from moto.dynamodb.models.table import Table  # noqa: PLC0415 - moto 5.2.5's internals (checked)

    query, all_items = Table.query, Table.all_items
    Table.query = _prefiltered_query(query)  # type: ignore[method-assign]
    Table.all_items = _candidates_first(all_items)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]


def _prefiltered_query(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def prefiltered(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it 8th
        comparison, bounds = (args[0], args[1]) if len(args) > 1 else (None, None)
        if index_name or not self.range_key_attr or hash_key is None or not comparison:
            return query(self, hash_key, *args, **kwargs)
        test = _string_test(comparison, bounds)
        partition = self.items.get(hash_key, {}).values()
        if test is None:
            _state.candidates = (self, [i for i in partition if i.range_key.compare(comparison, bounds)])
        else:
            _state.candidates = (
                self,
                [i for i in partition if i.range_key.type == "S" and test(i.range_key.value)],
            )
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _state.candidates = None

    return prefiltered


#: DynamoDB's key conditions on string keys (UTF-8 order is code point order, as Python compares).
_STRING_TESTS: dict[str, Callable[[list[str]], Callable[[str], bool]]] = {
    "EQ": lambda b: lambda v: v == b[0],
    "LT": lambda b: lambda v: v < b[0],
    "LE": lambda b: lambda v: v <= b[0],
    "GT": lambda b: lambda v: v > b[0],
    "GE": lambda b: lambda v: v >= b[0],
    "BETWEEN": lambda b: lambda v: b[0] <= v <= b[1],
    "BEGINS_WITH": lambda b: lambda v: v.startswith(b[0]),
}
_STRING_TESTS |= {"=": _STRING_TESTS["EQ"], "<": _STRING_TESTS["LT"], "<=": _STRING_TESTS["LE"]}
_STRING_TESTS |= {">": _STRING_TESTS["GT"], ">=": _STRING_TESTS["GE"]}


def _string_test(comparison: str, bounds: Any) -> Callable[[str], bool] | None:
    """A plain test of a string key against string bounds; None for anything else (moto compares)."""
    make = _STRING_TESTS.get(comparison.upper())
    if make is None or not bounds or any(bound.type != "S" for bound in bounds):
        return None
    return make([bound.value for bound in bounds])


def _candidates_first(all_items: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    @functools.wraps(all_items)
    def items(self: Any) -> list[Any]:
        candidates = getattr(_state, "candidates", None)
        if candidates is not None and candidates[0] is self:
            return list(candidates[1])
        return all_items(self)

    return items


def expire(account: str, region: str, table_name: str, attribute: str, now: datetime) -> int:
    """Delete the items whose TTL `attribute` (epoch seconds) is before `now`; return how many."""
    check_moto_version()
    from moto.dynamodb.models import dynamodb_backends  # noqa: PLC0415 - moto 5.2.5's internals (checked)

    table = dynamodb_backends[account][region].get_table(table_name)
    cutoff, expired = now.timestamp(), []
    for partition in table.items.values():
        items = partition.values() if isinstance(partition, dict) else [partition]
        for item in items:
            value = item.attrs.get(attribute)
            if value is not None and value.type == "N" and float(value.value) < cutoff:
                expired.append(item)
    for item in expired:
        table.delete_item(item.hash_key, item.range_key if table.range_key_attr is not None else None)
    return len(expired)


#: The operations the Athena watch calls; their results are DynamoDB JSON already.
_PLAIN_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems"}
)


@contextmanager
def plain_json_responses() -> Iterator[None]:
    """For the block, moto answers the watch's DynamoDB calls with `json.dumps` of its result.

    moto 5.2.5 walks the botocore output shape to serialize every response; for these operations its
    result is already the wire's DynamoDB JSON, and the walk gives the same body (the test compares).
    """
    check_moto_version()
    from moto.dynamodb.responses import DynamoResult  # noqa: PLC0415 - moto 5.2.5's internals (checked)

    original = DynamoResult.execute_result

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in _PLAIN_OPERATIONS:
            return original(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoResult.execute_result = original  # type: ignore[method-assign]
