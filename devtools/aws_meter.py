"""Counts every AWS call the clients of a block make, and the DynamoDB units each would be billed.

`AwsMeter` is botocore's boundary, as moto's own mock is: used as a context manager it adds its
handlers to `botocore.handlers.BUILTIN_HANDLERS`, so every client created inside the block (the
deployed handler's own session included) reports each call to it, answered by moto or by another
built-in handler (a replay's GetQueryExecution). Clients created before the block are not counted.

DynamoDB's units are computed from item sizes the way on-demand DynamoDB bills them ("Item sizes and
formats", "Read/write capacity mode" in the DynamoDB Developer Guide), not taken from moto's
`ConsumedCapacity`, which does not follow the rules:
- a write (PutItem, UpdateItem, DeleteItem, each of BatchWriteItem's) costs 1 unit per KB of the
  larger of the item before and after, at least 1; a write whose condition failed still costs its
  units; in TransactWriteItems every item costs twice;
- a strongly consistent GetItem costs 1 unit per 4 KB of the item (at least 1, found or not), an
  eventually consistent one half; a Query 1 unit per 4 KB of all the items it returned together, per
  page, at least 1 (half if eventually consistent); BatchGetItem each key as a GetItem;
  TransactGetItems twice.
The item before and after a write are read through a client of our own (`peek`), outside the count.
"""

from __future__ import annotations

import base64
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import botocore.handlers

KB = 1024
READ_UNIT_BYTES = 4 * KB
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


