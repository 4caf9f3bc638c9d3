"""An operator's run-time pause of one account's automatic enforcement (no AWS here).

While an account is paused, an automatic finding about a target in it is alerted once per pause and
changes nothing; the kill switch (an operator) still acts there. Unlike `cdk.json`'s per-account
`notifyOnly`, a pause needs no deploy: the kill switch's `pause` and `resume` write it to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: Who paused, when the request names no one (the invocation's CloudTrail record names the caller).
UNNAMED_OPERATOR = "an operator (unnamed)"


class PauseResult(StrEnum):
    """What a `pause` or `resume` request did to its account."""

    PAUSED = "paused"
    ALREADY_PAUSED = "already-paused"
    RESUMED = "resumed"
    NOT_PAUSED = "not-paused"


@dataclass(frozen=True)
class AccountPause:
    """One paused account: by whom, since when, why; `pause_id` tells one pause from the next."""

    account: str
    by: str
    since: datetime
    reason: str
    pause_id: str

    def describe(self) -> str:
        """`account 222222222222 paused by alice since 2026-11-28T02:00:00+00:00: drill` (one line)."""
        return f"account {self.account} paused by {self.by} since {self.since.isoformat()}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        """The pause as the kill switch's answers carry it."""
        return {
            "account": self.account,
            "by": self.by,
            "since": self.since.isoformat(),
            "reason": self.reason,
        }
