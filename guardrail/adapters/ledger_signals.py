"""The ledger's signal marks: a signal (an event, a notice's period) handled once until its TTL."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.ledger_items import SIGNAL_SK, LedgerTable, to_item


class LedgerSignals(LedgerTable):
    """Once-only marks with a TTL (`expires_at`), for duplicate deliveries and notice periods."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[str, ...]] = ("dynamodb:PutItem", "dynamodb:DeleteItem")

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
