"""The ledger's table as every part of the ledger addresses it: its client, its keys, its indexes.

A target of the guardrail's own account and region keeps the key it always had (`FUNCTION#<name>`);
a target elsewhere is keyed `FUNCTION#<account>#<region>#<name>` (names never hold `#`), so records
of many accounts spread over as many partitions as there are targets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Unpack

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.adapters.dynamodb_codec import to_item
from guardrail.domain import Target, TargetKind
from guardrail.scope import Scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: The sort key that starts every audit line's (`AUDIT#<time>#<id>`), in the partition of what it is about.
AUDIT_PREFIX = "AUDIT#"
#: The sparse index of what the ledger holds: only an item with `status` is in it, in that partition
#: (a record in progress, applied or flagged; a breaker slot; a pause), sorted by `throttled_at`.
ACTIVE_INDEX = "ActiveRecords"
ACTIVE_INDEX_PARTITION_KEY = "status"
ACTIVE_INDEX_SORT_KEY = "throttled_at"
#: The sparse index of the audit trail across targets: only audit entries carry both `kind` and `at`
#: (a record has `kind` but `throttled_at`), so `history` of a kind reads one partition, newest first.
AUDIT_INDEX = "AuditTrail"
AUDIT_INDEX_PARTITION_KEY = "kind"
AUDIT_INDEX_SORT_KEY = "at"


class TargetKeys:
    """Partition keys of targets, and targets of partition keys, as seen from the guardrail's home.

    Without a home (a reader that only knows the table), keys are read as written: a home key gives a
    target with a blank account and region.
    """

    def __init__(self, home: Scope | None = None) -> None:
        self._home = home

    def pk(self, target: Target) -> str:
        """The partition key of everything about one target."""
        kind = target.kind.value.upper()
        if self._at_home(target):
            return f"{kind}#{target.name}"
        return f"{kind}#{target.account}#{target.region}#{target.name}"

    def target(self, pk: str) -> Target:
        """The target a partition key belongs to."""
        kind, *place, name = pk.split("#")
        if len(place) == 2:
            return Target(TargetKind(kind.lower()), name, *place)
        target = Target(TargetKind(kind.lower()), name)
        return target if self._home is None else target.located(self._home.account, self._home.region)

    def _at_home(self, target: Target) -> bool:
        if not (target.account and target.region):
            return True
        home = self._home
        return home is not None and home.is_home(target.account, target.region)


class LedgerTable(AwsAdapter["DynamoDBClient"]):
    """The table and its client, built from an injected client, session or config (powertools style).

    `home` is where the guardrail runs: its targets keep their unqualified keys (see `TargetKeys`).
    Every part of the ledger reads and writes through one `LedgerTable`.
    """

    SERVICE = "dynamodb"

    def __init__(
        self, table_name: str, *, home: Scope | None = None, **clients: Unpack[ClientOptions[DynamoDBClient]]
    ) -> None:
        super().__init__(**clients)
        self.name = table_name
        self.keys = TargetKeys(home)

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client."""
        return self._client

    def active_partition(self, status: str, *, after: str | None = None) -> Iterator[dict[str, Any]]:
        """The items of one `ActiveRecords` partition (those after the time `after`), page by page.

        The index is eventually consistent: an item written a moment ago may not show yet.
        """
        condition, values = "#s = :s", {":s": status}
        if after is not None:
            condition, values = f"{condition} AND throttled_at > :after", values | {":after": after}
        with translated("Query"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self.name,
                IndexName=ACTIVE_INDEX,
                KeyConditionExpression=condition,
                ExpressionAttributeNames={"#s": ACTIVE_INDEX_PARTITION_KEY},
                ExpressionAttributeValues=to_item(values),
            )
            for page in pages:
                yield from page.get("Items", [])
