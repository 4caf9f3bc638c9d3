"""The ledger's circuit-breaker slots: N per account and region, each taken for one rolling hour.

- `BREAKER#<account>#<region>#<slot>` / `BREAKER`: one automatic action counted against the account's
  and region's breaker: `account`, `region`, `slot`, `taken_at` / `taken_ms`, `target` (what took it),
  `expires_at` (TTL, a while after the window). A slot is taken by a conditional put that succeeds only
  where no slot stands or the one that stands is older than the window, so N concurrent invocations
  never take more than N slots of one window, and the window rolls: a slot frees one hour after it
  was taken, not at the top of the clock hour (`guardrail.hourly_cap` takes the N in turn).
- The item also carries `status` = `breaker` and `throttled_at`, which put it in the sparse
  `ActiveRecords` index's `breaker` partition (a partition `active` never reads): `breaker_slots` is
  one Query, never a Scan.

Items of the release before (`BREAKER#<hour>` / `BREAKER`, one counter per clock hour) are no longer
read; their TTL removes them within three hours. Nothing to migrate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.dynamodb_codec import epoch, from_item, ms, parse_time, to_item
from guardrail.adapters.ledger.table import LedgerTable
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import BreakerSlot

BREAKER_SK = "BREAKER"
#: The `ActiveRecords` partition that holds the breaker's slots.
BREAKER_STATUS = "breaker"
#: How long after its window a slot's item is kept before DynamoDB's TTL may remove it.
_KEEP_AFTER = timedelta(hours=1)


class BreakerSlots:
    """Takes and lists the circuit breaker's slots, per account and region."""

    #: IAM actions this part calls, on the ledger; the stack's policy is built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]] = (
        Grant(Resource.LEDGER, ("dynamodb:PutItem", "dynamodb:Query")),
    )

    def __init__(self, table: LedgerTable) -> None:
        self._table = table

    def take(self, slot: BreakerSlot, *, window: timedelta) -> bool:
        """Take `slot` (its account, region and number) unless a slot taken within `window` stands."""
        values = {
            "pk": f"BREAKER#{slot.account}#{slot.region}#{slot.slot}",
            "sk": BREAKER_SK,
            "account": slot.account,
            "region": slot.region,
            "slot": slot.slot,
            "taken_at": slot.taken_at.isoformat(),
            "taken_ms": ms(slot.taken_at),
            "target": slot.target,
            "status": BREAKER_STATUS,
            "throttled_at": slot.taken_at.isoformat(),
            "expires_at": epoch(slot.taken_at + window + _KEEP_AFTER),
        }
        try:
            with translated("PutItem"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=to_item(values),
                    ConditionExpression="attribute_not_exists(pk) OR taken_ms <= :cutoff",
                    ExpressionAttributeValues=to_item({":cutoff": ms(slot.taken_at - window)}),
                )
        except ConditionFailed:
            return False
        return True

    def taken(self, *, since: datetime) -> list[BreakerSlot]:
        """Every slot taken after `since`, in every account and region, oldest first (index: eventual)."""
        items = self._table.active_partition(BREAKER_STATUS, after=since.isoformat())
        slots = [_slot(from_item(item)) for item in items]
        return sorted(slots, key=lambda slot: (slot.taken_at, slot.account, slot.region, slot.slot))


def _slot(values: dict[str, Any]) -> BreakerSlot:
    return BreakerSlot(
        account=values["account"],
        region=values["region"],
        slot=int(values["slot"]),
        taken_at=parse_time(values["taken_at"]),
        target=values.get("target", ""),
    )
