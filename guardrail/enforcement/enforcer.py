"""Applies findings and restores: exemptions, ledger, reserved concurrency, audit, alert."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from guardrail.alerts.render import AlertEvent, EventType, render
from guardrail.config import Settings
from guardrail.domain import AuditEntry, Finding, Outcome, Result, Status, ThrottleRecord
from guardrail.enforcement.policy import Decision, decide
from guardrail.enforcement.ports import AlertPublisher, FunctionControl, LedgerStore
from guardrail.errors import FunctionNotFound

logger = logging.getLogger(__name__)

AwsError = (ClientError, BotoCoreError)
_CLAIM_ATTEMPTS = 3


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class Enforcer:
    """The single enforcement path that every detector and the kill switch go through."""

    def __init__(
        self,
        *,
        settings: Settings,
        functions: FunctionControl,
        ledger: LedgerStore,
        alerts: AlertPublisher,
        clock: Callable[[], datetime] = utc_now,
        signal_ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self._settings = settings
        self._functions = functions
        self._ledger = ledger
        self._alerts = alerts
        self._clock = clock
        self._signal_ttl = signal_ttl_seconds

    @property
    def notify_only(self) -> bool:
        """True when findings are recorded and alerted but functions are left running."""
        return self._settings.notify_only

    def throttle(self, finding: Finding) -> Outcome:
        """Apply a finding: throttle (or flag) its function once, however often it arrives."""
        key = finding.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Outcome(finding.function, Result.DUPLICATE, detail=f"signal {key} was already handled")
        try:
            outcome = self._throttle(finding)
        except BaseException:
            if key:
                self._ledger.release_signal(key)
            raise
        if key and outcome.result is Result.ERROR:
            self._ledger.release_signal(key)
        return outcome

    def restore(self, function: str, *, reason: str = "operator request") -> Outcome:
        """Put back exactly the reservation the function had before its first throttle."""
        record = self._ledger.get(function)
        if record is None or not record.active:
            return Outcome(function, Result.NOT_THROTTLED)
        now = self._clock()
        if not self._ledger.mark_restored(record, now):
            return Outcome(function, Result.NOT_THROTTLED, detail="restored concurrently by another request")
        if record.status is Status.FLAGGED:
            self._audit(function, "restore", Result.CLEARED, record.detector, reason)
            sent, alert_error = self._alert(EventType.CLEARED, record, reason, now)
            return Outcome(function, Result.CLEARED, "", record.prior_reservation, sent, alert_error)
        try:
            if record.prior_reservation is None:
                self._functions.clear_reserved(function)
            else:
                self._functions.set_reserved(function, record.prior_reservation)
        except AwsError as exc:
            if _is_not_found(exc):
                self._audit(
                    function, "restore", Result.NOT_FOUND, record.detector, reason, "function deleted"
                )
                return Outcome(function, Result.NOT_FOUND, detail="function no longer exists; record closed")
            self._ledger.reopen(record)
            error = describe_error(exc)
            logger.error("restore of %s failed: %s", function, error)
            self._audit(function, "restore", Result.ERROR, record.detector, reason, error)
            self._alert(EventType.RESTORE_FAILED, record, reason, now, error=error)
            return Outcome(function, Result.ERROR, error=f"restore failed, still throttled: {error}")
        self._audit(function, "restore", Result.RESTORED, record.detector, reason)
        sent, alert_error = self._alert(EventType.RESTORED, record, reason, now)
        return Outcome(function, Result.RESTORED, "", record.prior_reservation, sent, alert_error)

    def active(self) -> list[ThrottleRecord]:
        """Every function the guardrail currently holds throttled or flagged."""
        return self._ledger.active()

    def _throttle(self, finding: Finding) -> Outcome:
        name = finding.function
        for _ in range(_CLAIM_ATTEMPTS):
            read_at = self._clock()
            try:
                facts = self._functions.facts(name)
            except FunctionNotFound:
                self._audit(name, "throttle", Result.NOT_FOUND, finding.detector, finding.reason)
                return Outcome(name, Result.NOT_FOUND, detail="no such function in this account and region")
            decision = decide(
                facts,
                name_prefix=self._settings.name_prefix,
                exempt_names=self._settings.exempt_functions,
                notify_only=self._settings.notify_only,
            )
            if decision.exempt:
                self._audit(name, "throttle", Result.EXEMPT, finding.detector, finding.reason, decision.value)
                return Outcome(name, Result.EXEMPT, detail=decision.value)
            record = ThrottleRecord(
                function=name,
                status=Status.FLAGGED if decision is Decision.NOTIFY_ONLY else Status.THROTTLED,
                prior_reservation=facts.reserved_concurrency,
                throttle_id=uuid.uuid4().hex,
                throttled_at=read_at,
                detector=finding.detector,
                reason=finding.reason,
                evidence=finding.evidence,
            )
            standing = self._ledger.claim(record, facts_read_at=read_at)
            if standing is None:
                return self._apply(record)
            if standing.active:
                result = (
                    Result.ALREADY_THROTTLED
                    if standing.status is Status.THROTTLED
                    else Result.ALREADY_FLAGGED
                )
                detail = f"since {standing.throttled_at.isoformat()} by {standing.detector}"
                return Outcome(name, result, detail=detail, prior_reservation=standing.prior_reservation)
            # restored after we read the function: read it again before claiming
        return Outcome(name, Result.ERROR, error="ledger record kept changing; try again")

    def _apply(self, record: ThrottleRecord) -> Outcome:
        name = record.function
        if record.status is Status.FLAGGED:
            self._audit(name, "throttle", Result.WOULD_THROTTLE, record.detector, record.reason)
            sent, alert_error = self._alert(
                EventType.WOULD_THROTTLE, record, record.reason, record.throttled_at
            )
            return Outcome(
                name, Result.WOULD_THROTTLE, "notify-only", record.prior_reservation, sent, alert_error
            )
        try:
            self._functions.set_reserved(name, 0)
        except AwsError as exc:
            self._ledger.release(name, record.throttle_id)
            error = describe_error(exc)
            logger.error("throttle of %s failed: %s", name, error)
            self._audit(name, "throttle", Result.ERROR, record.detector, record.reason, error)
            self._alert(EventType.THROTTLE_FAILED, record, record.reason, record.throttled_at, error=error)
            return Outcome(name, Result.ERROR, error=f"throttle failed, function still running: {error}")
        self._audit(name, "throttle", Result.THROTTLED, record.detector, record.reason)
        sent, alert_error = self._alert(EventType.THROTTLED, record, record.reason, record.throttled_at)
        return Outcome(name, Result.THROTTLED, "", record.prior_reservation, sent, alert_error)

    def _alert(
        self,
        event_type: EventType,
        record: ThrottleRecord,
        reason: str,
        at: datetime,
        error: str | None = None,
    ) -> tuple[bool, str | None]:
        alert = render(
            AlertEvent(
                event_type=event_type,
                function=record.function,
                detector=record.detector,
                reason=reason,
                at=at,
                region=self._settings.region,
                kill_switch_function=self._settings.kill_switch_function,
                prior_reservation=record.prior_reservation,
                evidence=record.evidence,
                error=error,
            )
        )
        try:
            self._alerts.publish(alert)
        except AwsError as exc:
            failure = f"alert not sent: {describe_error(exc)}"
            logger.error("%s for %s (%s)", failure, record.function, event_type.value)
            self._audit(record.function, "alert", Result.ERROR, record.detector, reason, failure)
            return False, failure
        return True, None

    def _audit(  # noqa: PLR0917 - one audit line's fields, in the order they read
        self, function: str, action: str, result: Result, detector: str, reason: str, detail: str = ""
    ) -> None:
        entry = AuditEntry(function, action, result.value, self._clock(), detector, reason, detail)
        try:
            self._ledger.append_audit(entry)
        except AwsError:
            logger.exception("audit entry lost from the table, kept in this log: %s", entry)


def _is_not_found(exc: Exception) -> bool:
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
    )


def describe_error(exc: Exception) -> str:
    """One line naming an AWS error's code and message."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"
    return f"{type(exc).__name__}: {exc}"
