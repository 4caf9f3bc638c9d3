r"""A target's ledger record from its first claim to its restore: states, events, transitions, steps.

This module is the one place the record's state machine is written. Every move is a conditional
write on the record as the mover read it (state, id and `since`), so two requests never both move
it, and no move ever overwrites a held record's prior state. `TRANSITIONS` is the whole table;
`Lifecycle.move` refuses any move it does not list.

```
(none | restored) --claim--> applying --applied--> throttled --begin restore--> restoring
restoring --restored--> restored
(none | restored) --flag (notify-only)--> flagged --clear (restore)--> restored
applying --flag (the breaker refuses)--> flagged --enforce (the breaker admits, or an operator)--> applying
applying --take over--> applying        applying --roll back--> (record deleted)
applying --begin restore (an operator's word is final)--> restoring
throttled --drift--> applying           restoring --restore failed--> throttled
restoring --begin restore (another restore)--> restoring
restoring --take over (an operator's throttle)--> applying
```

No state but restored is terminal:
- `applying` and `restoring` are finished by the request that moved there, by the next request
  about the target, or, once stale (left by a crash), by the scheduled reconciliation;
- `throttled` is reconciled with the target (found running: drift, applied again, prior kept);
- `flagged` is re-evaluated by every later finding about the target and, when the circuit breaker
  held it back, by the scheduled reconciliation: it is enforced as soon as the breaker admits it,
  with an alert that says why it waited;
- an operator (the kill switch) acts on a record in any state: a throttle takes over a flagged,
  applying or restoring record, a restore takes over an applying one; the record then names the
  operator (detector, reason, evidence), never losing the prior state it holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from guardrail.alerts.events import Phase
from guardrail.domain import (
    VOCABULARY,
    ActionRecord,
    AuditEntry,
    Finding,
    Outcome,
    Result,
    Status,
    Takeover,
    TargetFacts,
)
from guardrail.enforcement.actions import TargetAction
from guardrail.enforcement.breaker import CircuitBreaker, is_operator
from guardrail.enforcement.ports import LedgerStore
from guardrail.enforcement.report import Reporter
from guardrail.errors import AwsCallFailed, GuardrailError, TargetNotFound

logger = logging.getLogger(__name__)

#: An `applying` or `restoring` record older than this was left by a crash: no Lambda invocation
#: (15 minutes at most) that wrote it can still be running.
STALE_AFTER = timedelta(minutes=15)


class Event(StrEnum):
    """What moves a record from one state to another."""

    CLAIM = "claim"  # a finding about a target that has no held record
    FLAG = "flag"  # a finding recorded but not applied: notify-only, or the circuit breaker refused it
    APPLIED = "applied"  # the action landed
    ROLL_BACK = "roll-back"  # the action failed and was undone: the claim is deleted
    TAKE_OVER = "take-over"  # another request's applying (or an operator's throttle of a restoring) record
    ENFORCE = "enforce"  # a flagged record applied: the breaker admits it now, or an operator asks
    DRIFT = "drift"  # a held target found running: applied again, prior kept
    BEGIN_RESTORE = "begin-restore"  # a restore starts (or takes over another's, or an applying one)
    RESTORED = "restored"  # the prior state is back
    RESTORE_FAILED = "restore-failed"  # the prior state could not be put back: still applied
    CLEAR = "clear"  # a restore of a flagged record: nothing to put back


#: Every allowed move: (state, event) -> the next state; None: the record is deleted. A target with no
#: record is in `restored`, as a restored one is.
TRANSITIONS: Mapping[tuple[Status, Event], Status | None] = {
    (Status.RESTORED, Event.CLAIM): Status.APPLYING,
    (Status.RESTORED, Event.FLAG): Status.FLAGGED,
    (Status.APPLYING, Event.APPLIED): Status.ENFORCED,
    (Status.APPLYING, Event.ROLL_BACK): None,
    (Status.APPLYING, Event.FLAG): Status.FLAGGED,
    (Status.APPLYING, Event.TAKE_OVER): Status.APPLYING,
    (Status.APPLYING, Event.BEGIN_RESTORE): Status.RESTORING,
    (Status.ENFORCED, Event.DRIFT): Status.APPLYING,
    (Status.ENFORCED, Event.BEGIN_RESTORE): Status.RESTORING,
    (Status.FLAGGED, Event.ENFORCE): Status.APPLYING,
    (Status.FLAGGED, Event.CLEAR): Status.RESTORED,
    (Status.RESTORING, Event.RESTORED): Status.RESTORED,
    (Status.RESTORING, Event.RESTORE_FAILED): Status.ENFORCED,
    (Status.RESTORING, Event.BEGIN_RESTORE): Status.RESTORING,
    (Status.RESTORING, Event.TAKE_OVER): Status.APPLYING,
}


class IllegalTransition(GuardrailError):
    """A move that `TRANSITIONS` does not allow (a defect in the caller, never an AWS condition)."""


def next_state(status: Status, event: Event) -> Status | None:
    """The state `event` moves a record in `status` to; raises IllegalTransition when it may not."""
    if (status, event) not in TRANSITIONS:
        raise IllegalTransition(f"a record in {status.value} cannot take {event.value}")
    return TRANSITIONS[(status, event)]


class Lifecycle:
    """The steps of a record, shared by findings, the kill switch and reconciliation."""

    def __init__(
        self,
        *,
        ledger: LedgerStore,
        report: Reporter,
        breaker: CircuitBreaker,
        clock: Callable[[], datetime],
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self._ledger = ledger
        self._report = report
        self._breaker = breaker
        self._clock = clock
        self._stale_after = stale_after

    def move(
        self,
        record: ActionRecord,
        event: Event,
        audit: AuditEntry | None = None,
        takeover: Takeover | None = None,
    ) -> ActionRecord | None:
        """The record after `event` (with its audit line, atomically); None when another request was first."""
        to = next_state(record.status, event)
        if to is None or (event in (Event.CLAIM, Event.FLAG) and record.status is Status.RESTORED):
            raise IllegalTransition(f"{event.value} of a {record.status.value} record is a claim, not a move")
        at = self._clock()
        if not self._ledger.transition(record, to, at, audit=audit, takeover=takeover):
            return None
        if takeover is not None:
            record = replace(record, detector=takeover.detector, reason=takeover.reason)
            record = replace(record, evidence=takeover.evidence)
            if takeover.prior_read:
                record = replace(record, prior=takeover.prior)
        if to is Status.RESTORED:
            return replace(record, status=to, restored_at=at, moves=record.moves + 1)
        return replace(record, status=to, changed_at=at, moves=record.moves + 1)

    def stale(self, record: ActionRecord) -> bool:
        """True when the record's state was left by a request that cannot still be running."""
        return self._clock() - record.since >= self._stale_after

    # -- a finding (automatic or an operator's) -------------------------------------------------

    def claim(self, action: TargetAction, record: ActionRecord, *, replacing: str | None) -> Outcome | None:
        """Write a new record (`applying`, or `flagged` when notify-only) and carry it on.

        None when the target's record changed since it was read: the caller reads it again.
        """
        next_state(Status.RESTORED, Event.FLAG if record.status is Status.FLAGGED else Event.CLAIM)  # listed
        contender = self._ledger.claim(record, replacing=replacing)
        if contender is None:
            return self._claimed(action, record)
        if contender.active and not is_operator(record.detector):
            return already(contender)  # another request claimed it first: it is applying it
        return None  # restored after we read the target, or an operator's: read it again

    def held(self, action: TargetAction, standing: ActionRecord, finding: Finding) -> Outcome | None:
        """A finding about a target held `applying`, applied or `restoring`; None: read it again."""
        target, operator = standing.target, is_operator(finding.detector)
        if standing.status is Status.RESTORING:
            if not operator:
                detail = f"a restore is under way since {standing.since.isoformat()}; not applied again"
                return Outcome(target, Result.IN_PROGRESS, detail=detail, prior=standing.prior)
            mine = self.move(standing, Event.TAKE_OVER, takeover=took_over(standing, finding))
            return None if mine is None else self.complete(action, mine, claimed=False)
        if standing.status is Status.APPLYING:
            if operator:  # moved first by another request: read it again, and take that over
                return self.take_over(action, standing, took_over(standing, finding))
            return self.take_over(action, standing) or already(standing)
        drift = self.check_drift(action, standing, f"{finding.detector}: {finding.reason}")
        return already(standing) if drift is None else drift

    def enforce_flagged(
        self, action: TargetAction, standing: ActionRecord, finding: Finding, facts: TargetFacts
    ) -> Outcome | None:
        """Apply a flagged record now that a finding may be enforced: the breaker admits it, or an operator.

        The prior state is read afresh (a flagged target was never touched). The alert says why it
        waited. None when the record changed under us: the caller reads it again.
        """
        operator = is_operator(finding.detector)
        if not operator:
            why = self._breaker.admit(replace(standing, detector=finding.detector))
            if why is not None:
                return already(standing, why)
        if operator:
            takeover = took_over(standing, finding, prior=facts.prior)
        else:
            waited = (
                f"flagged since {standing.since.isoformat()} without being applied"
                f" ({standing.evidence.get('held_back', 'notify-only')}); applied now that the"
                " circuit breaker admits it"
            )
            evidence = {**finding.evidence, "waited": waited}
            reason = f"{finding.reason} (it waited: {waited})"
            takeover = Takeover(finding.detector, reason, evidence, facts.prior, prior_read=True)
        applying = self.move(standing, Event.ENFORCE, takeover=takeover)
        return None if applying is None else self.complete(action, applying, claimed=False)

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
        if self.move(record, Event.APPLIED, audit) is None:
            return self._lost(action, record)
        sent, alert_error = self._report.alert(phase, record, record.reason, self._clock(), report=report)
        return Outcome(target, result, detail, record.prior, sent, alert_error)

    def take_over(
        self, action: TargetAction, record: ActionRecord, takeover: Takeover | None = None
    ) -> Outcome | None:
        """Complete an `applying` record another request left; None when a live request moved it first."""
        mine = self.move(record, Event.TAKE_OVER, takeover=takeover)
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
        fenced = self.move(record, Event.DRIFT)  # a restore that starts now must wait for it
        if fenced is None:
            return Outcome(target, Result.IN_PROGRESS, detail="the record changed under the drift check")
        return self.complete(action, fenced, claimed=False, drift=True)

    # -- a restore ------------------------------------------------------------------------------

    def restore(self, action: TargetAction, record: ActionRecord, reason: str) -> Outcome | None:
        """Restore (or clear) a held record in any state; None when it changed under us: read it again."""
        target = record.target
        if record.status is Status.FLAGGED:
            cleared = self._report.entry(target, "restore", Result.CLEARED, record.detector, reason)
            if self.move(record, Event.CLEAR, cleared) is None:
                return None
            sent, alert_error = self._report.alert(Phase.CLEARED, record, reason, self._clock())
            return Outcome(target, Result.CLEARED, "", record.prior, sent, alert_error)
        if record.evidence.get(SETTLING) and record.status is Status.RESTORING and not self.stale(record):
            # left to settle an action that was under way: put back again (idempotent) and leave the
            # record to the request that settles it (or to the reconciliation, once stale)
            return self.finish_restore(action, record, reason, settle=True)
        under_way = record.status is Status.APPLYING and not self.stale(record)
        settling = Takeover(record.detector, record.reason, {**record.evidence, SETTLING: True})
        # from applying or restoring: take it over
        restoring = self.move(record, Event.BEGIN_RESTORE, takeover=settling if under_way else None)
        if restoring is None:
            return None
        return self.finish_restore(action, restoring, reason, settle=under_way)

    def finish_restore(
        self, action: TargetAction, record: ActionRecord, reason: str, *, settle: bool = False
    ) -> Outcome:
        """Put back the prior state of a record in `restoring` and close it.

        `settle`: the restore took over an action still under way, or a young `restoring` record (a
        restore that may be settling one), whose call may land after this put-back. The record then
        stays `restoring` (no finding claims the target anew, so no claim can read the action's 0 as a
        prior state) until that request, losing its record, puts the prior state back again and
        closes it, or the scheduled reconciliation does once it is stale.
        """
        target, words = record.target, VOCABULARY[record.target.kind]
        try:
            report = action.put_back(target, record.prior)
        except TargetNotFound:
            detail = f"{target.kind.value} deleted"
            self.move(record, Event.RESTORED, self._entry(record, Result.NOT_FOUND, reason, detail))
            detail = f"{target.kind.value} no longer exists; record closed"
            return Outcome(target, Result.NOT_FOUND, detail=detail)
        except AwsCallFailed as exc:
            # still applied; should this write fail, the next restore finishes
            self.move(record, Event.RESTORE_FAILED, self._entry(record, Result.ERROR, reason, str(exc)))
            logger.error("restore of %s failed: %s", target, exc)
            self._report.alert(Phase.RESTORE_FAILED, record, reason, self._clock(), error=str(exc))
            return Outcome(target, Result.ERROR, error=f"restore failed, still {words.applied.value}: {exc}")
        detail = "; ".join(report.failures)  # what was left as it is, and why
        if settle and not report.kept:
            self._report.audit(target, "restore", Result.RESTORED, record.detector, reason, "settling")
            sent, alert_error = self._report.alert(
                Phase.RESTORED, record, reason, self._clock(), report=report
            )
            detail = "; ".join(
                [*report.failures, "a throttle was under way: the record closes once it settles"]
            )
            return Outcome(target, Result.RESTORED, detail, record.prior, sent, alert_error)
        result = Result.LEFT_AS_IS if report.kept else Result.RESTORED
        if self.move(record, Event.RESTORED, self._entry(record, result, reason, detail)) is None:
            return self._restore_lost(action, record)
        phase, left = (Phase.LEFT_AS_IS, detail) if report.kept else (Phase.RESTORED, None)
        sent, alert_error = self._report.alert(phase, record, reason, self._clock(), left, report=report)
        return Outcome(target, result, detail, record.prior, sent, alert_error)

    # -- the scheduled reconciliation -----------------------------------------------------------

    def reconcile(self, action: TargetAction, record: ActionRecord) -> Outcome | None:
        """Correct one held record that is not flagged; None when it is as it should be, or young."""
        if record.status is Status.ENFORCED:
            return self.check_drift(action, record, "scheduled reconciliation")
        if not record.status.in_progress or not self.stale(record):
            return None
        if record.status is Status.APPLYING:
            return self.take_over(action, record)
        restoring = self.move(record, Event.BEGIN_RESTORE)
        return (
            None if restoring is None else self.finish_restore(action, restoring, "scheduled reconciliation")
        )

    # -- what a flagged or new record becomes -----------------------------------------------------

    def _claimed(self, action: TargetAction, record: ActionRecord) -> Outcome:
        words = VOCABULARY[record.target.kind]
        if record.status is Status.APPLYING and (why := self._breaker.admit(record)) is not None:
            audit = self._report.entry(
                record.target, words.verb, words.would, record.detector, record.reason, why
            )
            held_back = Takeover(record.detector, record.reason, {**record.evidence, "held_back": why})
            flagged = self.move(record, Event.FLAG, audit, held_back)
            if flagged is None:
                return already(record)
            return self._would(flagged, detail=why)
        if record.status is Status.FLAGGED:
            self._report.audit(
                record.target, words.verb, words.would, record.detector, record.reason, "notify-only"
            )
            return self._would(record, detail="notify-only")
        return self.complete(action, record, claimed=True)

    def _would(self, record: ActionRecord, *, detail: str) -> Outcome:
        target, words = record.target, VOCABULARY[record.target.kind]
        sent, alert_error = self._report.alert(Phase.WOULD_APPLY, record, record.reason, record.acted_at)
        return Outcome(target, words.would, detail, record.prior, sent, alert_error)

    def _lost(self, action: TargetAction, record: ActionRecord) -> Outcome:
        """Settle a target this request applied while another moved its record first.

        An operator's restore that took the record over while it was applied wins: the action may have
        landed after its put-back, so the prior state is put back again (every step is idempotent).
        """
        target, words = record.target, VOCABULARY[record.target.kind]
        now = self._ledger.get(target)
        if (
            now is None
            or now.record_id != record.record_id
            or (now.active and now.status is not Status.RESTORING)
        ):
            return Outcome(target, words.already, "completed by another request", record.prior)
        try:
            action.put_back(target, record.prior)
        except (TargetNotFound, AwsCallFailed) as exc:
            logger.error("%s of %s, restored meanwhile, not put back again: %s", words.verb, target, exc)
            return Outcome(target, Result.IN_PROGRESS, detail="restored by an operator meanwhile; settling")
        if now.status is Status.RESTORING:  # the restore left it for this request to settle: close it
            self.move(now, Event.RESTORED, self._entry(now, Result.RESTORED, "settled", "put back again"))
        return Outcome(target, words.not_held, detail="restored by an operator while it was being applied")

    def _restore_lost(self, action: TargetAction, record: ActionRecord) -> Outcome:
        """Settle a restore whose record moved first: another restore, or an operator's throttle."""
        target, words = record.target, VOCABULARY[record.target.kind]
        now = self._ledger.get(target)
        if (
            now is None
            or not now.active
            or now.record_id != record.record_id
            or now.status is Status.RESTORING  # another restore took it over: it puts back and closes it
        ):
            return Outcome(target, words.not_held, detail="restored concurrently by another request")
        detail = f"an operator's {words.verb} took it over during the restore; the {words.verb} stands"
        if now.status is Status.ENFORCED:  # its action may have landed before this put-back
            self.check_drift(action, now, "a restore lost to an operator's request")
        return Outcome(target, Result.IN_PROGRESS, detail=detail, prior=record.prior)

    def _entry(self, record: ActionRecord, result: Result, reason: str, detail: str = "") -> AuditEntry:
        """The audit line of a restore step."""
        return self._report.entry(record.target, "restore", result, record.detector, reason, detail)

    def _roll_back(self, action: TargetAction, record: ActionRecord) -> str:
        """Undo a failed apply (it may have landed) and delete the claim; what is left, in words."""
        next_state(record.status, Event.ROLL_BACK)
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


#: The evidence key of a `restoring` record left to settle an action that was under way.
SETTLING = "settling"


def took_over(standing: ActionRecord, finding: Finding, *, prior: Any = None) -> Takeover:
    """An operator's takeover of `standing`: the record names the operator from now on.

    `prior` is given only for a flagged record, whose target was never touched (read afresh).
    """
    since = standing.since.isoformat()
    was = f"{standing.status.value} since {since} by {standing.detector}: {standing.reason}"
    evidence = {**finding.evidence, "took_over": was}
    flagged = standing.status is Status.FLAGGED
    return Takeover(
        finding.detector, finding.reason, evidence, prior if flagged else None, prior_read=flagged
    )


def already(standing: ActionRecord, why: str = "") -> Outcome:
    """The answer for a target the guardrail holds already (or has flagged)."""
    words = VOCABULARY[standing.target.kind]
    result = Result.ALREADY_FLAGGED if standing.status is Status.FLAGGED else words.already
    detail = f"since {standing.acted_at.isoformat()} by {standing.detector}"
    if standing.status.in_progress:
        detail += f" ({standing.status.value})"
    if why:
        detail += f"; {why}"
    return Outcome(standing.target, result, detail=detail, prior=standing.prior)
