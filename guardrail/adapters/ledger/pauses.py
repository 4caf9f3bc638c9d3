"""The ledger's run-time pauses: one item per paused account, each change written with its audit line.

- `PAUSE#<account>` / `PAUSE`: the pause (`account`, `paused_by`, `reason`, `pause_id`, `paused_at`,
  `paused_ms`). Each account is its own partition; the item also carries `status` = `paused` and
  `throttled_at`, which put it in the sparse `ActiveRecords` index's `paused` partition (a partition
  that `active`, reading the held records' states, never reads): `paused_accounts` is one Query.
- `PAUSE#<account>` / `AUDIT#<time>#<id>`: one audit line per pause and resume, written in the same
  transaction as the change (`kind` = `account` puts it in the `AuditTrail` index beside the targets').

A pause is written only where none stands, a resume deletes only the pause it read: a duplicate or
concurrent pause finds the standing one, a resume of an unpaused account finds none, and no item is
ever half written. Every failed AWS call surfaces as AwsCallFailed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from guardrail.account_pause import AccountPause
from guardrail.adapters.aws_errors import translated
from guardrail.adapters.dynamodb_codec import from_item, ms, parse_time, to_item
from guardrail.adapters.ledger.audit import AuditTrail
from guardrail.adapters.ledger.table import LedgerTable
from guardrail.adapters.permissions import Grant, Resource
from guardrail.errors import AwsCallFailed

PAUSE_SK = "PAUSE"
#: The `ActiveRecords` partition that holds the pauses (and the audit index's partition of their lines).
PAUSED_STATUS, AUDIT_KIND = "paused", "account"
#: The kill switch is the only writer of pauses: its audit lines' detector.
DETECTOR = "kill-switch"
#: How often a pause is tried when the account is paused and resumed between the write and the read.
_ATTEMPTS = 3


class AccountPauses:
    """Pauses by account (conditional writes, each with its audit line) and all pauses by the index."""

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(
            Resource.LEDGER, ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query")
        ),
    )

    def __init__(self, table: LedgerTable, audit: AuditTrail) -> None:
        self._table = table
        self._audit = audit

    def of(self, account: str) -> AccountPause | None:
        """The account's pause (read consistently), or None when it is not paused."""
        with translated("GetItem"):
            item = self._table.client.get_item(
                TableName=self._table.name, Key=to_item(_key(account)), ConsistentRead=True
            ).get("Item")
        return None if item is None else _pause(from_item(item))

    def pause(self, pause: AccountPause) -> AccountPause | None:
        """Write `pause` with its audit line unless the account is paused; None when written.

        Otherwise the pause that stands (the first one wins; nothing is written).
        """
        values = {
            **_key(pause.account),
            "account": pause.account,
            "paused_by": pause.by,
            "reason": pause.reason,
            "pause_id": pause.pause_id,
            "paused_at": pause.since.isoformat(),
            "paused_ms": ms(pause.since),
            "status": PAUSED_STATUS,
            "throttled_at": pause.since.isoformat(),
        }
        for _ in range(_ATTEMPTS):
            put = {
                "TableName": self._table.name,
                "Item": to_item(values),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            if self._audit.together(
                "Put", put, self._line(pause, "pause", "paused", pause.since, f"by {pause.by}")
            ):
                return None
            standing = self.of(pause.account)
            if standing is not None:
                return standing
        raise AwsCallFailed(
            "ConditionalCheckFailed",
            "paused and resumed concurrently; try again",
            operation="TransactWriteItems",
        )

    def resume(self, pause: AccountPause, *, at: datetime, by: str) -> bool:
        """Delete exactly `pause` (as read) with its audit line; False when it no longer stands."""
        delete = {
            "TableName": self._table.name,
            "Key": to_item(_key(pause.account)),
            "ConditionExpression": "pause_id = :id",
            "ExpressionAttributeValues": to_item({":id": pause.pause_id}),
        }
        detail = f"by {by}; {pause.describe()}"
        return self._audit.together("Delete", delete, self._line(pause, "resume", "resumed", at, detail))

    def paused(self) -> list[AccountPause]:
        """Every paused account, oldest pause first (the index is eventually consistent)."""
        pauses = [_pause(from_item(item)) for item in self._table.active_partition(PAUSED_STATUS)]
        return sorted(pauses, key=lambda pause: (pause.since, pause.account))

    def _line(
        self, pause: AccountPause, action: str, result: str, at: datetime, detail: str
    ) -> dict[str, Any]:
        values = {
            "kind": AUDIT_KIND,
            "name": pause.account,
            "action": action,
            "result": result,
            "detector": DETECTOR,
            "reason": pause.reason,
            "detail": detail,
        }
        return self._audit.line(f"PAUSE#{pause.account}", at, values)


def _key(account: str) -> dict[str, str]:
    return {"pk": f"PAUSE#{account}", "sk": PAUSE_SK}


def _pause(values: dict[str, Any]) -> AccountPause:
    return AccountPause(
        account=values["account"],
        by=values["paused_by"],
        since=parse_time(values["paused_at"]),
        reason=values["reason"],
        pause_id=values["pause_id"],
    )
