"""The ledger's signal marks and counts, each kept until its TTL (`expires_at`).

- `SIGNAL#<key>` / `SIGNAL`: a signal (an event, a notice's period) handled once until `expires_at`.
- `COUNT#<key>` / `SIGNAL`: `count`, how many signals `key` has counted until `expires_at` (how many
  alerts that change nothing a detector sent in an hour: `guardrail.enforcement.noise`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.dynamodb_codec import Update, epoch, from_item, to_item
from guardrail.adapters.ledger.table import LedgerTable
from guardrail.adapters.permissions import Grant, Resource

SIGNAL_SK = "SIGNAL"


class SignalMarks:
    """Once-only marks with a TTL, for duplicate deliveries and notice periods; counts of signals."""

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(
            Resource.LEDGER,
            ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:GetItem"),
        ),
    )

    def __init__(self, table: LedgerTable) -> None:
        self._table = table

    def claim(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal as handled; False when it already was (a duplicate delivery)."""
        try:
            with translated("PutItem"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=to_item(
                        {"pk": f"SIGNAL#{key}", "sk": SIGNAL_SK, "expires_at": epoch(now) + ttl_seconds}
                    ),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                    ExpressionAttributeValues=to_item({":now": epoch(now)}),
                )
        except ConditionFailed:
            return False
        return True

    def release(self, key: str) -> None:
        """Forget a signal whose action failed, so that a redelivery can retry it."""
        with translated("DeleteItem"):
            self._table.client.delete_item(
                TableName=self._table.name, Key=to_item({"pk": f"SIGNAL#{key}", "sk": SIGNAL_SK})
            )

    def count(self, key: str, *, now: datetime, ttl_seconds: int) -> int:
        """Count one more signal under `key` (atomically, across invocations); the count after it."""
        update = Update().add("count", 1).set_if_absent("expires_at", epoch(now) + ttl_seconds)
        with translated("UpdateItem"):
            answer = self._table.client.update_item(
                **update.build(self._table.name, _count_key(key)), ReturnValues="UPDATED_NEW"
            )
        return int(from_item(answer["Attributes"])["count"])

    def counted(self, key: str) -> int:
        """How many signals `key` has counted (0: none, or expired)."""
        with translated("GetItem"):
            item = self._table.client.get_item(
                TableName=self._table.name, Key=to_item(_count_key(key)), ConsistentRead=True
            ).get("Item")
        return 0 if item is None else int(from_item(item).get("count", 0))


def _count_key(key: str) -> dict[str, str]:
    return {"pk": f"COUNT#{key}", "sk": SIGNAL_SK}
