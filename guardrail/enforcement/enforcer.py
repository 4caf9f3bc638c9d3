"""The one path for every change to the account: exemptions, ledger, the action, audit, alert, undo.

The Enforcer turns a finding into a decision (verified? exempt? notify-only? paused?) and hands the
target's ledger record to its lifecycle (`guardrail.enforcement.lifecycle`, where the record's states
and transitions are written). A finding that cannot act on its target is followed by the fallback its
detector gave it (`guardrail.domain.Fallback`: another finding, or a notice), so a detector never reads
an outcome to choose what comes next. An operator's finding (the kill switch's throttle or panic) is never
held back by notify-only (global or per account), a pause, the circuit breaker or the record's state.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrail.alerts.render import render_digest, render_notice
from guardrail.config.fleet import MemberAccount
from guardrail.domain import (
    HELD_BY_BREAKER,
    VOCABULARY,
    ActionRecord,
    Fallback,
    Finding,
    Notice,
    Outcome,
    Result,
    Status,
    Target,
    TargetFacts,
    TargetKind,
)
from guardrail.enforcement.actions import TargetAction
from guardrail.enforcement.breaker import CircuitBreaker, is_operator
from guardrail.enforcement.known import KnownConditions
from guardrail.enforcement.lifecycle import STALE_AFTER, Lifecycle, already
from guardrail.enforcement.noise import NoiseBound
from guardrail.enforcement.pauses import PauseReader, Pauses
from guardrail.enforcement.policy import Decision, Exemptions, decide_at, unmet
from guardrail.enforcement.ports import AlertPublisher, LedgerStore
from guardrail.enforcement.report import Reporter
from guardrail.errors import AwsCallFailed, TargetNotFound
from guardrail.scope import Scope

logger = logging.getLogger(__name__)

#: How often a request reads a record again after another request moved it first. The bound is how
#: many requests act on one target at once; past it the answer is an error saying to try again.
_ATTEMPTS = 10


def _falls_back(fallback: Fallback, result: Result) -> bool:
    """True when a finding that ended in `result` did not act on its target in a way `fallback` covers."""
    return result in (Result.NOT_FOUND, Result.UNVERIFIED) or (fallback.if_exempt and result is Result.EXEMPT)


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
        known: KnownConditions | None = None,
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
        self._breaker = CircuitBreaker(
            ledger=ledger, report=self._report, limit=breaker_max_actions_per_hour, clock=clock
        )
        self.lifecycle = Lifecycle(
            ledger=ledger, report=self._report, breaker=self._breaker, clock=clock, stale_after=stale_after
        )
        self._pauses = Pauses(pauses, ledger=ledger, report=self._report, clock=clock, ttl=signal_ttl_seconds)
        self._noise = noise
        self._known = known

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
        without account or region is the guardrail's own account's and region's. A finding that cannot
        act on its target is followed by its fallback (see `Fallback`): the next finding, applied the
        same way, or the notice; the outcome is the last one's. Each request reads the pauses afresh.
        """
        self._pauses.forget()
        claimed: list[str] = []  # the chain's keys: a retry must find them free to reach its failed step
        try:
            outcome, alerted = self._once(finding, claimed), None
            while (fallback := finding.fallback) is not None and _falls_back(fallback, outcome.result):
                if outcome.result is Result.UNVERIFIED:
                    alerted = alerted or outcome
                if isinstance(fallback.then, Notice):
                    outcome = alerted or self._told(fallback.then, finding.target)
                    break
                finding = fallback.then
                outcome = self._once(finding, claimed)
        except BaseException:
            self._give_back(claimed)
            raise
        if outcome.result is Result.ERROR:
            self._give_back(claimed)
        return outcome

    def _give_back(self, keys: list[str]) -> None:
        """Release the signal keys of a chain that ended in an error, so that Lambda's retry runs it again."""
        for key in keys:
            self._ledger.release_signal(key)

    def _once(self, finding: Finding, claimed: list[str]) -> Outcome:
        """Apply one finding, not its fallback; a signal's key is given back when it ends in an error."""
        finding = replace(finding, target=self._located(finding.target))
        key = finding.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Outcome(finding.target, Result.DUPLICATE, detail=f"signal {key} was already handled")
        if key:
            claimed.append(key)
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
        """Put back exactly the state the target had before the guardrail's first action.

        It acts on a record in any state (an operator's word is final): an applied or drifted one,
        one still applying (taken over), one another restore left, a flagged one (cleared).
        """
        target = self._located(target)
        action = self._actions[target.kind]
        for _ in range(_ATTEMPTS):
            record = self._ledger.get(target)
            if record is None or not record.active:
                return self._not_held(action, target)
            outcome = self.lifecycle.restore(action, record, reason)
            if outcome is not None:
                return outcome
        return Outcome(target, Result.ERROR, error="ledger record kept changing; try again")

    def reconcile(self, record: ActionRecord) -> Outcome | None:
        """Correct one held record (see `guardrail.enforcement.reconcile`); None when nothing was done.

        A record the circuit breaker held back is re-evaluated as its finding would be now: it is
        applied once the breaker of its account and region admits it (and nothing else holds it back).
        """
        if record.status is not Status.FLAGGED:
            return self.lifecycle.reconcile(self._actions[record.target.kind], record)
        if not str(record.evidence.get("held_back", "")).startswith(HELD_BY_BREAKER):
            return None  # notify-only: flagged by configuration, re-evaluated by its next finding
        self._pauses.forget()
        again = Finding(record.target, record.detector, record.reason, record.acted_at, record.evidence)
        outcome = self._enforce(again)
        return None if outcome.result is Result.ALREADY_FLAGGED else outcome

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
        (`noise`), a notice is summarized once and then counted, not sent (ALREADY_ALERTED). A notice
        about a condition told before (`known`) is counted in the day's digest, not sent (DIGESTED).
        """
        key = notice.dedupe_key
        if key and not self._ledger.claim_signal(key, now=self._clock(), ttl_seconds=self._signal_ttl):
            return Result.ALREADY_ALERTED
        known = self._known if notice.condition is not None and not notice.doubt else None
        if known is not None and not known.tell(notice, self._clock()):
            return Result.DIGESTED
        sent = notice if self._noise is None else self._noise.admit(notice, self._clock())
        if sent is None:
            if known is not None:
                known.untold(notice)
            return Result.ALREADY_ALERTED
        try:
            self._alerts.publish(render_notice(sent, region=self._home.region))
        except BaseException as exc:
            if key:
                self._ledger.release_signal(key)
            if known is not None:
                known.untold(notice)
            if not isinstance(exc, AwsCallFailed):
                raise
            logger.exception("notice about %s not sent", notice.subject)
            return Result.ERROR
        return Result.ALERTED

    def send_digest(self) -> Result | None:
        """Send the previous day's digest of known conditions, once (None: nothing to send now).

        Called on paths that run often (the Athena watch's deliveries, the scan's every minute); the day
        is claimed with a conditional write, so duplicate and concurrent calls send one digest, and one
        not sent gives the day back for the next call.
        """
        if self._known is None:
            return None
        try:
            digest = self._known.due(self._clock())
        except AwsCallFailed:  # the next call asks again; the event at hand is not held up by it
            logger.exception("the digest could not be read")
            return Result.ERROR
        if digest is None:
            return None
        try:
            self._alerts.publish(render_digest(digest, region=self._home.region))
        except BaseException as exc:
            self._known.unsent(digest)
            if not isinstance(exc, AwsCallFailed):
                raise
            logger.exception("digest of %s not sent", digest.day)
            return Result.ERROR
        return Result.ALERTED

    def _enforce(self, finding: Finding) -> Outcome:  # noqa: PLR0911 - one return per way a finding ends
        target = finding.target
        action, words = self._actions[target.kind], VOCABULARY[target.kind]
        operator = is_operator(finding.detector)
        for _ in range(_ATTEMPTS):
            standing = self._ledger.get(target)
            if standing is not None and standing.active and standing.status is not Status.FLAGGED:
                outcome = self.lifecycle.held(action, standing, finding)
                if outcome is not None:
                    return outcome
                continue
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
            decision = self._decide(facts, operator=operator)
            if decision.exempt:
                self._report.audit(
                    target, words.verb, Result.EXEMPT, finding.detector, finding.reason, decision.value
                )
                return Outcome(target, Result.EXEMPT, detail=decision.value)
            if decision is Decision.ENFORCE and (pause := self._pauses.of(finding)) is not None:
                return self._pauses.hold_back(finding, facts, pause)
            if standing is not None and standing.status is Status.FLAGGED:
                if decision is Decision.NOTIFY_ONLY:
                    return already(standing, "notify-only")
                outcome = self.lifecycle.enforce_flagged(action, standing, finding, facts)
            else:
                outcome = self._claim(action, finding, facts, decision, standing, read_at)
            if outcome is not None:
                return outcome
            # the record changed after we read it (restored, claimed, taken over): read it again
        return Outcome(target, Result.ERROR, error="ledger record kept changing; try again")

    def _decide(self, facts: TargetFacts, *, operator: bool) -> Decision:
        """How a finding about `facts.target` is applied; an operator's is never notify-only."""
        decision = decide_at(
            facts,
            exemptions=self._exemptions,
            notify_only=self._notify_only,
            member=self._members(facts.target.account),
            home=self._home,
        )
        return Decision.ENFORCE if operator and decision is Decision.NOTIFY_ONLY else decision

    def _claim(  # noqa: PLR0917 - what a new record is made of, in the order it was learned
        self,
        action: TargetAction,
        finding: Finding,
        facts: TargetFacts,
        decision: Decision,
        standing: ActionRecord | None,
        read_at: datetime,
    ) -> Outcome | None:
        """Write a new record for the finding (flagged when notify-only) and carry it on."""
        notify_only = decision is Decision.NOTIFY_ONLY
        evidence = {**finding.evidence, "held_back": "notify-only"} if notify_only else finding.evidence
        record = ActionRecord(
            target=finding.target,
            status=Status.FLAGGED if notify_only else Status.APPLYING,
            prior=facts.prior,
            record_id=uuid.uuid4().hex,
            acted_at=read_at,
            detector=finding.detector,
            reason=finding.reason,
            evidence=evidence,
        )
        replacing = None if standing is None else standing.record_id
        return self.lifecycle.claim(action, record, replacing=replacing)

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

    def _told(self, notice: Notice, target: Target) -> Outcome:
        """Send the notice a finding about `target` fell back to: the outcome is the notice's."""
        sent = self.notify(notice)
        return Outcome(target, sent, error="the notice was not sent" if sent is Result.ERROR else None)

    def _not_held(self, action: TargetAction, target: Target) -> Outcome:
        try:
            action.read(target)
        except TargetNotFound:
            detail = f"no such {target.kind.value} in {target.where}; nothing to restore"
            return Outcome(target, Result.NOT_FOUND, detail=detail)
        return Outcome(target, VOCABULARY[target.kind].not_held)
