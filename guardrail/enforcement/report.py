"""How the enforcement path tells: one audit line per step, one alert per action, neither ever fatal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from guardrail.account_pause import AccountPause
from guardrail.alerts.events import AlertEvent, Phase
from guardrail.alerts.render import render
from guardrail.domain import VOCABULARY, ActionRecord, AuditEntry, Finding, Outcome, Result, Status, Target
from guardrail.enforcement.ports import AlertPublisher, LedgerStore
from guardrail.errors import AwsCallFailed
from guardrail.prior_state import ActionReport
from guardrail.scope import Scope

logger = logging.getLogger(__name__)


class Reporter:
    """Writes the audit trail and sends alerts; a failure of either is logged and audited, never raised."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        alerts: AlertPublisher,
        home: Scope,
        kill_switch_function: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._ledger = ledger
        self._alerts = alerts
        self.home = home
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
        pause: AccountPause | None = None,
    ) -> tuple[bool, str | None]:
        """Send the alert of one step on a record (or of a finding `pause` held back); (sent, why not)."""
        alert = render(
            AlertEvent(
                phase=phase,
                target=record.target,
                detector=record.detector,
                reason=reason,
                at=at,
                region=record.target.region or self.home.region,
                kill_switch_function=self._kill_switch_function,
                home=self.home,
                prior=record.prior,
                evidence=record.evidence,
                error=error,
                report=report or ActionReport(),
                pause=pause,
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

    def unreadable(self, finding: Finding, exc: AwsCallFailed) -> Outcome:
        """A target that could not be read: nothing recorded or changed; audited and alerted as failed."""
        target, now = finding.target, self._clock()
        verb = VOCABULARY[target.kind].verb
        logger.error("could not read %s (%s) before acting: %s", target, target.where, exc)
        self.audit(target, verb, Result.ERROR, finding.detector, finding.reason, str(exc))
        unrecorded = ActionRecord(
            target=target,
            status=Status.APPLYING,
            prior=None,
            record_id="-",
            acted_at=now,
            detector=finding.detector,
            reason=finding.reason,
            evidence=finding.evidence,
        )
        sent, _ = self.alert(Phase.APPLY_FAILED, unrecorded, finding.reason, now, error=str(exc))
        return Outcome(
            target, Result.ERROR, detail=f"{target.where}: not read", alert_sent=sent, error=str(exc)
        )

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
