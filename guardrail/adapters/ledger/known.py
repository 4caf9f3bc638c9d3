"""The ledger's known conditions and their daily recurrences (`guardrail.enforcement.known`).

- `KNOWN#<condition key>` / `KNOWN`: a condition told in full (`told_at`, `size` told), until
  `expires_at` (TTL), which each day's first recurrence pushes back.
- `DIGEST#<day>` / `<condition key>`: the condition's recurrences that day (`count`, `size` added up,
  `first_seen`, `last_seen`, the latest `reason`, and what it is: `subject`, `detector`, `summary`,
  `account`, `region`), until `expires_at`. A day's digest reads its partition in one Query.

Every item is one per condition (or condition and day): no item accumulates, and its strings are
bounded as they are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.dynamodb_codec import from_item, parse_time, to_item
from guardrail.adapters.ledger.table import LedgerTable
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import DigestEntry, Notice

KNOWN_SK = "KNOWN"
#: Bounds on what a digest item keeps of a notice's text (the renderer bounds what it shows again).
_MAX_TEXT = 1000


def _known_key(key: str) -> dict[str, Any]:
    return to_item({"pk": f"KNOWN#{key}", "sk": KNOWN_SK})


class KnownConditions:
    """Known conditions (conditional writes) and each day's recurrences of them."""

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(Resource.LEDGER, ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query")),
    )

    def __init__(self, table: LedgerTable) -> None:
        self._table = table

    def tell(self, key: str, *, size: int, now: datetime, until: datetime, ratio: int) -> bool:
        """Record the condition as told now unless it is known (told, unexpired, size under `ratio` x)."""
        try:
            with translated("UpdateItem"):
                self._table.client.update_item(
                    TableName=self._table.name,
                    Key=_known_key(key),
                    UpdateExpression="SET told_at = :now, #size = :size, expires_at = :until",
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR expires_at < :now_s OR #size < :smaller"
                    ),
                    ExpressionAttributeNames={"#size": "size"},
                    ExpressionAttributeValues=to_item(
                        {
                            ":now": now.isoformat(),
                            ":now_s": int(now.timestamp()),
                            ":size": size,
                            ":until": int(until.timestamp()),
                            # told before at under size/ratio: this one is `ratio` times larger
                            ":smaller": -(-size // ratio) if size > 0 else 0,
                        }
                    ),
                )
        except ConditionFailed:
            return False
        return True

    def forget(self, key: str) -> None:
        """Forget a condition whose full alert was not sent."""
        with translated("DeleteItem"):
            self._table.client.delete_item(TableName=self._table.name, Key=_known_key(key))

    def keep(self, key: str, *, until: datetime) -> None:
        """Keep a known condition in memory until `until` (not one forgotten meanwhile)."""
        try:
            with translated("UpdateItem"):
                self._table.client.update_item(
                    TableName=self._table.name,
                    Key=_known_key(key),
                    UpdateExpression="SET expires_at = :until",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=to_item({":until": int(until.timestamp())}),
                )
        except ConditionFailed:
            return

    def note_recurrence(self, day: str, key: str, notice: Notice, *, now: datetime, until: datetime) -> int:
        """Count one recurrence of a known condition in `day`'s digest; the day's count after it."""
        condition = notice.condition
        summary = condition.summary if condition is not None else ""
        size = condition.size_bytes if condition is not None else 0
        values = {
            ":one": 1,
            ":size": size,
            ":now": now.isoformat(),
            ":until": int(until.timestamp()),
            ":reason": notice.reason[:_MAX_TEXT],
            ":subject": notice.subject[:_MAX_TEXT],
            ":detector": notice.detector[:_MAX_TEXT],
            ":summary": summary[:_MAX_TEXT],
            ":account": notice.account[:_MAX_TEXT],
            ":region": notice.region[:_MAX_TEXT],
        }
        with translated("UpdateItem"):
            answer = self._table.client.update_item(
                TableName=self._table.name,
                Key=to_item({"pk": f"DIGEST#{day}", "sk": key}),
                UpdateExpression=(
                    "ADD #count :one, #size :size SET last_seen = :now, reason = :reason, "
                    "first_seen = if_not_exists(first_seen, :now), "
                    "expires_at = if_not_exists(expires_at, :until), "
                    "subject = :subject, detector = :detector, summary = :summary, account = :account, "
                    "#region = :region"
                ),
                ExpressionAttributeNames={"#count": "count", "#size": "size", "#region": "region"},
                ExpressionAttributeValues=to_item(values),
                ReturnValues="UPDATED_NEW",
            )
        return int(from_item(answer["Attributes"])["count"])

    def recurrences(self, day: str, *, limit: int) -> tuple[list[DigestEntry], int]:
        """`day`'s recurrences (up to `limit`, read in one Query) and how many more there are."""
        with translated("Query"):
            answer = self._table.client.query(
                TableName=self._table.name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=to_item({":pk": f"DIGEST#{day}"}),
                ConsistentRead=True,
            )
        items = [from_item(item) for item in answer.get("Items", [])]
        items.sort(key=lambda item: -int(item.get("count", 0)))
        entries = [_entry(item) for item in items[:limit]]
        more = len(items) - len(entries) + (1 if answer.get("LastEvaluatedKey") else 0)
        return entries, more


def _entry(item: dict[str, Any]) -> DigestEntry:
    return DigestEntry(
        subject=str(item.get("subject", "")),
        detector=str(item.get("detector", "")),
        summary=str(item.get("summary", "")),
        count=int(item.get("count", 0)),
        size_bytes=int(item.get("size", 0)),
        first_seen=parse_time(str(item["first_seen"])),
        last_seen=parse_time(str(item["last_seen"])),
        reason=str(item.get("reason", "")),
        account=str(item.get("account", "")),
        region=str(item.get("region", "")),
    )
