"""The ledger's circuit-breaker counter: automatic actions per hour, one item per hour, with a TTL.

`BREAKER#<hour>` / `BREAKER` holds `actions` (conditional increment: it never passes the limit)
and `expires_at`. Being one item in the shared table, it counts across concurrent invocations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.ledger_items import LedgerTable, from_item, to_item

BREAKER_SK = "BREAKER"
_TTL_SECONDS = 3 * 3600


def _key(hour: datetime) -> dict[str, Any]:
    return to_item({"pk": f"BREAKER#{hour:%Y-%m-%dT%H}", "sk": BREAKER_SK})


class LedgerBreaker(LedgerTable):
    """Counts automatic actions per hour; refuses a count past the limit."""

    #: IAM actions this class calls; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[str, ...]] = ("dynamodb:UpdateItem", "dynamodb:GetItem")

    def count_action(self, hour: datetime, *, limit: int) -> bool:
        """Count one automatic action in `hour`; False (nothing counted) when `limit` are counted already."""
        try:
            with translated("UpdateItem"):
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(hour),
                    UpdateExpression="ADD actions :one SET expires_at = :expires",
                    ConditionExpression="attribute_not_exists(actions) OR actions < :limit",
                    ExpressionAttributeValues=to_item(
                        {":one": 1, ":limit": limit, ":expires": int(hour.timestamp()) + _TTL_SECONDS}
                    ),
                )
        except ConditionFailed:
            return False
        return True

    def actions_counted(self, hour: datetime) -> int:
        """How many automatic actions `hour` has counted."""
        with translated("GetItem"):
            item = self._client.get_item(TableName=self._table, Key=_key(hour), ConsistentRead=True).get(
                "Item"
            )
        return 0 if item is None else int(from_item(item).get("actions", 0))
