"""How the guardrail's items are written in DynamoDB: values, times, updates, failed conditions.

One codec for every adapter over the guardrail's table (the ledger, the Athena watch's counters and
baselines, the scan's watchlist) and for the tools that write the same items (`devtools.history`):
- values: plain Python values to DynamoDB's typed attributes and back (boto3's TypeSerializer and
  TypeDeserializer: numbers come back as Decimal, sets as sets);
- times: ISO text (`throttled_at`, `at`), milliseconds since the epoch for conditions that compare
  times (`throttled_ms`, `taken_ms`), seconds for DynamoDB's TTL (`expires_at`), and the hour key of
  the Athena watch's buckets and baselines (`2026-11-28T02`);
- `Update`: one UpdateItem (alone or in a transaction), every name and value a placeholder;
- `cancelled_as_failed`: a transaction that DynamoDB cancelled on a condition reads as
  `ConditionFailed`, as a single write's failed condition does (`aws_errors.translated`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from guardrail.adapters.aws_errors import ConditionFailed, error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef

#: Why DynamoDB cancels a transaction when one of its conditions did not hold.
CONDITION_CHECK_FAILED = "ConditionalCheckFailed"
_HOUR_KEY = "%Y-%m-%dT%H"
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (or key, or expression values) from plain values."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values from a DynamoDB item."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def parse_time(value: str) -> datetime:
    """An ISO time, in UTC when it names no zone."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ms(at: datetime) -> int:
    """Milliseconds since the epoch, for conditions that compare times."""
    return int(at.timestamp() * 1000)


def from_ms(value: Any) -> datetime:
    """The UTC time of a count of milliseconds since the epoch (as `ms` wrote it)."""
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def epoch(at: datetime) -> int:
    """Whole seconds since the epoch: DynamoDB's TTL attribute (`expires_at`)."""
    return int(at.timestamp())


def hour_text(at: datetime | None) -> str:
    """The hour of `at` as the Athena watch's items key it (`2026-11-28T02`); blank for None."""
    return "" if at is None else f"{at:{_HOUR_KEY}}"


def parse_hour(text: str) -> datetime:
    """The UTC hour that `hour_text` wrote."""
    return datetime.strptime(text, _HOUR_KEY).replace(tzinfo=UTC)


@contextmanager
def cancelled_as_failed(operation: str = "TransactWriteItems") -> Iterator[None]:
    """Raise ConditionFailed for a transaction cancelled by a failed condition.

    Any other error passes on unchanged (a conflict with another transaction included).
    """
    try:
        yield
    except ClientError as exc:
        reasons = {reason.get("Code") for reason in exc.response.get("CancellationReasons", [])}
        if error_code(exc) == "TransactionCanceledException" and CONDITION_CHECK_FAILED in reasons:
            raise ConditionFailed(operation) from exc
        raise


class Update:
    """One UpdateItem: SET, REMOVE, ADD, DELETE clauses and a condition, every name and value a placeholder.

    An attribute's name is `#<name>` and its value `:<name>`; a condition on a value the update also
    sets takes a value name of its own (`equals(..., placeholder=...)`).
    """

    def __init__(self) -> None:
        self._clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> Update:
        """Set the attribute to `value`."""
        self._clauses["SET"].append(f"{self.name(name)} = {self.value(name, value)}")
        return self

    def set_if_absent(self, name: str, value: Any) -> Update:
        """Set the attribute to `value` unless it has one."""
        placeholder = self.name(name)
        self._clauses["SET"].append(
            f"{placeholder} = if_not_exists({placeholder}, {self.value(name, value)})"
        )
        return self

    def add(self, name: str, value: Any) -> Update:
        """Add `value` to a number, or its members to a set."""
        self._clauses["ADD"].append(f"{self.name(name)} {self.value(name, value)}")
        return self

    def append(self, name: str, values: list[Any]) -> Update:
        """Append `values` to a list, the list created if absent."""
        placeholder = self.name(name)
        empty = self.value(f"{name}_none", [])
        self._clauses["SET"].append(
            f"{placeholder} = list_append(if_not_exists({placeholder}, {empty}), {self.value(name, values)})"
        )
        return self

    def delete(self, name: str, members: AbstractSet[Any]) -> Update:
        """Take `members` out of a set (a set left empty is removed)."""
        self._clauses["DELETE"].append(f"{self.name(name)} {self.value(name, members)}")
        return self

    def remove(self, name: str) -> Update:
        """Remove the attribute."""
        self._clauses["REMOVE"].append(self.name(name))
        return self

    def exists(self, name: str, present: bool = True) -> str:
        """A condition that the attribute is present (or absent)."""
        return f"attribute_{'' if present else 'not_'}exists({self.name(name)})"

    def equals(self, name: str, value: Any, placeholder: str | None = None) -> str:
        """A condition that the attribute holds `value` (under the value name `placeholder`, if given)."""
        return f"{self.name(name)} = {self.value(placeholder or name, value)}"

    def name(self, name: str) -> str:
        """The placeholder of an attribute's name, for a condition written by hand."""
        self._names[f"#{name}"] = name
        return f"#{name}"

    def value(self, name: str, value: Any) -> str:
        """The placeholder of a value, for a condition written by hand."""
        self._values[f":{name}"] = value
        return f":{name}"

    def build(self, table: str, key: Mapping[str, Any], condition: str | None = None) -> UpdateTypeDef:
        """The request (or a transaction's `Update`): `key` in plain values, `condition` over placeholders."""
        clauses = (f"{verb} {', '.join(parts)}" for verb, parts in self._clauses.items() if parts)
        update: UpdateTypeDef = {
            "TableName": table,
            "Key": to_item(key),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": self._names,
        }
        if self._values:
            update["ExpressionAttributeValues"] = to_item(self._values)
        if condition:
            update["ConditionExpression"] = condition
        return update
