"""The circuit breaker: past N automatic actions in an hour, automatic enforcement turns notify-only.

The count is the ledger's hourly counter item (a conditional increment that never passes N), so it
holds across concurrent invocations. Only automatic actions are counted and limited: an operator's
(the kill switch's, detector `kill-switch` or `kill-switch:<what>`) never is. The first refusal of
an hour sends one loud `breaker-open` alert (once, by a signal mark).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from guardrail.alerts.events import Phase
from guardrail.domain import ActionRecord
from guardrail.enforcement.ports import LedgerStore
from guardrail.enforcement.report import Reporter

#: The kill switch's detector name: its actions are an operator's, never limited.
OPERATOR_DETECTOR = "kill-switch"
_SIGNAL_TTL_SECONDS = 2 * 3600


def is_operator(detector: str) -> bool:
    """True for an operator's action (the kill switch's throttle or panic)."""
    return detector == OPERATOR_DETECTOR or detector.startswith(f"{OPERATOR_DETECTOR}:")


def hour_of(at: datetime) -> datetime:
    """The start of the hour `at` falls in."""
    return at.replace(minute=0, second=0, microsecond=0)


class CircuitBreaker:
    """Admits at most `limit` automatic actions per hour."""

    def __init__(
        self, *, ledger: LedgerStore, report: Reporter, limit: int, clock: Callable[[], datetime]
    ) -> None:
        self._ledger = ledger
        self._report = report
        self.limit = limit
        self._clock = clock

    def admit(self, record: ActionRecord) -> bool:
        """Count an action about to be applied; False (and the breaker's alert, once) past the limit."""
        if is_operator(record.detector):
            return True
        hour = hour_of(self._clock())
        if self._ledger.count_action(hour, limit=self.limit):
            return True
        key = f"breaker-open#{hour:%Y-%m-%dT%H}"
        if self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=_SIGNAL_TTL_SECONDS):
            reason = (
                f"more than {self.limit} automatic actions since {hour:%H:%M} UTC: automatic"
                f" enforcement is notify-only until {hour + timedelta(hours=1):%H:%M} UTC;"
                " the kill switch still acts"
            )
            self._report.alert(Phase.BREAKER_OPEN, record, reason, self._clock())
        return False

    def state(self) -> dict[str, Any]:
        """The breaker for `status`: closed or open, this hour's automatic actions, the limit."""
        hour = hour_of(self._clock())
        counted = self._ledger.actions_counted(hour)
        return {
            "state": "open" if counted >= self.limit else "closed",
            "automatic_actions_this_hour": counted,
            "max_actions_per_hour": self.limit,
            "hour": hour.isoformat(),
        }
