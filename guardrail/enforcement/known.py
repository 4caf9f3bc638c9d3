"""Known conditions: a recurring condition is told once in full, then summarised in a daily digest.

An alert a person must read is one that needs a decision. A notice about a condition that recurs (the
nightly batch reading the same table in another region every night) is told in full the first time;
the same condition again, within `KNOWN_DAYS` of the last time it was seen, is counted in the day's
digest instead: one message a day at most, sent once the day (UTC, the guardrail's clock) is over.

What makes a condition the same is `Condition.parts` with the notice's detector, subject, account and
region: the caller CloudTrail named, the rule, what it read and where (never text a caller writes), so
another table, another region, another caller or another rule is a new condition and is told in full.
So is one `MUCH_LARGER` times the size last told (a cross-region query that moves four times the
bytes). Only notices carry a condition: a finding that acts (a throttle) is never digested. A
condition that only informs (`Condition.in_full` False: a trend over days) is told in the digest only.

The memory is one item per condition in the ledger table, with a TTL that each day's first recurrence
pushes back: a condition not seen for `KNOWN_DAYS` is forgotten, and told in full when it comes back.
Telling is a conditional write, so concurrent deliveries of a new condition tell it once; the digest of
a day is claimed with a conditional write too, so duplicate or concurrent triggers send one digest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.domain import Condition, Digest, DigestEntry, Notice

#: A condition not seen for this long is forgotten: two weeks and a day, so that a weekly one stays known.
KNOWN_DAYS = 15
#: An occurrence this many times the size last told is a new condition (as `overrun`'s size ratio).
MUCH_LARGER = 4
#: The entries a digest shows (the most frequent first); the rest are counted.
DIGEST_ENTRIES = 50
#: How long a day's recurrences are kept: until the digest has had its chance to be sent.
_DIGEST_TTL = timedelta(days=3)


def condition_key(notice: Notice, condition: Condition) -> str:
    """The condition's key: a hash of everything that makes it the same (bounded, whatever the names)."""
    parts = (notice.detector, notice.account, notice.region, notice.subject, *condition.parts)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class KnownStore(Protocol):
    """What known conditions need from the ledger (see `guardrail.adapters.ledger.known.KnownConditions`)."""

    def tell_condition(self, key: str, *, size: int, now: datetime, until: datetime, ratio: int) -> bool:
        """Record the condition as told now unless it is known (told, unexpired, size under `ratio` x)."""
        ...

    def forget_condition(self, key: str) -> None:
        """Forget a condition whose full alert was not sent."""
        ...

    def keep_condition(self, key: str, *, until: datetime) -> None:
        """Keep a known condition in memory until `until`."""
        ...

    def note_recurrence(self, day: str, key: str, notice: Notice, *, now: datetime, until: datetime) -> int:
        """Count one recurrence of a known condition in `day`'s digest; the day's count after it."""
        ...

    def recurrences(self, day: str, *, limit: int) -> tuple[list[DigestEntry], int]:
        """`day`'s recurrences (up to `limit`) and how many more there are."""
        ...

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal handled; False when it already was."""
        ...

    def release_signal(self, key: str) -> None:
        """Forget a signal whose action failed."""
        ...


@dataclass
class KnownConditions:
    """Tells a recurring condition once, counts its recurrences by day, and builds the day's digest."""

    store: KnownStore
    #: The last day this container found digested (the digest is claimed once per container and day).
    _digested: str = ""

    def tell(self, notice: Notice, now: datetime) -> bool:
        """True when the notice is to be told in full (new, forgotten or much larger); else counted."""
        condition = notice.condition
        if condition is None:
            return True
        key, until = condition_key(notice, condition), now + timedelta(days=KNOWN_DAYS)
        size = condition.size_bytes
        if condition.in_full and self.store.tell_condition(
            key, size=size, now=now, until=until, ratio=MUCH_LARGER
        ):
            return True
        day = f"{now:%Y-%m-%d}"
        first_today = self.store.note_recurrence(day, key, notice, now=now, until=now + _DIGEST_TTL) == 1
        if first_today and condition.in_full:
            self.store.keep_condition(key, until=until)  # the day's first recurrence keeps it known
        return False

    def untold(self, notice: Notice) -> None:
        """The full alert of a new condition was not sent: forget it, so that the next one tells it."""
        if notice.condition is not None:
            self.store.forget_condition(condition_key(notice, notice.condition))

    def due(self, now: datetime) -> Digest | None:
        """The previous day's digest, the first time it is asked for (None: claimed already, or empty).

        The caller sends it, and calls `unsent` if it could not.
        """
        day = f"{now - timedelta(days=1):%Y-%m-%d}"
        if self._digested == day:
            return None
        ttl = int(_DIGEST_TTL.total_seconds())
        if not self.store.claim_signal(_digest_signal(day), now=now, ttl_seconds=ttl):
            self._digested = day
            return None
        entries, more = self.store.recurrences(day, limit=DIGEST_ENTRIES)
        self._digested = day
        if not entries:
            return None
        return Digest(day, tuple(sorted(entries, key=lambda e: (-e.count, e.subject, e.summary))), more)

    def unsent(self, digest: Digest) -> None:
        """The digest was not sent: give its day back, so that the next trigger sends it."""
        self.store.release_signal(_digest_signal(digest.day))
        self._digested = ""


def _digest_signal(day: str) -> str:
    return f"digest:{day}"
