"""The resumable steps between ledger states: complete an action, finish a restore, re-apply on drift.

Each step is a conditional ledger transition on (state, record id, time entered) around one call
to the account, ordered so that a crash anywhere leaves a record the next request resumes from:
`applying` is applied again (or, once stale, rolled back by a restore), `restoring` is finished by
the next restore. No step writes the prior state: it is written once, by the claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from guardrail.alerts.events import Phase
from guardrail.domain import VOCABULARY, ActionRecord, AuditEntry, Outcome, Result, Status
from guardrail.enforcement.actions import TargetAction
from guardrail.enforcement.ports import LedgerStore
from guardrail.enforcement.report import Reporter
from guardrail.errors import AwsCallFailed, TargetNotFound

logger = logging.getLogger(__name__)

#: An `applying` or `restoring` record older than this was left by a crash: no Lambda invocation
#: (15 minutes at most) that wrote it can still be running.
STALE_AFTER = timedelta(minutes=15)


class Steps:
    """The transitions of a record, shared by findings, restores and reconciliation."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        report: Reporter,
        clock: Callable[[], datetime],
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self._ledger = ledger
        self._report = report
        self._clock = clock
        self._stale_after = stale_after

    def move(self, record: ActionRecord, to: Status, audit: AuditEntry | None = None) -> ActionRecord | None:
        """The record moved to `to` (with its audit line, atomically); None when another request was first."""
        at = self._clock()
        if not self._ledger.transition(record, to, at, audit=audit):
            return None
        if to is Status.RESTORED:
            return replace(record, status=to, restored_at=at)
        return replace(record, status=to, changed_at=at)

    def stale(self, record: ActionRecord) -> bool:
        """True when the record's state was left by a request that cannot still be running."""
        return self._clock() - record.since >= self._stale_after

    def complete(
        self, action: TargetAction, record: ActionRecord, *, claimed: bool, drift: bool = False
    ) -> Outcome:
        """Apply a record in `applying` and move it to applied; `claimed`: this request wrote it."""
        target, words = record.target, VOCABULARY[record.target.kind]
        try:
            report = action.apply(target, record.prior)
        except TargetNotFound:
            if claimed:
                self._release(record)
            self._report.audit(target, words.verb, Result.NOT_FOUND, record.detector, record.reason)
            return Outcome(target, Result.NOT_FOUND, detail=f"no such {target.kind.value}")
        except AwsCallFailed as exc:
            left = self._roll_back(action, record) if claimed else "the record stays applying"
            logger.error("%s of %s failed: %s", words.verb, target, exc)
            self._report.audit(target, words.verb, Result.ERROR, record.detector, record.reason, str(exc))
            self._report.alert(Phase.APPLY_FAILED, record, record.reason, self._clock(), error=str(exc))
            return Outcome(target, Result.ERROR, error=f"{words.verb} failed, {left}: {exc}")
        result, phase = (Result.DRIFT, Phase.DRIFT) if drift else (words.applied, Phase.APPLIED)
        detail = "; ".join(report.failures)  # what could not be done beside the change, which stands
        audit = self._report.entry(target, words.verb, result, record.detector, record.reason, detail)
        if self.move(record, Status.ENFORCED, audit) is None:
            return Outcome(target, words.already, "completed by another request", record.prior)
        sent, alert_error = self._report.alert(phase, record, record.reason, self._clock(), report=report)
        return Outcome(target, result, detail, record.prior, sent, alert_error)

    def take_over(self, action: TargetAction, record: ActionRecord) -> Outcome | None:
        """Complete an `applying` record another request left; None when a live request holds it."""
        mine = self.move(record, Status.APPLYING)
        return None if mine is None else self.complete(action, mine, claimed=False)

    def check_drift(self, action: TargetAction, record: ActionRecord, reason: str) -> Outcome | None:
        """Apply a held record again if its target runs; None when it is held as recorded."""
        target = record.target
        try:
            if action.holds(target):
                return None
        except TargetNotFound:
            detail = f"held, but the {target.kind.value} no longer exists; restore closes the record"
            return Outcome(target, Result.NOT_FOUND, detail=detail)
        except AwsCallFailed as exc:
            logger.error("could not check %s for drift: %s", target, exc)
            return None
        logger.warning("%s found running although held: applying it again (%s)", target, reason)
        fenced = self.move(record, Status.APPLYING)  # a restore that starts now must wait for it
        if fenced is None:
            return Outcome(target, Result.IN_PROGRESS, detail="the record changed under the drift check")
        return self.complete(action, fenced, claimed=False, drift=True)

    def finish_restore(self, action: TargetAction, record: ActionRecord, reason: str) -> Outcome:
        """Put back the prior state of a record in `restoring` and close it."""
        target, words = record.target, VOCABULARY[record.target.kind]
        try:
            action.put_back(target, record.prior)
        except TargetNotFound:
            detail = f"{target.kind.value} deleted"
            self.move(record, Status.RESTORED, self._entry(record, Result.NOT_FOUND, reason, detail))
            detail = f"{target.kind.value} no longer exists; record closed"
            return Outcome(target, Result.NOT_FOUND, detail=detail)
        except AwsCallFailed as exc:
            # still applied; should this write fail, the next restore finishes
            self.move(record, Status.ENFORCED, self._entry(record, Result.ERROR, reason, str(exc)))
            logger.error("restore of %s failed: %s", target, exc)
            self._report.alert(Phase.RESTORE_FAILED, record, reason, self._clock(), error=str(exc))
            return Outcome(target, Result.ERROR, error=f"restore failed, still {words.applied.value}: {exc}")
        if self.move(record, Status.RESTORED, self._entry(record, Result.RESTORED, reason)) is None:
            return Outcome(target, words.not_held, detail="restored concurrently by another request")
        sent, alert_error = self._report.alert(Phase.RESTORED, record, reason, self._clock())
        return Outcome(target, Result.RESTORED, "", record.prior, sent, alert_error)

    def _entry(self, record: ActionRecord, result: Result, reason: str, detail: str = "") -> AuditEntry:
        """The audit line of a restore step."""
        return self._report.entry(record.target, "restore", result, record.detector, reason, detail)

    def _roll_back(self, action: TargetAction, record: ActionRecord) -> str:
        """Undo a failed apply (it may have landed) and delete the claim; what is left, in words."""
        try:
            action.put_back(record.target, record.prior)
        except (TargetNotFound, AwsCallFailed) as exc:
            logger.error("roll-back of %s failed: %s", record.target, exc)
            return "the record stays applying: the next finding applies it again"
        if self._release(record):
            return f"{record.target.kind.value} left as it was"
        return "left as it was, the record stays applying: the next finding applies it again"

    def _release(self, record: ActionRecord) -> bool:
        try:
            return self._ledger.release(record)
        except AwsCallFailed as exc:
            logger.error("claim of %s not released: %s", record.target, exc)
            return False
