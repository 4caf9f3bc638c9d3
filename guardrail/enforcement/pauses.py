"""Run-time pauses in enforcement: an automatic finding in a paused account is alerted, never applied.

An operator pauses an account through the kill switch (`guardrail.kill_switch.pausing`); the ledger
holds the pause. The Enforcer asks `Pauses.of(finding)` once it has decided to enforce: an operator's
finding (the kill switch's throttle or panic, `breaker.is_operator`) is never paused, an automatic
one is when its account is. Such a finding is audited and alerted once per pause and target (a signal
mark keyed by the pause's id), and leaves no ledger record: the target stays as it is, and a resume
leaves no flag behind, so the next finding after it is enforced.

Pauses are read from the ledger, at most once per account per request: the Enforcer calls `forget` as
each request begins (a finding with its fallbacks, a held record re-evaluated), so an Enforcer that
outlives its invocation, as the Athena watch's does, reads each event's pauses afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from guardrail.account_pause import AccountPause
from guardrail.alerts.events import Phase
from guardrail.domain import VOCABULARY, ActionRecord, Finding, Outcome, Result, Status, TargetFacts
from guardrail.enforcement.breaker import is_operator
from guardrail.enforcement.ports import LedgerStore
from guardrail.enforcement.report import Reporter


class PauseReader(Protocol):
    """What enforcement needs to know of pauses (see `guardrail.adapters.ledger.Ledger`)."""

    def account_pause(self, account: str) -> AccountPause | None:
        """The account's pause, or None when it is not paused."""
        ...


class Pauses:
    """The pauses of the accounts that this request's automatic findings are about."""

    def __init__(
        self,
        reader: PauseReader | None,
        *,
        ledger: LedgerStore,
        report: Reporter,
        clock: Callable[[], datetime],
        ttl: int,
    ) -> None:
        self._reader = reader  # None: no account is ever paused (an Enforcer built without the ledger's)
        self._ledger = ledger
        self._report = report
        self._clock = clock
        self._ttl = ttl  # of a signal mark, in seconds
        self._read: dict[str, AccountPause | None] = {}

    def forget(self) -> None:
        """Start a new request: read each account's pause afresh."""
        self._read.clear()

    def of(self, finding: Finding) -> AccountPause | None:
        """The pause that holds back this finding: None for an operator's, or in an unpaused account."""
        if self._reader is None or is_operator(finding.detector):
            return None
        account = finding.target.account
        if account not in self._read:
            self._read[account] = self._reader.account_pause(account)
        return self._read[account]

    def hold_back(self, finding: Finding, facts: TargetFacts, pause: AccountPause) -> Outcome:
        """Alert (once per pause and target) and audit that the finding was not applied; change nothing."""
        target, words, now = finding.target, VOCABULARY[finding.target.kind], self._clock()
        detail = pause.describe()
        key = f"paused:{pause.pause_id}:{target.kind.value}:{target.account}:{target.region}:{target.name}"
        if not self._ledger.claim_signal(key, now=now, ttl_seconds=self._ttl):
            return Outcome(target, Result.ALREADY_ALERTED, detail=f"{detail} (alerted during this pause)")
        self._report.audit(target, words.verb, words.would, finding.detector, finding.reason, detail)
        unrecorded = ActionRecord(
            target=target,
            status=Status.FLAGGED,
            prior=facts.prior,
            record_id="-",
            acted_at=now,
            detector=finding.detector,
            reason=finding.reason,
            evidence=finding.evidence,
        )
        sent, error = self._report.alert(Phase.WOULD_APPLY, unrecorded, finding.reason, now, pause=pause)
        if not sent:  # the next finding alerts, rather than the failure silencing the pause
            self._ledger.release_signal(key)
        return Outcome(target, words.would, detail, facts.prior, sent, error)
