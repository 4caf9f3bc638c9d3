"""The ledger's records: one per target, what the guardrail did to it and what it had before.

- `<KIND>#<name>` / `THROTTLE` (`FUNCTION#nightly-batch`, `WORKGROUP#primary`): the target's record,
  first record wins: `kind`, `name`, `prior` (reserved concurrency, or null; a workgroup's state),
  `status` (`applying`, `throttled` = applied, `flagged`, `restoring`; removed once restored; see
  `guardrail.domain.Status` for the transitions, each a conditional write), `changed_at`, `moves`,
  `throttle_id`, `throttled_at` / `throttled_ms`, `detector`, `reason`, `evidence` (JSON),
  `restored_at` / `restored_ms`. `status` and `throttled_at` put a held record in the sparse index
  `ActiveRecords`; a restored record has no `status`, which takes it out.

Records written before workgroups joined the ledger (functions only, `had_reservation` /
`prior_reservation`) are read in place, without migration: the target comes from `pk`, the prior state
from the legacy attributes; their `status` and `throttled_at` put the active ones in the index (DynamoDB
backfills a new index); the restored ones sit in its `restored` partition, which nothing reads, until
their function's next record replaces them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.dynamodb_codec import Update, from_item, ms, parse_time, to_item
from guardrail.adapters.ledger.audit import AuditTrail
from guardrail.adapters.ledger.table import LedgerTable, TargetKeys
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import ActionRecord, AuditEntry, Status, Takeover, Target, TargetKind
from guardrail.prior_state import PriorState

#: Sort key of a target's one record (named when every record was a throttle).
RECORD_SK = "THROTTLE"
_STATUS = {"#s": "status"}
_NO_STATUS = "(attribute_not_exists(#s) OR #s = :restored)"  # restored: new items drop it, old keep it
#: The index's partitions that `active` reads: every state but restored.
_HELD = (Status.APPLYING, Status.ENFORCED, Status.FLAGGED, Status.RESTORING)


class Records:
    """Records by key (conditional writes: first record wins) and held records by the sparse index.

    A move may carry its audit line, written by `audit` in the same transaction.
    """

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
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

    def __init__(self, table: LedgerTable, audit: AuditTrail) -> None:
        self._table = table
        self._audit = audit

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
                self._table.client.put_item(
                    TableName=self._table.name, Item=record_item(record, self._table.keys), **condition
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
                self._table.client.delete_item(
                    TableName=self._table.name,
                    Key=self._key(record.target),
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
            response = self._table.client.get_item(
                TableName=self._table.name, Key=self._key(target), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else record_from_item(item, self._table.keys)

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
        update = Update()
        if to is Status.RESTORED:
            update.set("restored_at", at.isoformat()).set("restored_ms", ms(at)).remove("status")
        else:
            update.set("changed_at", at.isoformat()).set("status", to.value)
        if takeover is not None:
            update.set("detector", takeover.detector).set("reason", takeover.reason or "-")
            update.set("evidence", json.dumps(takeover.evidence, sort_keys=True, default=str))
            if takeover.prior_read:
                update.set("prior", takeover.prior)
        update.set("moves", record.moves + 1)
        as_read = [
            update.equals("status", record.status.value, "from"),
            update.equals("throttle_id", record.record_id),
            # a record no one has moved yet (or one written before moves were counted) has no `moves`
            update.equals("moves", record.moves, "seen") if record.moves else update.exists("moves", False),
            update.exists("changed_at", False)
            if record.changed_at is None
            else update.equals("changed_at", record.changed_at.isoformat(), "since"),
        ]
        change = update.build(
            self._table.name, record_key(record.target, self._table.keys), " AND ".join(as_read)
        )
        if audit is not None:
            return self._audit.together("Update", change, self._audit.put(audit))
        try:
            with translated("UpdateItem"):
                self._table.client.update_item(**change)
        except ConditionFailed:
            return False
        return True

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every record held (of one kind, or all): in progress, applied or flagged, oldest first.

        Read from the sparse index, which is eventually consistent: a record written a moment ago
        may not show yet. Every restore reads the record itself again, consistently.
        """
        keys = self._table.keys
        records = [
            record_from_item(item, keys)
            for status in _HELD
            for item in self._table.active_partition(status.value)
        ]
        return sorted(
            (r for r in records if kind is None or r.target.kind is kind),
            key=lambda r: (r.acted_at, r.target),
        )

    def _key(self, target: Target) -> dict[str, Any]:
        return to_item(record_key(target, self._table.keys))


def record_key(target: Target, keys: TargetKeys) -> dict[str, str]:
    """The key of a target's record (plain values)."""
    return {"pk": keys.pk(target), "sk": RECORD_SK}


def record_item(record: ActionRecord, keys: TargetKeys) -> dict[str, Any]:
    """The item of a record; `status` is left out once restored, which takes it out of the index."""
    values: dict[str, Any] = {
        **record_key(record.target, keys),
        "kind": record.target.kind.value,
        "name": record.target.name,
        "prior": record.prior,
        "throttle_id": record.record_id,
        "throttled_at": record.acted_at.isoformat(),
        "throttled_ms": ms(record.acted_at),
        "detector": record.detector,
        "reason": record.reason or "-",
        "evidence": json.dumps(record.evidence, sort_keys=True, default=str),
    }
    if record.active:
        values["status"] = record.status.value
    if record.moves:
        values["moves"] = record.moves
    if record.restored_at is not None:
        values |= {"restored_at": record.restored_at.isoformat(), "restored_ms": ms(record.restored_at)}
    return to_item(values)


def record_from_item(item: Mapping[str, Any], keys: TargetKeys) -> ActionRecord:
    """A record from its item, whether written by this release or the one before."""
    values = from_item(item)
    restored, changed = values.get("restored_at"), values.get("changed_at")
    return ActionRecord(
        target=keys.target(values["pk"]),
        status=Status(values.get("status", Status.RESTORED)),
        prior=_prior(values),
        record_id=values["throttle_id"],
        acted_at=parse_time(values["throttled_at"]),
        detector=values["detector"],
        reason=values["reason"],
        evidence=json.loads(values.get("evidence", "{}")),
        restored_at=None if restored is None else parse_time(restored),
        changed_at=None if changed is None else parse_time(changed),
        moves=int(values.get("moves", 0)),
    )


def _prior(values: Mapping[str, Any]) -> PriorState:
    if "prior" in values:
        prior = values["prior"]
    elif values.get("had_reservation"):  # written before workgroups joined the ledger
        prior = values["prior_reservation"]
    else:
        prior = None
    return int(prior) if isinstance(prior, Decimal) else prior
