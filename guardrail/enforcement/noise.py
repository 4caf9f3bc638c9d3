"""How many alerts that change nothing (unverified, informational) one detector may send an hour.

A forged or noisy signal chooses the names it carries, so a bound per name bounds nothing: 400 events
naming 400 invented functions were 400 alerts. The bound is per detector and per hour of the
guardrail's own clock: up to `per_hour` alerts; the next one is a single summary for the rest of the
hour; the others are counted, not alerted, and the detector's first alert of the next hour says how
many there were.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.domain import Notice

#: The default: enough for every genuine unverified signal of a bad hour, few enough to read.
NOTICES_PER_HOUR = 20
_TTL_SECONDS = 3 * 3600  # the next hour reads the count of the last


class NoiseCounter(Protocol):
    """Counts that outlive one invocation (see `guardrail.adapters.ledger.signals.SignalMarks`)."""

    def count_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> int:
        """Count one more under `key`; the count after it."""
        ...

    def signals_counted(self, key: str) -> int:
        """The count under `key` (0: none)."""
        ...


@dataclass(frozen=True)
class NoiseBound:
    """At most `per_hour` alerts a detector's hour, then one summary; the rest counted."""

    counter: NoiseCounter
    per_hour: int = NOTICES_PER_HOUR

    def admit(self, notice: Notice, now: datetime) -> Notice | None:
        """The alert to send for `notice` now: itself, or the hour's summary; None: counted, not alerted."""
        count = self.counter.count_signal(_key(notice.detector, now), now=now, ttl_seconds=_TTL_SECONDS)
        if count == 1:
            return self._with_last_hour(notice, now)
        if count <= self.per_hour:
            return notice
        if count == self.per_hour + 1:
            return self._summary(notice, now)
        return None

    def _with_last_hour(self, notice: Notice, now: datetime) -> Notice:
        before = now - timedelta(hours=1)
        unsent = self.counter.signals_counted(_key(notice.detector, before)) - self.per_hour - 1
        if unsent <= 0:
            return notice
        note = f"{unsent} more {notice.detector} signals in the hour from {before:%H}:00 UTC were not alerted"
        return replace(
            notice, reason=f"{notice.reason} ({note})", evidence={**notice.evidence, "not_alerted": unsent}
        )

    def _summary(self, notice: Notice, now: datetime) -> Notice:
        return Notice(
            subject=f"{notice.detector} alerts",
            detector=notice.detector,
            reason=(
                f"{self.per_hour} alerts that change nothing were sent this hour ({now:%H}:00 UTC) by"
                f" {notice.detector}; this one ({notice.subject}) and the rest of the hour's are counted,"
                " not alerted one by one: the detector's first alert of the next hour gives their number"
            ),
            observed_at=notice.observed_at,
            evidence={"latest": notice.subject, "limit_per_hour": self.per_hour},
            dedupe_key=None,
            doubt=notice.doubt
            and f"more than {self.per_hour} unverified {notice.detector} signals this hour: summarized here",
            account=notice.account,
            region=notice.region,
        )


def _key(detector: str, at: datetime) -> str:
    return f"notices:{detector}:{at:%Y-%m-%dT%H}"
