"""The one path for every change to the account: exemptions, ledger, the action, audit, alert, undo."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from guardrail.alerts.render import AlertEvent, Phase, render, render_notice
from guardrail.domain import (
    VOCABULARY,
    ActionRecord,
    AuditEntry,
    Finding,
    Notice,
    Outcome,
    Result,
    Status,
    Target,
    TargetKind,
)
from guardrail.enforcement.actions import TargetAction
from guardrail.enforcement.policy import Decision, Exemptions, decide
from guardrail.enforcement.ports import AlertPublisher, LedgerStore
from guardrail.errors import AwsCallFailed, TargetNotFound

logger = logging.getLogger(__name__)

_CLAIM_ATTEMPTS = 3


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class Enforcer:
    """The single enforcement path that every detector and the kill switch go through.

    Each kind of target is acted on by its action (`guardrail.enforcement.actions`); the Enforcer
    decides, records, applies, audits, alerts and undoes the same way for all of them.
    """

    def __init__(
        self,
        *,
        actions: Iterable[TargetAction],
        ledger: LedgerStore,
        alerts: AlertPublisher,
        exemptions: Exemptions,
        notify_only: bool,
        region: str,
        kill_switch_function: str,
        clock: Callable[[], datetime] = utc_now,
        signal_ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self._actions = {action.kind: action for action in actions}
        self._ledger = ledger
        self._alerts = alerts
        self._exemptions = exemptions
        self._notify_only = notify_only
        self._region = region
        self._kill_switch_function = kill_switch_function
        self._clock = clock
        self._signal_ttl = signal_ttl_seconds

    @property
    def notify_only(self) -> bool:
        """True when findings are recorded and alerted but targets are left untouched."""
        return self._notify_only

    def enforce(self, finding: Finding) -> Outcome:
        """Apply a finding: act on (or flag) its target once, however often it arrives."""
        key = finding.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Outcome(finding.target, Result.DUPLICATE, detail=f"signal {key} was already handled")
        try:
            outcome = self._enforce(finding)
        except BaseException:
            if key:
                self._ledger.release_signal(key)
            raise
        if key and outcome.result is Result.ERROR:
            self._ledger.release_signal(key)
        return outcome

    def restore(self, target: Target, *, reason: str = "operator request") -> Outcome:
        """Put back exactly the state the target had before the guardrail's first action."""
        action, words = self._actions[target.kind], VOCABULARY[target.kind]
        record = self._ledger.get(target)
        if record is None or not record.active:
            return self._not_held(action, target)
        now = self._clock()
        if not self._ledger.mark_restored(record, now):
            return Outcome(target, words.not_held, detail="restored concurrently by another request")
        if record.status is Status.FLAGGED:
            self._audit(target, "restore", Result.CLEARED, record.detector, reason)
            sent, alert_error = self._alert(Phase.CLEARED, record, reason, now)
            return Outcome(target, Result.CLEARED, "", record.prior, sent, alert_error)
        try:
            action.put_back(target.name, record.prior)
        except TargetNotFound:
            detail = f"{target.kind.value} deleted"
            self._audit(target, "restore", Result.NOT_FOUND, record.detector, reason, detail)
            return Outcome(
                target, Result.NOT_FOUND, detail=f"{target.kind.value} no longer exists; record closed"
            )
        except AwsCallFailed as exc:
            self._ledger.reopen(record)
            logger.error("restore of %s failed: %s", target, exc)
            self._audit(target, "restore", Result.ERROR, record.detector, reason, str(exc))
            self._alert(Phase.RESTORE_FAILED, record, reason, now, error=str(exc))
            return Outcome(target, Result.ERROR, error=f"restore failed, still {words.applied.value}: {exc}")
        self._audit(target, "restore", Result.RESTORED, record.detector, reason)
        sent, alert_error = self._alert(Phase.RESTORED, record, reason, now)
        return Outcome(target, Result.RESTORED, "", record.prior, sent, alert_error)

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every target (of one kind, or all) the guardrail currently holds, applied or flagged."""
        return self._ledger.active(kind)

    def notify(self, notice: Notice) -> Result:
        """Send a notice once per dedupe key; nothing in the account changes.

        A notice that was not sent, for whatever reason, gives its key back: the next signal of the
        period alerts, rather than the failure silencing the period.
        """
        key = notice.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Result.ALREADY_ALERTED
        try:
            self._alerts.publish(render_notice(notice, region=self._region))
        except BaseException as exc:
            if key:
                self._ledger.release_signal(key)
            if not isinstance(exc, AwsCallFailed):
                raise
            logger.exception("notice about %s not sent", notice.subject)
            return Result.ERROR
        return Result.ALERTED

    def _enforce(self, finding: Finding) -> Outcome:
        target = finding.target
        action, words = self._actions[target.kind], VOCABULARY[target.kind]
        for _ in range(_CLAIM_ATTEMPTS):
            read_at = self._clock()
            try:
                facts = action.read(target.name)
            except TargetNotFound:
                self._audit(target, words.verb, Result.NOT_FOUND, finding.detector, finding.reason)
                detail = f"no such {target.kind.value} in this account and region"
                return Outcome(target, Result.NOT_FOUND, detail=detail)
            decision = decide(facts, exemptions=self._exemptions, notify_only=self._notify_only)
            if decision.exempt:
                self._audit(
                    target, words.verb, Result.EXEMPT, finding.detector, finding.reason, decision.value
                )
                return Outcome(target, Result.EXEMPT, detail=decision.value)
            record = ActionRecord(
                target=target,
                status=Status.FLAGGED if decision is Decision.NOTIFY_ONLY else Status.ENFORCED,
                prior=facts.prior,
                record_id=uuid.uuid4().hex,
                acted_at=read_at,
                detector=finding.detector,
                reason=finding.reason,
                evidence=finding.evidence,
            )
            standing = self._ledger.claim(record, facts_read_at=read_at)
            if standing is None:
                return self._apply(action, record)
            if standing.active:
                result = words.already if standing.status is Status.ENFORCED else Result.ALREADY_FLAGGED
                detail = f"since {standing.acted_at.isoformat()} by {standing.detector}"
                return Outcome(target, result, detail=detail, prior=standing.prior)
            # restored after we read the target: read it again before claiming
        return Outcome(target, Result.ERROR, error="ledger record kept changing; try again")

    def _apply(self, action: TargetAction, record: ActionRecord) -> Outcome:
        target, words = record.target, VOCABULARY[record.target.kind]
        if record.status is Status.FLAGGED:
            self._audit(target, words.verb, words.would, record.detector, record.reason)
            sent, alert_error = self._alert(Phase.WOULD_APPLY, record, record.reason, record.acted_at)
            return Outcome(target, words.would, "notify-only", record.prior, sent, alert_error)
        try:
            action.apply(target.name)
        except (TargetNotFound, AwsCallFailed) as exc:
            self._ledger.release(target, record.record_id)
            logger.error("%s of %s failed: %s", words.verb, target, exc)
            self._audit(target, words.verb, Result.ERROR, record.detector, record.reason, str(exc))
            self._alert(Phase.APPLY_FAILED, record, record.reason, record.acted_at, error=str(exc))
            error = f"{words.verb} failed, {target.kind.value} left as it was: {exc}"
            return Outcome(target, Result.ERROR, error=error)
        self._audit(target, words.verb, words.applied, record.detector, record.reason)
        sent, alert_error = self._alert(Phase.APPLIED, record, record.reason, record.acted_at)
        return Outcome(target, words.applied, "", record.prior, sent, alert_error)

    def _not_held(self, action: TargetAction, target: Target) -> Outcome:
        try:
            action.read(target.name)
        except TargetNotFound:
            return Outcome(
                target, Result.NOT_FOUND, detail=f"no such {target.kind.value}; nothing to restore"
            )
        return Outcome(target, VOCABULARY[target.kind].not_held)

    def _alert(
        self, phase: Phase, record: ActionRecord, reason: str, at: datetime, error: str | None = None
    ) -> tuple[bool, str | None]:
        alert = render(
            AlertEvent(
                phase=phase,
                target=record.target,
                detector=record.detector,
                reason=reason,
                at=at,
                region=self._region,
                kill_switch_function=self._kill_switch_function,
                prior=record.prior,
                evidence=record.evidence,
                error=error,
            )
        )
        try:
            self._alerts.publish(alert)
        except AwsCallFailed as exc:
            failure = f"alert not sent: {exc}"
            logger.error("%s for %s (%s)", failure, record.target, phase.value)
            self._audit(record.target, "alert", Result.ERROR, record.detector, reason, failure)
            return False, failure
        return True, None

    def _audit(  # noqa: PLR0917 - one audit line's fields, in the order they read
        self, target: Target, action: str, result: Result, detector: str, reason: str, detail: str = ""
    ) -> None:
        entry = AuditEntry(target, action, result.value, self._clock(), detector, reason, detail)
        try:
            self._ledger.append_audit(entry)
        except AwsCallFailed:
            logger.exception("audit entry lost from the table, kept in this log: %s", entry)
