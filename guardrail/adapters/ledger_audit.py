"""The ledger's audit trail: one item per action on a target, in the target's partition, never overwritten.

Read by key: a target's trail is a Query on its partition; the trail of every target of a kind is a
Query on the sparse index `AuditTrail` (`kind`, `at`), which holds the audit entries only. Never Scan.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.ledger_items import (
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
    AUDIT_PREFIX,
    LedgerTable,
    audit_from_item,
    audit_item,
    to_item,
)
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import AuditEntry, Target, TargetKind

_PAGE = 100


class LedgerAudit(LedgerTable):
    """Appends audit entries and reads them back by Query: one target's trail, or every target's."""

    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(Resource.LEDGER, ("dynamodb:PutItem", "dynamodb:Query")),
    )
    #: `history` of every target reads the `AuditTrail` index: granted to the kill switch alone.
    HISTORY_PERMISSIONS: ClassVar[tuple[Grant, ...]] = (Grant(Resource.AUDIT_INDEX, ("dynamodb:Query",)),)

    def append_audit(self, entry: AuditEntry) -> None:
        """Add one entry to the audit trail."""
        with translated("PutItem"):
            self._client.put_item(
                TableName=self._table, Item=audit_item(entry, uuid.uuid4().hex[:12], self._keys)
            )

    def audit_trail(self, target: Target) -> list[AuditEntry]:
        """The target's audit entries, oldest first."""
        with translated("Query"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
                ExpressionAttributeValues=to_item({":pk": self._keys.pk(target), ":audit": AUDIT_PREFIX}),
                ConsistentRead=True,
            )
            entries = [audit_from_item(item, self._keys) for page in pages for item in page.get("Items", [])]
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
                {":pk": self._keys.pk(target), ":low": low, ":high": AUDIT_PREFIX + "\uffff"}
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
        pages: Iterable[Any] = self._client.get_paginator("query").paginate(
            TableName=self._table,
            ScanIndexForward=False,
            PaginationConfig={"PageSize": _PAGE},
            **query,
        )
        for page in pages:
            yield from (audit_from_item(item, self._keys) for item in page.get("Items", []))
