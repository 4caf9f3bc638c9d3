"""At most N in an hour: the one rule behind the circuit breaker and the invocation scan's drill-downs.

A cap is N slots kept in the ledger, each taken by one conditional write, so the count holds across
every container and concurrent invocation and never passes N. A taking tries the slots in order and
wins the first one free; when none is, the hour's N are spent. What frees a slot is its store's, and
each user keeps its own items:
- the breaker's slots (`BREAKER#<account>#<region>#<slot>`, see `guardrail.adapters.ledger.breaker_slots`)
  free one hour after they were taken: a rolling hour per account and region;
- the scan's (signal marks `invocation-scan:drill-down:<place><hour>:<slot>`) name their clock hour.
No AWS here: the slots are a port.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

#: The cap's period.
HOUR = timedelta(hours=1)


class Slots(Protocol):
    """Where a cap's slots are kept (see the module's docstring for the two stores)."""

    def take(self, slot: int, at: datetime) -> bool:
        """Take slot number `slot` at `at` by one conditional write; False while it is held."""
        ...


class HourlyCap:
    """At most `limit` takings an hour: each takes the first free of `limit` slots."""

    def __init__(self, slots: Slots, limit: int) -> None:
        self._slots = slots
        self.limit = limit

    def take(self, at: datetime) -> bool:
        """Take one of the hour's slots at `at`; False when all `limit` are held."""
        return any(self._slots.take(slot, at) for slot in range(self.limit))
