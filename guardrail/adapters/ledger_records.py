"""The ledger's records: one per target, what the guardrail did to it and what it had before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.ledger_items import (
    ACTIVE_INDEX,
    LedgerTable,
    ms,
    record_from_item,
    record_item,
    record_key,
    to_item,
)
from guardrail.domain import ActionRecord, Status, Target, TargetKind

_STATUS = {"#s": "status"}
_NO_STATUS = "(attribute_not_exists(#s) OR #s = :restored)"  # restored: new items drop it, old keep it


class LedgerRecords(LedgerTable):
    """Records by key (conditional writes: first record wins) and active records by the sparse index."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[str, ...]] = (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    )

    def claim(self, record: ActionRecord, *, facts_read_at: datetime) -> ActionRecord | None:
        """Write `record` unless the target already has an active one; first record wins.

        A record restored after `facts_read_at` also blocks the claim, since the caller's
        view of the target's state predates that restore. Returns None when the
        claim is won, otherwise the record that stands in its way.
        """
        try:
            with translated("PutItem"):
                self._client.put_item(
                    TableName=self._table,
                    Item=record_item(record),
                    ConditionExpression=f"attribute_not_exists(pk) OR ({_NO_STATUS} AND restored_ms < :read)",
                    ExpressionAttributeNames=_STATUS,
                    ExpressionAttributeValues=to_item(
                        {":restored": Status.RESTORED.value, ":read": ms(facts_read_at)}
                    ),
                )
        except ConditionFailed:
            existing = self.get(record.target)
            if existing is None:  # deleted between the write and the read: report it as contended
                return replace(record, status=Status.RESTORED, restored_at=record.acted_at)
            return existing
        return None

    def release(self, target: Target, record_id: str) -> None:
        """Undo a claim whose action could not be applied."""
        try:
            with translated("DeleteItem"):
                self._client.delete_item(
                    TableName=self._table,
                    Key=record_key(target),
                    ConditionExpression="throttle_id = :id",
                    ExpressionAttributeValues=to_item({":id": record_id}),
                )
        except ConditionFailed:
            return

    def get(self, target: Target) -> ActionRecord | None:
        """Return the target's record, if it has one."""
        with translated("GetItem"):
            response = self._client.get_item(
                TableName=self._table, Key=record_key(target), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else record_from_item(item)

    def mark_restored(self, record: ActionRecord, at: datetime) -> bool:
        """Move an active record to restored (out of the index); False when another caller got there first."""
        return self._update(
            record,
            update="SET restored_at = :at, restored_ms = :ms REMOVE #s",
            condition="#s = :from AND throttle_id = :id",
            values={":from": record.status.value, ":at": at.isoformat(), ":ms": ms(at)},
        )

    def reopen(self, record: ActionRecord) -> bool:
        """Put a record back to its active state after a restore that could not be applied."""
        return self._update(
            record,
            update="SET #s = :to REMOVE restored_at, restored_ms",
            condition=f"{_NO_STATUS} AND throttle_id = :id",
            values={":to": record.status.value, ":restored": Status.RESTORED.value},
        )

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every applied or flagged record (of one kind, or all), oldest first.

        Read from the sparse index, which is eventually consistent: a record written a moment ago
        may not show yet. Every restore reads the record itself again, consistently.
        """
        records = [
            record_from_item(item)
            for status in (Status.ENFORCED, Status.FLAGGED)
            for item in self._index_items(status)
        ]
        return sorted(
            (r for r in records if kind is None or r.target.kind is kind),
            key=lambda r: (r.acted_at, r.target),
        )

    def _index_items(self, status: Status) -> Iterator[dict[str, Any]]:
        with translated("Query"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=ACTIVE_INDEX,
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames=_STATUS,
                ExpressionAttributeValues=to_item({":s": status.value}),
            )
            for page in pages:
                yield from page.get("Items", [])

    def _update(self, record: ActionRecord, *, update: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            with translated("UpdateItem"):
                self._client.update_item(
                    TableName=self._table,
                    Key=record_key(record.target),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=_STATUS,
                    ExpressionAttributeValues=to_item({**values, ":id": record.record_id}),
                )
        except ConditionFailed:
            return False
        return True
