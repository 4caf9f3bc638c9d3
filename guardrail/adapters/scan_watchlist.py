"""DynamoDB store of the functions the invocation scan watches by name, in the guardrail's table.

One item per clock hour and place: `SCAN#WATCH#<key>` / `WATCH`, holding `functions` (a string set,
grown with an atomic ADD, so concurrent scans never lose a name) and `expires_at` (its TTL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.adapters.dynamodb_codec import Update, epoch, from_item, to_item
from guardrail.adapters.permissions import Grant, Resource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WATCH_SK = "WATCH"


class ScanWatchlist(AwsAdapter["DynamoDBClient"]):
    """Adapter that keeps, per key, the set of function names the scan reads by name."""

    SERVICE = "dynamodb"
    #: The ledger's own actions: every function may call them on the table.
    PERMISSIONS = (Grant(Resource.LEDGER, ("dynamodb:GetItem", "dynamodb:UpdateItem")),)

    def __init__(self, table_name: str, **clients: Unpack[ClientOptions[DynamoDBClient]]) -> None:
        super().__init__(**clients)
        self._table = table_name

    @translated("GetItem")
    def watched(self, key: str) -> set[str]:
        """The names watched under `key` (none when nothing was added, or the item expired)."""
        item = self._client.get_item(TableName=self._table, Key=to_item(_key(key)), ConsistentRead=True).get(
            "Item"
        )
        return set(from_item(item).get("functions", ())) if item else set()

    @translated("UpdateItem")
    def watch(self, key: str, names: Iterable[str], *, now: datetime, ttl_seconds: int) -> None:
        """Add `names` to the set under `key`, which expires `ttl_seconds` after `now`."""
        members = set(names)
        if not members:
            return
        update = Update().add("functions", members).set("expires_at", epoch(now) + ttl_seconds)
        self._client.update_item(**update.build(self._table, _key(key)))


def _key(key: str) -> dict[str, str]:
    return {"pk": f"SCAN#WATCH#{key}", "sk": WATCH_SK}
