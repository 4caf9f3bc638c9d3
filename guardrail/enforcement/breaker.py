"""The circuit breaker: it limits damage, not protection.

Past N automatic actions within a rolling hour in one account and region, further automatic findings
there are held back (flagged, alerted): a burst of decoys in one member account, or one region,
cannot silence another. The count is an `HourlyCap` of N ledger slots per account and region, each
taken by a conditional write for one hour from when it was taken (see
`guardrail.adapters.ledger.breaker_slots`), so it holds across concurrent invocations and frees one
slot at a time.

Only automatic actions are counted and limited: an operator's (the kill switch's, detector
`kill-switch` or `kill-switch:<what>`) never is. The first refusal while a scope is open sends one
loud `breaker-open` alert naming what it held back and what the operator can do; each held-back
finding is alerted too (would-throttle), and is re-evaluated by its next finding and by the
scheduled reconciliation, which enforce it as soon as a slot frees (see
`guardrail.enforcement.lifecycle`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from guardrail.alerts.events import Phase
from guardrail.domain import HELD_BY_BREAKER, ActionRecord, BreakerSlot, Target
from guardrail.enforcement.ports import LedgerStore
from guardrail.enforcement.report import Reporter
from guardrail.hourly_cap import HOUR, HourlyCap

#: The kill switch's detector name: its actions are an operator's, never limited.
OPERATOR_DETECTOR = "kill-switch"
#: The breaker's window: a slot counts for this long after it was taken.
WINDOW = HOUR


def is_operator(detector: str) -> bool:
    """True for an operator's action (the kill switch's throttle or panic)."""
    return detector == OPERATOR_DETECTOR or detector.startswith(f"{OPERATOR_DETECTOR}:")


class CircuitBreaker:
    """Admits at most `limit` automatic actions per rolling hour in each account and region."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        report: Reporter,
        limit: int,
        clock: Callable[[], datetime],
        window: timedelta = WINDOW,
    ) -> None:
        self._ledger = ledger
        self._report = report
        self.limit = limit
        self._clock = clock
        self._window = window

    def admit(self, record: ActionRecord) -> str | None:
        """Count an automatic action about to be applied; None when admitted, else why it is held back.

        The first refusal while the record's account and region are open sends the `breaker-open`
        alert (once per opening, by a signal mark).
        """
        if is_operator(record.detector):
            return None
        now, target = self._clock(), record.target
        if HourlyCap(_Slots(self._ledger, target, self._window), self.limit).take(now):
            return None
        slots = self._slots(target, now)
        frees_at = (slots[0].taken_at if slots else now) + self._window
        why = (
            f"{HELD_BY_BREAKER} in account {target.account}, region {target.region}: {self.limit} automatic"
            f" actions there within the last hour; the next slot frees at {frees_at:%H:%M} UTC"
        )
        opened = slots[0].taken_at if slots else now.replace(second=0, microsecond=0)
        key = f"breaker-open#{target.account}#{target.region}#{opened.isoformat()}"
        if self._ledger.claim_signal(key, now=now, ttl_seconds=int(self._window.total_seconds()) * 2):
            reason = (
                f"{why}. Held back: {target} ({record.detector}: {record.reason}). Automatic enforcement in"
                " this account and region only alerts until then (other accounts and regions are not"
                " affected); each held-back finding is flagged, alerted, and enforced by its next finding"
                " or by the scheduled reconciliation once a slot frees. To act now, throttle it with the"
                " kill switch (the command below), which the breaker never limits; `status` lists what"
                " is flagged, and `restore` clears a flag."
            )
            admitted = [slot.target for slot in slots]
            evidence = {**record.evidence, "held_back": str(target), "admitted_this_hour": admitted}
            self._report.alert(Phase.BREAKER_OPEN, replace(record, evidence=evidence), reason, now)
        return why

    def state(self) -> dict[str, Any]:
        """The breaker for `status`: open where any account and region is at its limit, and each's count."""
        now = self._clock()
        scopes: dict[tuple[str, str], list[BreakerSlot]] = {}
        for slot in self._ledger.breaker_slots(since=now - self._window):
            scopes.setdefault((slot.account, slot.region), []).append(slot)
        places = [
            {
                "account": account,
                "region": region,
                "state": "open" if len(taken) >= self.limit else "closed",
                "automatic_actions_last_hour": len(taken),
                "next_slot_frees_at": (taken[0].taken_at + self._window).isoformat(),
            }
            for (account, region), taken in sorted(scopes.items())
        ]
        return {
            "state": "open" if any(place["state"] == "open" for place in places) else "closed",
            "automatic_actions_this_hour": sum(len(taken) for taken in scopes.values()),
            "max_actions_per_hour": self.limit,
            "scope": "per account and region, rolling hour",
            "places": places,
        }

    def _slots(self, target: Target, now: datetime) -> list[BreakerSlot]:
        """The slots of the target's account and region taken within the window, oldest first."""
        return [
            slot
            for slot in self._ledger.breaker_slots(since=now - self._window)
            if (slot.account, slot.region) == (target.account, target.region)
        ]


class _Slots:
    """The breaker's slots of one target's account and region, taken in the target's name."""

    def __init__(self, ledger: LedgerStore, target: Target, window: timedelta) -> None:
        self._ledger = ledger
        self._target = target
        self._window = window

    def take(self, slot: int, at: datetime) -> bool:
        target = self._target
        taken = BreakerSlot(target.account, target.region, slot, at, str(target))
        return self._ledger.take_breaker_slot(taken, window=self._window)
