"""The ledger's records: one per target, what the guardrail did to it and what it had before."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from guardrail.adapters.aws_errors import ConditionFailed, error_code, translated
from guardrail.adapters.ledger_items import (
    ACTIVE_INDEX,
    LedgerTable,
    audit_item,
    ms,
    record_from_item,
    record_item,
    record_key,
    to_item,
)
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import ActionRecord, AuditEntry, Status, Takeover, Target, TargetKind

_STATUS = {"#s": "status"}
_NO_STATUS = "(attribute_not_exists(#s) OR #s = :restored)"  # restored: new items drop it, old keep it
#: The index's partitions that `active` reads: every state but restored.
_HELD = (Status.APPLYING, Status.ENFORCED, Status.FLAGGED, Status.RESTORING)


class LedgerRecords(LedgerTable):
    """Records by key (conditional writes: first record wins) and active records by the sparse index."""

    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(
            Resource.LEDGER,
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
            ),
        ),
    )

    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None:
        """Write `record` unless the target's record changed since the caller read it; first record wins.

        `replacing` is the id of the restored record the caller saw (None: it saw none), so that a
        record written or restored after the caller read the target always blocks the claim.
        Returns None when the claim is won, otherwise the record that stands in its way.
        """
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if replacing is not None:
            condition = {
                "ConditionExpression": f"throttle_id = :seen AND {_NO_STATUS}",
                "ExpressionAttributeNames": _STATUS,
                "ExpressionAttributeValues": to_item(
                    {":seen": replacing, ":restored": Status.RESTORED.value}
                ),
            }
        try:
            with translated("PutItem"):
                self._client.put_item(
                    TableName=self._table, Item=record_item(record, self._keys), **condition
                )
        except ConditionFailed:
            existing = self.get(record.target)
            if existing is None:  # deleted between the write and the read: report it as contended
                return replace(record, status=Status.RESTORED, restored_at=record.acted_at)
            return existing
        return None

    def release(self, record: ActionRecord) -> bool:
        """Delete a claim still `applying` as claimed (its action rolled back); False when it moved on."""
        try:
            with translated("DeleteItem"):
                self._client.delete_item(
                    TableName=self._table,
                    Key=record_key(record.target, self._keys),
                    ConditionExpression=(
                        "throttle_id = :id AND #s = :applying AND attribute_not_exists(changed_at)"
                    ),
                    ExpressionAttributeNames=_STATUS,
                    ExpressionAttributeValues=to_item(
                        {":id": record.record_id, ":applying": Status.APPLYING.value}
                    ),
                )
        except ConditionFailed:
            return False
        return True

    def get(self, target: Target) -> ActionRecord | None:
        """Return the target's record, if it has one."""
        with translated("GetItem"):
            response = self._client.get_item(
                TableName=self._table, Key=record_key(target, self._keys), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else record_from_item(item, self._keys)

    def transition(
        self,
        record: ActionRecord,
        to: Status,
        at: datetime,
        *,
        audit: AuditEntry | None = None,
        takeover: Takeover | None = None,
    ) -> bool:
        """Move `record` to `to`, only if it is still as the caller read it: state, id, `since`, moves.

        `audit` is written in the same transaction: the trail never misses a transition, nor holds
        one that did not happen. `takeover` rewrites who the record belongs to (and the prior state
        only when it says it was read afresh: see `Takeover`). Moving to restored removes `status`,
        which takes the record out of the index. False when another caller moved it first.
        """
        values: dict[str, Any] = {
            ":from": record.status.value,
            ":id": record.record_id,
            ":at": at.isoformat(),
        }
        sets, remove, names = ["changed_at = :at"], "", dict(_STATUS)
        if to is Status.RESTORED:
            sets, remove = ["restored_at = :at", "restored_ms = :ms"], " REMOVE #s"
            values[":ms"] = ms(at)
        else:
            sets.append("#s = :to")
            values[":to"] = to.value
        if takeover is not None:
            sets += ["#detector = :detector", "#reason = :reason", "#evidence = :evidence"]
            names |= {"#detector": "detector", "#reason": "reason", "#evidence": "evidence"}
            values |= {
                ":detector": takeover.detector,
                ":reason": takeover.reason or "-",
                ":evidence": json.dumps(takeover.evidence, sort_keys=True, default=str),
            }
            if takeover.prior_read:
                sets.append("#prior = :prior")
                names["#prior"] = "prior"
                values[":prior"] = takeover.prior
        sets.append("moves = :moves")
        values[":moves"] = record.moves + 1
        update = f"SET {', '.join(sets)}{remove}"
        condition = "#s = :from AND throttle_id = :id AND "
        if record.moves:
            condition += "moves = :seen AND "
            values[":seen"] = record.moves
        else:  # a record no one has moved yet (or one written before moves were counted)
            condition += "attribute_not_exists(moves) AND "
        if record.changed_at is None:
            condition += "attribute_not_exists(changed_at)"
        else:
            condition += "changed_at = :since"
            values[":since"] = record.changed_at.isoformat()
        change: dict[str, Any] = {
            "TableName": self._table,
            "Key": record_key(record.target, self._keys),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
        try:
            if audit is None:
                with translated("UpdateItem"):
                    self._client.update_item(**change)
            else:
                entry = {
                    "TableName": self._table,
                    "Item": audit_item(audit, uuid.uuid4().hex[:12], self._keys),
                }
                items: list[Any] = [{"Update": change}, {"Put": entry}]
                with translated("TransactWriteItems"), condition_as_failed():
                    self._client.transact_write_items(TransactItems=items)
        except ConditionFailed:
            return False
        return True

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every record held (of one kind, or all): in progress, applied or flagged, oldest first.

        Read from the sparse index, which is eventually consistent: a record written a moment ago
        may not show yet. Every restore reads the record itself again, consistently.
        """
        records = [
            record_from_item(item, self._keys) for status in _HELD for item in self._index_items(status)
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


@contextmanager
def condition_as_failed() -> Iterator[None]:
    """A transaction cancelled by its record's condition reads as ConditionFailed."""
    try:
        yield
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if error_code(exc) == "TransactionCanceledException" and any(
            reason.get("Code") == "ConditionalCheckFailed" for reason in reasons
        ):
            raise ConditionFailed("TransactWriteItems") from exc
        raise
