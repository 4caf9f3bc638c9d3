"""Makes moto's DynamoDB behave like DynamoDB under concurrency, and cost what a call touches.

Conditional writes are atomic in DynamoDB; in moto a condition is checked, then the item written,
with nothing between two threads. The guardrail's ledger relies on that atomicity (first record
wins, one restore of many), so its concurrency tests run with moto's item writes (and the reads that
iterate what they change) under one lock.

moto also does two things per call that grow with the whole table, and a night's Athena replay
(one transaction and a few queries per event) slows to a crawl as the table fills:
- `TransactWriteItems` deep-copies every table it names, to be able to roll back. The patch keeps,
  instead, a copy of each item the transaction names (the only items it can write), taken under the
  lock before moto runs it; on any failure (a condition, a type mismatch in an update, an invalid
  expression, two operations on one item) those items are put back as they were, so the transaction
  is all or nothing whichever operation fails.
- `Query` on the base table tests, sizes and sorts every item of the table, then keeps those of the
  partition in the key condition's range. The patch hands it the partition's items in that range
  (tested with moto's own `DynamoType.compare`, or as plain strings for string keys and bounds), and
  the item next to the range on either side, which is where moto's page stops at a `Limit`; moto
  tests them all again.
- moto parses an update expression twice per update (to check its names, then to apply it); the
  patch parses each distinct expression once (its names and values are placeholders, so a table's
  updates have few), and moto's validator works on a deep copy of the tree, as it always did.
- moto checks an update expression's clause counts and overlapping paths on every node of its tree
  that is an update expression (each clause and action list is), each check collecting its subtree:
  quadratic in the actions. The patch runs both checks once, on the whole expression, which holds
  every path and clause of the subtrees: a valid expression passes, an invalid one fails with the same
  error (where it has two overlaps, the message may name the other one: moto names the first it finds
  in the innermost subtree, the patch the first in the whole expression).
- moto walks the botocore output shape to serialize every response; for the item reads and writes
  (`_PLAIN_OPERATIONS`) its result is already the wire's DynamoDB JSON, which the patch writes as is.
The results of every call are exactly moto's; only the wasted work is saved.

One more gap, outside DynamoDB: moto's STS lets anyone assume a role that does not exist (its doc
says so), so an account whose member role was deleted would still be reachable. The patch refuses
`AssumeRole` of a role that is not in its account, with AWS's `AccessDenied`.

The patches reach into moto's internals, so they are pinned to the moto version they were written
for: `install()` on any other version fails and names both. `uninstall()` puts moto's originals back;
`patched()` scopes them to a block (a test, the stand-in's run).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import moto

#: The moto release whose DynamoDB internals these patches were written against.
EXPECTED_MOTO_VERSION = "5.2.5"

_state = threading.local()
_lock = threading.RLock()
_MISSING = object()
#: Item writes, and the reads that iterate what a write changes (a `get_item` beside a write in another
#: thread failed once with moto's "dictionary changed size during iteration"): each one step under the lock.
_LOCKED = ("put_item", "update_item", "delete_item", "get_item", "batch_get_item", "query", "scan")
#: The DynamoDB operations whose results moto holds as DynamoDB JSON already (written as is).
_PLAIN_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "TransactWriteItems", "BatchGetItem"}
)


class MotoVersionError(RuntimeError):
    """The installed moto is not the version the patches were written for."""


@dataclass(frozen=True)
class _Replaced:
    """One attribute the patches replaced, and what was there before (`_MISSING`: inherited)."""

    owner: Any
    name: str
    original: Any


_installed: list[_Replaced] = []


def check_moto_version() -> None:
    """Fail, naming both versions, unless moto is the version the patches were written for."""
    found = getattr(moto, "__version__", "unknown")
    if found != EXPECTED_MOTO_VERSION:
        raise MotoVersionError(
            f"devtools.moto_patches reaches into moto {EXPECTED_MOTO_VERSION}'s DynamoDB internals, but "
            f"moto {found} is installed: pin moto=={EXPECTED_MOTO_VERSION} (requirements-dev.txt) or "
            "port the patches to the new version and move EXPECTED_MOTO_VERSION"
        )


def is_installed() -> bool:
    """Whether the patches are in place in this process."""
    return bool(_installed)


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent); fail on another moto version."""
    with _lock:
        if _installed:
            return
        check_moto_version()
        # moto 5.2.5's internals (checked above)
        from moto.dynamodb import models as dynamodb_models  # noqa: PLC0415
        from moto.dynamodb.models import DynamoDBBackend  # noqa: PLC0415
        from moto.dynamodb.models.table import Table  # noqa: PLC0415
        from moto.dynamodb.parsing import expressions, validators  # noqa: PLC0415
        from moto.dynamodb.responses import DynamoResult  # noqa: PLC0415

        replacements: list[tuple[Any, str, Any]] = [
            (DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name))) for name in _LOCKED
        ]
        from moto.sts.models import STSBackend  # noqa: PLC0415

        replacements += [
            (STSBackend, "assume_role", _existing_role_only(STSBackend.assume_role)),
            (DynamoDBBackend, "transact_write_items", _undo_logged(DynamoDBBackend.transact_write_items)),
            (dynamodb_models, "copy", types.SimpleNamespace(deepcopy=_deepcopy_except(Table))),
            (Table, "all_items", _candidates_first(Table.all_items)),
            (Table, "query", _key_condition_first(Table.query)),
            (DynamoResult, "execute_result", _plain_json(DynamoResult.execute_result)),
            (parser := expressions.UpdateExpressionParser, "make", _parsed_once(parser)),  # type: ignore[attr-defined]
            (counts := validators.ActionCountValidator, "traverse", _whole(counts.verify_action_counts)),
            (
                paths := validators.OverlappingPathsValidator,
                "traverse",
                _whole(paths.check_for_overlapping_paths),
            ),
        ]
        for owner, name, replacement in replacements:
            _installed.append(_Replaced(owner, name, vars(owner).get(name, _MISSING)))
            setattr(owner, name, replacement)


