"""The ledger's run-time pauses: one item per paused account, each change written with its audit line.

- `PAUSE#<account>` / `PAUSE`: the pause (`account`, `paused_by`, `reason`, `pause_id`, `paused_at`).
  Each account is its own partition; the item also carries `status` = `paused` and `throttled_at`,
  which put it in the sparse `ActiveRecords` index's `paused` partition (a partition that `active`,
  reading the held records' states, never reads): `paused_accounts` is one Query, never a Scan.
- `PAUSE#<account>` / `AUDIT#<time>#<id>`: one audit line per pause and resume, written in the same
  transaction as the change (`kind` = `account` puts it in the `AuditTrail` index beside the targets').

A pause is written only where none stands, a resume deletes only the pause it read: a duplicate or
concurrent pause finds the standing one, a resume of an unpaused account finds none, and no item is
ever half written. Every failed AWS call surfaces as AwsCallFailed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from guardrail.account_pause import AccountPause
from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.ledger_items import (
    ACTIVE_INDEX,
    AUDIT_PREFIX,
    LedgerTable,
    from_item,
    ms,
    parse_time,
    to_item,
)
from guardrail.adapters.ledger_records import condition_as_failed
from guardrail.adapters.permissions import Grant, Resource
from guardrail.errors import AwsCallFailed

PAUSE_SK = "PAUSE"
#: The `ActiveRecords` partition that holds the pauses (and the audit index's partition of their lines).
PAUSED_STATUS, AUDIT_KIND = "paused", "account"
#: The kill switch is the only writer of pauses: its audit lines' detector.
DETECTOR = "kill-switch"


def _key(account: str) -> dict[str, Any]:
    return to_item({"pk": f"PAUSE#{account}", "sk": PAUSE_SK})


class LedgerPauses(LedgerTable):
    """Pauses by account (conditional writes, each with its audit line) and all pauses by the index."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(
            Resource.LEDGER, ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query")
        ),
    )

    def account_pause(self, account: str) -> AccountPause | None:
        """The account's pause (read consistently), or None when it is not paused."""
        with translated("GetItem"):
            item = self._client.get_item(TableName=self._table, Key=_key(account), ConsistentRead=True).get(
                "Item"
            )
        return None if item is None else _pause(from_item(item))

    def pause_account(self, pause: AccountPause) -> AccountPause | None:
        """Write `pause` with its audit line unless the account is paused; None when written.

        Otherwise the pause that stands (the first one wins; nothing is written).
        """
        for _ in range(3):
            values = {
                "pk": f"PAUSE#{pause.account}",
                "sk": PAUSE_SK,
                "account": pause.account,
                "paused_by": pause.by,
                "reason": pause.reason,
                "pause_id": pause.pause_id,
                "paused_at": pause.since.isoformat(),
                "paused_ms": ms(pause.since),
                "status": PAUSED_STATUS,
                "throttled_at": pause.since.isoformat(),
            }
            put = {
                "TableName": self._table,
                "Item": to_item(values),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            if self._transact(put, self._audit(pause, "pause", "paused", pause.since, f"by {pause.by}")):
                return None
            standing = self.account_pause(pause.account)
            if standing is not None:
                return standing
        raise AwsCallFailed(
            "ConditionalCheckFailed",
            "paused and resumed concurrently; try again",
            operation="TransactWriteItems",
        )

    def resume_account(self, pause: AccountPause, *, at: datetime, by: str) -> bool:
        """Delete exactly `pause` (as read) with its audit line; False when it no longer stands."""
        delete = {
            "TableName": self._table,
            "Key": _key(pause.account),
            "ConditionExpression": "pause_id = :id",
            "ExpressionAttributeValues": to_item({":id": pause.pause_id}),
        }
        detail = f"by {by}; {pause.describe()}"
        return self._transact(delete, self._audit(pause, "resume", "resumed", at, detail), verb="Delete")

    def paused_accounts(self) -> list[AccountPause]:
        """Every paused account, oldest pause first (the index is eventually consistent)."""
        with translated("Query"):
            pages = self._client.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=ACTIVE_INDEX,
                KeyConditionExpression="#s = :paused",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":paused": PAUSED_STATUS}),
            )
            pauses = [_pause(from_item(item)) for page in pages for item in page.get("Items", [])]
        return sorted(pauses, key=lambda pause: (pause.since, pause.account))

    def _audit(
        self, pause: AccountPause, action: str, result: str, at: datetime, detail: str
    ) -> dict[str, Any]:
        values = {
            "pk": f"PAUSE#{pause.account}",
            "sk": f"{AUDIT_PREFIX}{at.isoformat()}#{uuid.uuid4().hex[:12]}",
            "kind": AUDIT_KIND,
            "name": pause.account,
            "action": action,
            "result": result,
            "at": at.isoformat(),
            "detector": DETECTOR,
            "reason": pause.reason,
            "detail": detail,
        }
        return {"TableName": self._table, "Item": to_item(values)}

    def _transact(self, change: dict[str, Any], audit: dict[str, Any], verb: str = "Put") -> bool:
        """The change and its audit line together; False when the change's condition did not hold."""
        items: list[Any] = [{verb: change}, {"Put": audit}]
        try:
            with translated("TransactWriteItems"), condition_as_failed():
                self._client.transact_write_items(TransactItems=items)
        except ConditionFailed:
            return False
        return True


def _pause(values: dict[str, Any]) -> AccountPause:
    return AccountPause(
        account=values["account"],
        by=values["paused_by"],
        since=parse_time(values["paused_at"]),
        reason=values["reason"],
        pause_id=values["pause_id"],
    )
