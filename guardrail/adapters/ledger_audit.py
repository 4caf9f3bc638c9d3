"""The ledger's audit trail: one item per action on a target, in the target's partition, never overwritten."""

from __future__ import annotations

import uuid
from typing import ClassVar

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.ledger_items import (
    AUDIT_PREFIX,
    LedgerTable,
    audit_from_item,
    audit_item,
    target_pk,
    to_item,
)
from guardrail.domain import AuditEntry, Target


class LedgerAudit(LedgerTable):
    """Appends audit entries and reads a target's trail by Query on its partition."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[str, ...]] = ("dynamodb:PutItem", "dynamodb:Query")

    def append_audit(self, entry: AuditEntry) -> None:
        """Add one entry to the audit trail."""
        with translated("PutItem"):
            self._client.put_item(TableName=self._table, Item=audit_item(entry, uuid.uuid4().hex[:12]))

    def audit_trail(self, target: Target) -> list[AuditEntry]:
        """The target's audit entries, oldest first."""
        with translated("Query"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
                ExpressionAttributeValues=to_item({":pk": target_pk(target), ":audit": AUDIT_PREFIX}),
                ConsistentRead=True,
            )
            entries = [audit_from_item(item) for page in pages for item in page.get("Items", [])]
        return sorted(entries, key=lambda e: e.at)
