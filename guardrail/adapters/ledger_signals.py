"""The ledger's signal marks: a signal (an event, a notice's period) handled once until its TTL.

Also the counts of signals (`COUNT#<key>` / `SIGNAL`, `count` and `expires_at`): how many alerts that
change nothing a detector has sent in an hour (`guardrail.enforcement.noise`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.ledger_items import SIGNAL_SK, LedgerTable, from_item, to_item
from guardrail.adapters.permissions import Grant, Resource


class LedgerSignals(LedgerTable):
    """Once-only marks with a TTL (`expires_at`), for duplicate deliveries and notice periods."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(
            Resource.LEDGER,
            ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:GetItem"),
        ),
    )

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal as handled; False when it already was (a duplicate delivery)."""
        now_s = int(now.timestamp())
        try:
            with translated("PutItem"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item({"pk": f"SIGNAL#{key}", "sk": SIGNAL_SK, "expires_at": now_s + ttl_seconds}),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                    ExpressionAttributeValues=to_item({":now": now_s}),
                )
        except ConditionFailed:
            return False
        return True

    def release_signal(self, key: str) -> None:
        """Forget a signal whose action failed, so that a redelivery can retry it."""
        with translated("DeleteItem"):
            self._client.delete_item(
                TableName=self._table, Key=to_item({"pk": f"SIGNAL#{key}", "sk": SIGNAL_SK})
            )

    def count_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> int:
        """Count one more signal under `key` (atomically, across invocations); the count after it."""
        with translated("UpdateItem"):
            answer = self._client.update_item(
                TableName=self._table,
                Key=to_item({"pk": f"COUNT#{key}", "sk": SIGNAL_SK}),
                UpdateExpression="ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues=to_item(
                    {":one": 1, ":expires": int(now.timestamp()) + ttl_seconds}
                ),
                ReturnValues="UPDATED_NEW",
            )
        return int(from_item(answer["Attributes"])["count"])

    def signals_counted(self, key: str) -> int:
        """How many signals `key` has counted (0: none, or expired)."""
        with translated("GetItem"):
            item = self._client.get_item(
                TableName=self._table,
                Key=to_item({"pk": f"COUNT#{key}", "sk": SIGNAL_SK}),
                ConsistentRead=True,
            ).get("Item")
        return 0 if item is None else int(from_item(item).get("count", 0))