def uninstall() -> None:
    """Put moto's originals back (idempotent)."""
    with _lock:
        while _installed:
            replaced = _installed.pop()
            if replaced.original is _MISSING:
                delattr(replaced.owner, replaced.name)
            else:
                setattr(replaced.owner, replaced.name, replaced.original)


@contextmanager
def patched() -> Iterator[None]:
    """The patches for the duration of the block (left in place if they were there before it)."""
    owned = not is_installed()
    install()
    try:
        yield
    finally:
        if owned:
            uninstall()


def _existing_role_only(assume_role: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(assume_role)
    def assume_existing(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.iam.models import iam_backends  # noqa: PLC0415
        from moto.sts.exceptions import STSClientError  # noqa: PLC0415

        role_arn = str(kwargs.get("role_arn", args[2] if len(args) > 2 else ""))
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
        partition = role_arn.split(":")[1] if account else "aws"
        try:
            iam_backends[account][partition].get_role_by_arn(role_arn)
        except Exception:
            raise STSClientError(
                "AccessDenied", f"Not authorized to perform sts:AssumeRole on {role_arn}"
            ) from None
        return assume_role(self, *args, **kwargs)

    return assume_existing


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:  # the condition check and the write, as one step
            return write(self, *args, **kwargs)

    return locked


def _undo_logged(transact: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            before = _items_before(self, transact_items)
            _state.tables_not_copied = True
            try:
                transact(self, transact_items)
            except Exception:
                _put_back(self, before)
                raise
            finally:
                _state.tables_not_copied = False

    return transact_write_items


def _items_before(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of every item the transaction can write, by table and key (attributes None: no item)."""
    before: dict[str, Any] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            target = _target(backend, op_type, op)
            if target is not None:
                table_name, key, item = target
                attributes = None if item is None else copy.deepcopy(item.to_json()["Attributes"])
                before.setdefault(f"{table_name}\0{sorted(key.items())}", (table_name, key, attributes))
    return before


def _target(backend: Any, op_type: str, op: dict[str, Any]) -> tuple[str, dict[str, Any], Any] | None:
    """The table, key and current item an operation names; None when moto fails it before it writes."""
    try:
        table_name = op["TableName"]
        if op_type == "Put":
            table = backend.get_table(table_name)
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        return table_name, key, backend.get_item(table_name, key)
    except Exception:  # moto reads the same table, key and item before each write, and fails there too
        return None


def _put_back(backend: Any, before: dict[str, Any]) -> None:
    for table_name, key, attributes in before.values():
        if attributes is None:
            backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, attributes)


def _deepcopy_except(table_class: type) -> Callable[..., Any]:
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if isinstance(value, table_class) and getattr(_state, "tables_not_copied", False):
            return value  # the transaction's items are copied instead (`_items_before`)
        return copy.deepcopy(value, memo)

    return deepcopy


def _candidates_first(all_items: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    @functools.wraps(all_items)
    def candidate_items(self: Any) -> list[Any]:
        candidates = getattr(_state, "candidates", None)
        if candidates is not None and candidates[0] is self:
            return list(candidates[1])
        return all_items(self)

    return candidate_items


def _key_condition_first(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def key_condition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it 8th
        if index_name or not self.range_key_attr or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        comparison, bounds = (args[0], args[1]) if len(args) > 1 else (None, None)
        partition = list(self.items.get(hash_key, {}).values())
        _state.candidates = (self, _in_range(partition, comparison, bounds) if comparison else partition)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _state.candidates = None

    return key_condition_query


def _in_range(partition: list[Any], comparison: str, bounds: Any) -> list[Any]:
    """The partition's items whose range key meets the condition, and the nearest item beyond each end.

    Every key condition is one interval of the sort order, so the items outside it are all below or
    all above; moto reaches the nearest one after the last item in range, and stops its page there
    when the page is full (then naming a LastEvaluatedKey).
    """
    test = _string_test(comparison, bounds)
    inside: list[Any] = []
    outside: list[Any] = []
    for item in partition:
        if (
            test(item.range_key.value)
            if test and item.range_key.type == "S"
            else item.range_key.compare(comparison, bounds)
        ):
            inside.append(item)
        else:
            outside.append(item)
    if not inside:
        return inside
    # a table's sort keys all have its one type: string keys compare as plain strings (moto's own
    # comparison of its typed values is what made a busy partition's query slow)
    order = _plain_key if all(item.range_key.type == "S" for item in partition) else _typed_key
    low, high = min(map(order, inside)), max(map(order, inside))
    below = [item for item in outside if order(item) < low]
    above = [item for item in outside if high < order(item)]
    neighbours = [max(below, key=order)] if below else []
    neighbours += [min(above, key=order)] if above else []
    return inside + neighbours


def _plain_key(item: Any) -> Any:
    return item.range_key.value


def _typed_key(item: Any) -> Any:
    return item.range_key


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


def _plain_json(execute_result: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(execute_result)
    def plain_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in _PLAIN_OPERATIONS:
            return execute_result(self, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(self.result)

    return plain_result


def _parsed_once(parser: Any) -> classmethod[Any, ..., Any]:
    make = functools.lru_cache(maxsize=1024)(parser.make)  # the class's bound `make`, one tree a text
    return classmethod(lambda _cls, expression: make(expression))


def _whole(check: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A validator's traversal that runs its check once, on the root: the whole update expression."""

    def traverse(self: Any, node: Any) -> Any:
        return check(self, node)

    return traverse
