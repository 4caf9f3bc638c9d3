"""The one path for every change to the account: exemptions, ledger, the action, audit, alert, undo.

A target's ledger record moves through explicit states (see `guardrail.domain.Status`), each move
a conditional write, each crash point resumable (see `guardrail.enforcement.steps`):
- a finding about a target with no record claims one in `applying` (its prior state read first),
  passes the circuit breaker (automatic findings), applies, and moves it to applied;
- a finding about a held target resumes or checks it: `applying` is applied again, applied is
  reconciled with the target (drift is applied again, prior kept), `restoring` answers `in-progress`
  (a finding never claims a target whose restore is under way: the restore's retry, or the scheduled
  reconciliation once it is stale, finishes it first), `flagged` answers already-flagged;
- a restore moves the record to `restoring`, puts the prior state back, and closes it; it finishes
  a `restoring` record another restore left, and rolls back an `applying` one only once stale.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrail.alerts.events import Phase
from guardrail.alerts.render import render_notice
from guardrail.config.fleet import MemberAccount
from guardrail.domain import (
    VOCABULARY,
    ActionRecord,
    Finding,
    Notice,
    Outcome,
    Result,
    Status,
    Target,
    TargetKind,
)
from guardrail.enforcement.actions import TargetAction
from guardrail.enforcement.breaker import CircuitBreaker
from guardrail.enforcement.noise import NoiseBound
from guardrail.enforcement.pause import PauseReader, Pauses
from guardrail.enforcement.policy import Decision, Exemptions, decide_at, unmet
from guardrail.enforcement.ports import AlertPublisher, LedgerStore
from guardrail.enforcement.report import Reporter
from guardrail.enforcement.steps import STALE_AFTER, Steps
from guardrail.errors import AwsCallFailed, TargetNotFound
from guardrail.functions import Scope

logger = logging.getLogger(__name__)

_ATTEMPTS = 3


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
        home: Scope,
        kill_switch_function: str,
        members: Callable[[str], MemberAccount] = lambda _account: MemberAccount(),
        clock: Callable[[], datetime] = utc_now,
        signal_ttl_seconds: int = 7 * 24 * 3600,
        breaker_max_actions_per_hour: int = 5,
        stale_after: timedelta = STALE_AFTER,
        pauses: PauseReader | None = None,
        noise: NoiseBound | None = None,
    ) -> None:
        self._actions = {action.kind: action for action in actions}
        self._ledger = ledger
        self._alerts = alerts
        self._exemptions = exemptions
        self._notify_only = notify_only
        self._home = home
        self._members = members
        self._clock = clock
        self._signal_ttl = signal_ttl_seconds
        self._report = Reporter(
            ledger=ledger, alerts=alerts, home=home, kill_switch_function=kill_switch_function, clock=clock
        )
        self.steps = Steps(ledger=ledger, report=self._report, clock=clock, stale_after=stale_after)
        self._breaker = CircuitBreaker(
            ledger=ledger, report=self._report, limit=breaker_max_actions_per_hour, clock=clock
        )
        self.pauses = Pauses(pauses, ledger=ledger, report=self._report, clock=clock, ttl=signal_ttl_seconds)
        self._noise = noise

    @property
    def notify_only(self) -> bool:
        """True when findings are recorded and alerted but targets are left untouched."""
        return self._notify_only

    def action(self, kind: TargetKind) -> TargetAction:
        """The action that acts on targets of `kind`."""
        return self._actions[kind]

    def enforce(self, finding: Finding) -> Outcome:
        """Apply a finding: act on (or flag) its target once, however often it arrives.

        An unverified finding (see `Finding`) is alerted as such and changes nothing. A target named
        without account or region is the guardrail's own account's and region's.
        """
        finding = replace(finding, target=self._located(finding.target))
        key = finding.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Outcome(finding.target, Result.DUPLICATE, detail=f"signal {key} was already handled")
        if finding.doubt:
            return self._unverified(finding, finding.doubt)
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
        target = self._located(target)
        action, words = self._actions[target.kind], VOCABULARY[target.kind]
        for _ in range(_ATTEMPTS):
            record = self._ledger.get(target)
            if record is None or not record.active:
                return self._not_held(action, target)
            if record.status is Status.FLAGGED:
                cleared = self._report.entry(target, "restore", Result.CLEARED, record.detector, reason)
                if self.steps.move(record, Status.RESTORED, cleared) is None:
                    continue
                sent, alert_error = self._report.alert(Phase.CLEARED, record, reason, self._clock())
                return Outcome(target, Result.CLEARED, "", record.prior, sent, alert_error)
            if record.status is Status.APPLYING and not self.steps.stale(record):
                detail = f"a {words.verb} is under way since {record.since.isoformat()}; try again shortly"
                return Outcome(target, Result.IN_PROGRESS, detail=detail, prior=record.prior)
            restoring = self.steps.move(record, Status.RESTORING)  # from restoring: take it over
            if restoring is not None:
                return self.steps.finish_restore(action, restoring, reason)
            if record.status is Status.RESTORING:
                return Outcome(target, words.not_held, detail="restored concurrently by another request")
        return Outcome(target, Result.ERROR, error="ledger record kept changing; try again")

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every target (of one kind, or all) the guardrail holds: in progress, applied or flagged."""
        return self._ledger.active(kind)

    def breaker(self) -> dict[str, Any]:
        """The circuit breaker's state, for `status`."""
        return self._breaker.state()

    def notify(self, notice: Notice) -> Result:
        """Send a notice once per dedupe key; nothing in the account changes.

        A notice that was not sent, for whatever reason, gives its key back: the next signal of the
        period alerts, rather than the failure silencing the period. Past the detector's hourly bound
        (`noise`), a notice is summarized once and then counted, not sent (ALREADY_ALERTED).
        """
        key = notice.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Result.ALREADY_ALERTED
        sent = notice if self._noise is None else self._noise.admit(notice, self._clock())
        if sent is None:
            return Result.ALREADY_ALERTED
        try:
            self._alerts.publish(render_notice(sent, region=self._home.region))
        except BaseException as exc:
            if key:
                self._ledger.release_signal(key)
            if not isinstance(exc, AwsCallFailed):
                raise
            logger.exception("notice about %s not sent", notice.subject)
            return Result.ERROR
        return Result.ALERTED

    def _enforce(self, finding: Finding) -> Outcome:  # noqa: PLR0911 - one return per way a finding ends
        target = finding.target
        action, words = self._actions[target.kind], VOCABULARY[target.kind]
        for _ in range(_ATTEMPTS):
            standing = self._ledger.get(target)
            if standing is not None and standing.active:
                return self._held(action, standing, finding)
            read_at = self._clock()
            try:
                facts = action.read(target)
            except TargetNotFound:
                self._report.audit(target, words.verb, Result.NOT_FOUND, finding.detector, finding.reason)
                detail = f"no such {target.kind.value} in {target.where}"
                return Outcome(target, Result.NOT_FOUND, detail=detail)
            except AwsCallFailed as exc:  # for example a member account's role that is gone
                return self._report.unreadable(finding, exc)
            doubt = unmet(finding.expect, facts)
            if doubt is not None:
                return self._unverified(finding, doubt)
            decision = decide_at(
                facts,
                exemptions=self._exemptions,
                notify_only=self._notify_only,
                member=self._members(target.account),
                home=self._home,
            )
            if decision.exempt:
                self._report.audit(
                    target, words.verb, Result.EXEMPT, finding.detector, finding.reason, decision.value
                )
                return Outcome(target, Result.EXEMPT, detail=decision.value)
            if decision is Decision.ENFORCE and (pause := self.pauses.of(finding)) is not None:
                return self.pauses.hold_back(finding, facts, pause)
            record = ActionRecord(
                target=target,
                status=Status.FLAGGED if decision is Decision.NOTIFY_ONLY else Status.APPLYING,
                prior=facts.prior,
                record_id=uuid.uuid4().hex,
                acted_at=read_at,
                detector=finding.detector,
                reason=finding.reason,
                evidence=finding.evidence,
            )
            contender = self._ledger.claim(record, replacing=None if standing is None else standing.record_id)
            if contender is None:
                return self._claimed(action, record)
            if contender.active:  # another request claimed it first: it is applying it
                return self._already(contender)
            # restored after we read the target: read it again before claiming
        return Outcome(target, Result.ERROR, error="ledger record kept changing; try again")

    def _located(self, target: Target) -> Target:
        return target.located(self._home.account, self._home.region)

    def _unverified(self, finding: Finding, doubt: str) -> Outcome:
        """Alert, marked unverified, that a finding may not act; change nothing, keep no record.

        At most one alert an hour per detector and target: a forged signal picks its own key and
        time, so only the guardrail's clock bounds the alerts it can cause; and it picks the target's
        name, so `notify` also bounds the detector's alerts an hour (`guardrail.enforcement.noise`).
        """
        now, target = self._clock(), finding.target
        logger.warning("unverified %s finding about %s: %s", finding.detector, target, doubt)
        where = f"{target.account}:{target.region}:" if target.account else ""
        sent = self.notify(
            Notice(
                subject=str(target),
                detector=finding.detector,
                reason=finding.reason,
                observed_at=finding.observed_at,
                evidence=finding.evidence,
                dedupe_key=f"unverified:{finding.detector}:{target.kind.value}:{where}{target.name}:{now:%Y-%m-%dT%H}",
                doubt=doubt,
                account=target.account,
                region=target.region,
            )
        )
        error = "the unverified alert was not sent" if sent is Result.ERROR else None
        if sent is Result.ALREADY_ALERTED:
            doubt += " (alerted this hour already)"
        return Outcome(target, Result.UNVERIFIED, doubt, alert_sent=sent is Result.ALERTED, error=error)

    def _held(self, action: TargetAction, standing: ActionRecord, finding: Finding) -> Outcome:
        target = standing.target
        if standing.status is Status.RESTORING:
            detail = f"a restore is under way since {standing.since.isoformat()}; not applied again"
            return Outcome(target, Result.IN_PROGRESS, detail=detail, prior=standing.prior)
        if standing.status is Status.APPLYING:
            return self.steps.take_over(action, standing) or self._already(standing)
        if standing.status is Status.ENFORCED:
            drift = self.steps.check_drift(action, standing, f"{finding.detector}: {finding.reason}")
            if drift is not None:
                return drift
        return self._already(standing)

    def _claimed(self, action: TargetAction, record: ActionRecord) -> Outcome:
        words = VOCABULARY[record.target.kind]
        if record.status is Status.APPLYING and not self._breaker.admit(record):
            detail = "circuit breaker open: notify-only"
            audit = self._report.entry(
                record.target, words.verb, words.would, record.detector, record.reason, detail
            )
            flagged = self.steps.move(record, Status.FLAGGED, audit)
            if flagged is None:
                return self._already(record)
            return self._would(flagged, detail=detail)
        if record.status is Status.FLAGGED:
            self._report.audit(
                record.target, words.verb, words.would, record.detector, record.reason, "notify-only"
            )
            return self._would(record, detail="notify-only")
        return self.steps.complete(action, record, claimed=True)

    def _would(self, record: ActionRecord, *, detail: str) -> Outcome:
        target, words = record.target, VOCABULARY[record.target.kind]
        sent, alert_error = self._report.alert(Phase.WOULD_APPLY, record, record.reason, record.acted_at)
        return Outcome(target, words.would, detail, record.prior, sent, alert_error)

    @staticmethod
    def _already(standing: ActionRecord) -> Outcome:
        words = VOCABULARY[standing.target.kind]
        result = Result.ALREADY_FLAGGED if standing.status is Status.FLAGGED else words.already
        detail = f"since {standing.acted_at.isoformat()} by {standing.detector}"
        if standing.status.in_progress:
            detail += f" ({standing.status.value})"
        return Outcome(standing.target, result, detail=detail, prior=standing.prior)

    def _not_held(self, action: TargetAction, target: Target) -> Outcome:
        try:
            action.read(target)
        except TargetNotFound:
            detail = f"no such {target.kind.value} in {target.where}; nothing to restore"
            return Outcome(target, Result.NOT_FOUND, detail=detail)
        return Outcome(target, VOCABULARY[target.kind].not_held)
