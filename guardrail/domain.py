"""The domain: findings, facts about functions, ledger records, outcomes. No AWS here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Finding:
    """A reason to throttle one Lambda function.

    `dedupe_key` identifies the signal behind the finding (for example an EventBridge
    event id), so that a second delivery of the same signal never acts twice.
    """

    function: str
    detector: str
    reason: str
    observed_at: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


@dataclass(frozen=True)
class FunctionFacts:
    """What the guardrail knows about a function before acting on it."""

    name: str
    reserved_concurrency: int | None
    tags: Mapping[str, str] = field(default_factory=dict)


class Status(StrEnum):
    """State of a function's throttle record."""

    THROTTLED = "throttled"
    FLAGGED = "flagged"  # notify-only: recorded and alerted, function untouched
    RESTORED = "restored"


@dataclass(frozen=True)
class ThrottleRecord:
    """What the guardrail did to a function, and what it had before."""

    function: str
    status: Status
    prior_reservation: int | None
    throttle_id: str
    throttled_at: datetime
    detector: str
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    restored_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True while the function is throttled or flagged."""
        return self.status is not Status.RESTORED


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail."""

    function: str
    action: str
    result: str
    at: datetime
    detector: str = ""
    reason: str = ""
    detail: str = ""


class Result(StrEnum):
    """What happened to one function."""

    THROTTLED = "throttled"
    ALREADY_THROTTLED = "already-throttled"
    EXEMPT = "exempt"
    NOT_FOUND = "not-found"
    RESTORED = "restored"
    NOT_THROTTLED = "not-throttled"
    # notify-only equivalents: the guardrail records and alerts but never touches the function
    WOULD_THROTTLE = "would-throttle"
    ALREADY_FLAGGED = "already-flagged"
    CLEARED = "cleared"
    # a second delivery of a signal that was already acted on
    DUPLICATE = "duplicate"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    """The result for one function, with what an operator needs to know about it."""

    function: str
    result: Result
    detail: str = ""
    prior_reservation: int | None = None
    alert_sent: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Render for the kill switch's JSON answer."""
        out: dict[str, Any] = {"function": self.function, "result": self.result.value}
        if self.detail:
            out["detail"] = self.detail
        if self.result in (Result.THROTTLED, Result.WOULD_THROTTLE, Result.RESTORED, Result.CLEARED):
            out["prior_reservation"] = self.prior_reservation
            out["alert_sent"] = self.alert_sent
        if self.error:
            out["error"] = self.error
        return out