def value_bytes(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one answer per DynamoDB type
    """The size of one DynamoDB attribute value (its AttributeValue JSON), as DynamoDB counts it."""
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return number_bytes(str(data))
    if kind == "B":
        return len(data if isinstance(data, bytes) else base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_bytes({kind[0]: member}) for member in data)
    if kind == "L":
        return 3 + sum(1 + value_bytes(member) for member in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_bytes(member) for name, member in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def number_bytes(text: str) -> int:
    """A number's size: 1 byte per two significant digits, plus 1."""
    digits = str(abs(Decimal(text)).normalize()).replace(".", "").lstrip("0") or "0"
    if "E" in digits:  # normalize() writes 1E+2 for 100: the significant digits are before the E
        digits = digits.split("E")[0]
    return math.ceil(len(digits) / 2) + 1


def item_bytes(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """The size of an item (AttributeValue JSON): its attribute names and values; 0 for no item."""
    return sum(len(name.encode()) + value_bytes(value) for name, value in (item or {}).items())


def write_units(before: int, after: int) -> int:
    """Write units of one item write: per KB of the larger of the item before and after, at least 1."""
    return max(1, math.ceil(max(before, after) / KB))


def read_units(size: int, *, consistent: bool) -> float:
    """Read units of reading `size` bytes in one request (an item, or a Query page's items together)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass
class Usage:
    """What the counted calls added up to."""

    calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    #: Thread CPU seconds the stand-in spent answering (moto) and the meter spent sizing items: time a
    #: function in AWS spends waiting on the network instead.
    stand_in_seconds: float = 0.0

    def since(self, earlier: Usage) -> Usage:
        """What was added after `earlier` (a copy taken with `snapshot`)."""
        return Usage(
            calls=self.calls - earlier.calls,
            read_units=self.read_units - earlier.read_units,
            write_units=self.write_units - earlier.write_units,
            stand_in_seconds=self.stand_in_seconds - earlier.stand_in_seconds,
        )

    def plus(self, other: Usage) -> Usage:
        """Both usages added up."""
        return Usage(
            calls=self.calls + other.calls,
            read_units=self.read_units + other.read_units,
            write_units=self.write_units + other.write_units,
            stand_in_seconds=self.stand_in_seconds + other.stand_in_seconds,
        )

    def snapshot(self) -> Usage:
        """A copy of the usage so far."""
        return Usage(Counter(self.calls), self.read_units, self.write_units, self.stand_in_seconds)


class AwsMeter:
    """Counts the calls of every client created inside its block, and DynamoDB's units.

    It also times moto's answers (its `before-send` handler, between two of ours) so that a caller can
    tell the function's own CPU time from the stand-in's.
    """

    def __init__(self, session: boto3.session.Session) -> None:
        self.usage = Usage()
        self._peek = session.client("dynamodb")  # created before the block: its reads are not counted
        self._handlers: list[tuple[str, Callable[..., None]]] = [
            ("before-parameter-build", self._before),
            ("after-call", self._after),
        ]
        self._around = [("before-send", self._sending), ("before-send", self._answered)]
        self._sent = 0.0

    def __enter__(self) -> AwsMeter:
        handlers = botocore.handlers.BUILTIN_HANDLERS
        handlers.extend(self._handlers)
        stand_in = next(
            (i for i, entry in enumerate(handlers) if type(entry[1]).__module__.startswith("moto.")), None
        )
        if stand_in is not None:  # moto's answer, between our two clocks
            handlers.insert(stand_in + 1, self._around[1])
            handlers.insert(stand_in, self._around[0])
        return self

    def __exit__(self, *_: object) -> None:
        for handler in self._handlers + self._around:  # clients created inside the block keep counting
            if handler in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(handler)

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        context["meter_params"] = params
        if model.service_model.service_name == "dynamodb":
            context["meter_before"] = self._sizes(model.name, params)

    def _sending(self, **_: Any) -> None:
        self._sent = time.thread_time()

    def _answered(self, **_: Any) -> None:
        self.usage.stand_in_seconds += time.thread_time() - self._sent

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        self.usage.calls[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            params = context.get("meter_params", {})
            self._units(operation, params, parsed, context.get("meter_before", {}))

    def _units(
        self, operation: str, params: dict[str, Any], parsed: dict[str, Any], before: dict[str, int]
    ) -> None:
        consistent = bool(params.get("ConsistentRead"))
        if operation in _WRITES or operation in ("TransactWriteItems", "BatchWriteItem"):
            after = self._sizes(operation, params)
            twice = 2 if operation == "TransactWriteItems" else 1
            self.usage.write_units += sum(
                twice * write_units(before.get(key, 0), after.get(key, 0)) for key in before.keys() | after
            )
        elif operation == "GetItem":
            self.usage.read_units += read_units(item_bytes(parsed.get("Item")), consistent=consistent)
        elif operation in ("Query", "Scan"):
            size = sum(item_bytes(item) for item in parsed.get("Items", []))
            self.usage.read_units += read_units(size, consistent=consistent)
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                names = {name for key in request["Keys"] for name in key}
                sizes = {
                    _key_text({name: item[name] for name in names if name in item}): item_bytes(item)
                    for item in parsed.get("Responses", {}).get(table, [])
                }
                for key in request["Keys"]:  # each key as a GetItem: found or not
                    size = sizes.get(_key_text(key), 0)
                    self.usage.read_units += read_units(size, consistent=bool(request.get("ConsistentRead")))
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                self.usage.read_units += 2 * read_units(item_bytes(response.get("Item")), consistent=True)

    def _sizes(self, operation: str, params: dict[str, Any]) -> dict[str, int]:
        """The current size of every item the write names, by table and key (0: absent)."""
        began = time.thread_time()
        sizes = {
            _key_text(key, table): item_bytes(
                self._peek.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            )
            for table, key in _written(operation, params)
        }
        self.usage.stand_in_seconds += time.thread_time() - began
        return sizes


def _written(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if operation in _WRITES:
        yield params["TableName"], params["Key"] if "Key" in params else _put_key(params)
    elif operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            ((_, action),) = entry.items()
            yield action["TableName"], action["Key"] if "Key" in action else _put_key(action)
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                put = request.get("PutRequest")
                yield table, request["DeleteRequest"]["Key"] if put is None else _put_key(put)


def _put_key(action: Mapping[str, Any]) -> dict[str, Any]:
    """A PutItem's key: the guardrail's table is keyed `pk` and `sk`."""
    return {name: action["Item"][name] for name in ("pk", "sk") if name in action["Item"]}


def _key_text(key: Mapping[str, Any], table: str = "") -> str:
    return table + "|" + "|".join(f"{name}={value}" for name, value in sorted(key.items()))
