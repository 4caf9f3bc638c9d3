"""What an alert is about: an action's phase and the event of one action on a target (no rendering)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrail.account_pause import AccountPause
from guardrail.domain import VOCABULARY, Target, TargetKind
from guardrail.prior_state import ActionReport, PriorState
from guardrail.scope import Scope, function_arn


class Phase(StrEnum):
    """Where an action stands; with the target's kind it gives the alert's `event_type`."""

    APPLIED = "applied"  # throttled, disabled
    WOULD_APPLY = "would-apply"  # would-throttle, would-disable (notify-only)
    RESTORED = "restored"
    LEFT_AS_IS = "left-as-is"  # a restore let go of a target changed while held, without putting it back
    CLEARED = "cleared"
    APPLY_FAILED = "apply-failed"  # throttle-failed, disable-failed
    RESTORE_FAILED = "restore-failed"
    DRIFT = "drift"  # a held target found running again, stopped again (prior state kept)
    BREAKER_OPEN = "breaker-open"  # too many automatic actions this hour: automatic ones notify-only
    ACCOUNT_PAUSED = "account-paused"  # an operator paused an account's automatic enforcement
    ACCOUNT_RESUMED = "account-resumed"  # ... and resumed it (`guardrail.alerts.pause_alert`)


@dataclass(frozen=True)
class AlertEvent:
    """An action the guardrail took (or would have taken) on one target."""

    phase: Phase
    target: Target
    detector: str
    reason: str
    at: datetime
    region: str  # where the target is
    kill_switch_function: str
    prior: PriorState = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    report: ActionReport = field(default_factory=ActionReport)
    #: Where the kill switch runs (None: in `region`, the target's account).
    home: Scope | None = None
    #: Set: a finding in this paused account, alerted and not applied (phase `WOULD_APPLY`).
    pause: AccountPause | None = None

    @property
    def kill_switch_region(self) -> str:
        """The region the undo commands invoke the kill switch in."""
        return self.home.region if self.home else self.region

    @property
    def target_ref(self) -> str:
        """How the kill switch names the target: its name at home, else its ARN."""
        target, home = self.target, self.home
        if home is None or not target.account or home.is_home(target.account, self.region):
            return target.name
        if target.kind is TargetKind.FUNCTION:
            return function_arn(home.partition, target.account, self.region, target.name)
        return f"arn:{home.partition}:athena:{self.region}:{target.account}:workgroup/{target.name}"

    @property
    def event_type(self) -> str:
        """The `event_type` of the alert: `throttled`, `disable-failed`, `restored`, ..."""
        words = VOCABULARY[self.target.kind]
        return {
            Phase.APPLIED: words.applied.value,
            Phase.WOULD_APPLY: words.would.value,
            Phase.APPLY_FAILED: f"{words.verb}-failed",
        }.get(self.phase, self.phase.value)
