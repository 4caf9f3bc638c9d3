"""The ledger's audit trail: one line per action, in the partition of what it is about, never overwritten.

- `<KIND>#<name>` / `AUDIT#<time>#<id>`: `kind`, `name`, `action`, `result`, `at`, and `detector`,
  `reason`, `detail` where they are not blank. `kind` and `at` put the line in the sparse index
  `AuditTrail` (only audit lines carry both), which `history` of every target reads newest first.
  An account's pauses write their lines the same way, in `PAUSE#<account>` (see `pauses`).

Read by key: a target's trail is a Query on its partition; the trail of every target of a kind is a
Query on the index. Never Scan.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.dynamodb_codec import cancelled_as_failed, from_item, parse_time, to_item
from guardrail.adapters.ledger.table import (
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
    AUDIT_PREFIX,
    LedgerTable,
    TargetKeys,
)
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import AuditEntry, Target, TargetKind

_PAGE = 100


class AuditTrail:
    """Appends audit lines (alone, or as a transaction's `Put`) and reads them back by Query."""

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(Resource.LEDGER, ("dynamodb:PutItem", "dynamodb:Query")),
    )
    #: `history` of every target reads the `AuditTrail` index: granted to the kill switch alone.
    HISTORY_PERMISSIONS: ClassVar[tuple[Grant, ...]] = (Grant(Resource.AUDIT_INDEX, ("dynamodb:Query",)),)

    def __init__(self, table: LedgerTable) -> None:
        self._table = table

    def append(self, entry: AuditEntry) -> None:
        """Add one entry to the audit trail."""
        with translated("PutItem"):
            self._table.client.put_item(**self.put(entry))

    def put(self, entry: AuditEntry) -> dict[str, Any]:
        """The `Put` of one entry's line (a transaction writes it with the change it audits)."""
        return self.line(self._table.keys.pk(entry.target), entry.at, _values(entry))

    def line(self, pk: str, at: datetime, values: Mapping[str, Any]) -> dict[str, Any]:
        """The `Put` of a line at `at` in the partition `pk`: `values` are its attributes but keys and `at`.

        A random suffix of its sort key keeps two lines of the same instant apart.
        """
        item = {"pk": pk, "sk": f"{AUDIT_PREFIX}{at.isoformat()}#{uuid.uuid4().hex[:12]}", **values}
        return {"TableName": self._table.name, "Item": to_item(item | {"at": at.isoformat()})}

    def together(self, verb: str, change: Mapping[str, Any], line: Mapping[str, Any]) -> bool:
        """Write `change` and its audit `line` in one transaction; False when the change's condition failed.

        `verb` is the change's kind in the transaction (`Put`, `Update`, `Delete`); `line` is a `Put`
        (`put`, `line`). The trail never misses a change, nor holds one that did not happen.
        """
        items: list[Any] = [{verb: change}, {"Put": line}]
        try:
            with translated("TransactWriteItems"), cancelled_as_failed():
                self._table.client.transact_write_items(TransactItems=items)
        except ConditionFailed:
            return False
        return True

    def trail(self, target: Target) -> list[AuditEntry]:
        """The target's audit entries, oldest first."""
        keys = self._table.keys
        with translated("Query"):
            pages = self._table.client.get_paginator("query").paginate(
                TableName=self._table.name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
                ExpressionAttributeValues=to_item({":pk": keys.pk(target), ":audit": AUDIT_PREFIX}),
                ConsistentRead=True,
            )
            entries = [audit_from_item(item, keys) for page in pages for item in page.get("Items", [])]
        return sorted(entries, key=lambda e: e.at)

    def history(
        self,
        *,
        target: Target | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit entries newest first, at most `limit`, from `since` on: of `target`, or of every target.

        Times are compared as the entries store them (ISO times in UTC), so `since` must be in UTC.
        """
        with translated("Query"):
            if target is not None:
                return list(islice(self._trail_newest_first(target, since), limit))
            streams = [self._kind_newest_first(kind, since) for kind in TargetKind]
            merged = heapq.merge(*streams, key=lambda entry: entry.at, reverse=True)
            return list(islice(merged, limit))

    def _trail_newest_first(self, target: Target, since: datetime | None) -> Iterator[AuditEntry]:
        low = AUDIT_PREFIX + (since.isoformat() if since else "")
        return self._query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=to_item(
                {":pk": self._table.keys.pk(target), ":low": low, ":high": AUDIT_PREFIX + "\uffff"}
            ),
            ConsistentRead=True,
        )

    def _kind_newest_first(self, kind: TargetKind, since: datetime | None) -> Iterator[AuditEntry]:
        condition = "#kind = :kind" + (" AND #at >= :since" if since else "")
        values: dict[str, Any] = {":kind": kind.value} | ({":since": since.isoformat()} if since else {})
        names = {"#kind": AUDIT_INDEX_PARTITION_KEY} | ({"#at": AUDIT_INDEX_SORT_KEY} if since else {})
        return self._query(
            IndexName=AUDIT_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    def _query(self, **query: Any) -> Iterator[AuditEntry]:
        """Entries page by page, newest first, read only as far as the caller takes them."""
        pages: Iterable[Any] = self._table.client.get_paginator("query").paginate(
            TableName=self._table.name,
            ScanIndexForward=False,
            PaginationConfig={"PageSize": _PAGE},
            **query,
        )
        for page in pages:
            yield from (audit_from_item(item, self._table.keys) for item in page.get("Items", []))


def _values(entry: AuditEntry) -> dict[str, Any]:
    """An entry's attributes but its keys and time: `detector`, `reason` and `detail` only where set."""
    values: dict[str, Any] = {
        "kind": entry.target.kind.value,
        "name": entry.target.name,
        "action": entry.action,
        "result": entry.result,
    }
    return values | {
        name: getattr(entry, name) for name in ("detector", "reason", "detail") if getattr(entry, name)
    }


def audit_from_item(item: Mapping[str, Any], keys: TargetKeys) -> AuditEntry:
    """An audit entry from its item."""
    values = from_item(item)
    return AuditEntry(
        target=keys.target(values["pk"]),
        action=values["action"],
        result=values["result"],
        at=parse_time(values["at"]),
        detector=values.get("detector", ""),
        reason=values.get("reason", ""),
        detail=values.get("detail", ""),
    )
