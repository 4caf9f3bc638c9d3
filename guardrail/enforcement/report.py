"""How the enforcement path tells: one audit line per step, one alert per action, neither ever fatal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from guardrail.alerts.render import AlertEvent, Phase, render
from guardrail.domain import ActionRecord, AuditEntry, Result, Target
from guardrail.enforcement.ports import AlertPublisher, LedgerStore
from guardrail.errors import AwsCallFailed
from guardrail.prior_state import ActionReport

logger = logging.getLogger(__name__)


class Reporter:
    """Writes the audit trail and sends alerts; a failure of either is logged and audited, never raised."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        alerts: AlertPublisher,
        region: str,
        kill_switch_function: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._ledger = ledger
        self._alerts = alerts
        self.region = region
        self._kill_switch_function = kill_switch_function
        self._clock = clock

    def alert(
        self,
        phase: Phase,
        record: ActionRecord,
        reason: str,
        at: datetime,
        error: str | None = None,
        *,
        report: ActionReport | None = None,
    ) -> tuple[bool, str | None]:
        """Send the alert of one step on a record; (sent, why not)."""
        alert = render(
            AlertEvent(
                phase=phase,
                target=record.target,
                detector=record.detector,
                reason=reason,
                at=at,
                region=self.region,
                kill_switch_function=self._kill_switch_function,
                prior=record.prior,
                evidence=record.evidence,
                error=error,
                report=report or ActionReport(),
            )
        )
        try:
            self._alerts.publish(alert)
        except AwsCallFailed as exc:
            failure = f"alert not sent: {exc}"
            logger.error("%s for %s (%s)", failure, record.target, phase.value)
            self.audit(record.target, "alert", Result.ERROR, record.detector, reason, failure)
            return False, failure
        return True, None

    def entry(  # noqa: PLR0917 - one audit line's fields, in the order they read
        self, target: Target, action: str, result: Result, detector: str, reason: str, detail: str = ""
    ) -> AuditEntry:
        """One audit line, stamped now (for a ledger transition to write with itself)."""
        return AuditEntry(target, action, result.value, self._clock(), detector, reason, detail)

    def audit(  # noqa: PLR0917 - one audit line's fields, in the order they read
        self, target: Target, action: str, result: Result, detector: str, reason: str, detail: str = ""
    ) -> None:
        """Append one line to the audit trail (kept in the log when the table refuses it)."""
        entry = self.entry(target, action, result, detector, reason, detail)
        try:
            self._ledger.append_audit(entry)
        except AwsCallFailed:
            logger.exception("audit entry lost from the table, kept in this log: %s", entry)
