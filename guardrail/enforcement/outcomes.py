"""Results that enforcement reports, one per function."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
