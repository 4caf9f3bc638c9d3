"""Which findings a run-time pause holds back, how often the ledger is read, and what holding back does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from guardrail.account_pause import AccountPause
from guardrail.alerts.render import Alert
from guardrail.domain import AuditEntry, Finding, Result, Target, TargetFacts
from guardrail.enforcement.pauses import Pauses
from guardrail.enforcement.report import Reporter
from guardrail.errors import AwsCallFailed
from guardrail.scope import Scope

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
HOME = Scope("111111111111", "ap-northeast-1", organization=True)
PAUSED, OTHER = "222222222222", "333333333333"
PAUSE = AccountPause(PAUSED, "alice", NOW, "migration drill", "p-1")


class Reader:
    """The ledger's pauses, counting reads by account."""

    def __init__(self, *paused: AccountPause) -> None:
        self.pauses = {pause.account: pause for pause in paused}
        self.reads: list[str] = []

    def account_pause(self, account: str) -> AccountPause | None:
        self.reads.append(account)
        return self.pauses.get(account)


class Ledger:
    """The signal marks and audit trail that holding back writes (the rest of the ledger is unused)."""

    def __init__(self) -> None:
        self.signals: set[str] = set()
        self.audit: list[AuditEntry] = []

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        if key in self.signals:
            return False
        self.signals.add(key)
        return True

    def release_signal(self, key: str) -> None:
        self.signals.discard(key)

    def append_audit(self, entry: AuditEntry) -> None:
        self.audit.append(entry)


class Topic:
    def __init__(self, *, down: bool = False) -> None:
        self.sent: list[Alert] = []
        self.down = down

    def publish(self, alert: Alert) -> str:
        if self.down:
            raise AwsCallFailed("InternalError", "SNS is down", operation="Publish")
        self.sent.append(alert)
        return "message-id"


def pauses(reader: Reader | None, ledger: Any = None, topic: Any = None) -> Pauses:
    ledger, topic = ledger or Ledger(), topic or Topic()
    report = Reporter(ledger=ledger, alerts=topic, home=HOME, kill_switch_function="ks", clock=lambda: NOW)
    return Pauses(reader, ledger=ledger, report=report, clock=lambda: NOW, ttl=3600)


def finding(account: str, detector: str = "recursion-watch:health", name: str = "batch") -> Finding:
    return Finding(Target.function(name, account, "us-west-2"), detector, "loop", NOW)


def test_an_automatic_finding_in_a_paused_account_is_held_back_and_elsewhere_not():
    check = pauses(Reader(PAUSE))
    assert check.of(finding(PAUSED)) == PAUSE
    assert check.of(finding(OTHER)) is None


def test_an_operators_finding_is_never_held_back_and_reads_nothing():
    reader = Reader(PAUSE)
    check = pauses(reader)
    for detector in ("kill-switch", "kill-switch:panic"):
        assert check.of(finding(PAUSED, detector)) is None
    assert reader.reads == []
    assert check.of(finding(PAUSED, "kill-switches-lookalike")) == PAUSE  # not the kill switch's name


def test_each_account_is_read_once_per_invocation_and_afresh_in_the_next():
    reader = Reader(PAUSE)
    check = pauses(reader)
    for name in ("a", "b", "c"):
        check.of(finding(PAUSED, name=name))
        check.of(finding(OTHER, name=name))
    assert reader.reads == [PAUSED, OTHER]

    del reader.pauses[PAUSED]  # resumed between two invocations
    check.forget()
    assert check.of(finding(PAUSED)) is None
    assert reader.reads == [PAUSED, OTHER, PAUSED]


def test_without_a_reader_no_account_is_paused():
    assert pauses(None).of(finding(PAUSED)) is None


def test_holding_back_alerts_and_audits_once_per_pause_and_target_and_changes_nothing():
    ledger, topic = Ledger(), Topic()
    check = pauses(Reader(PAUSE), ledger, topic)
    facts = TargetFacts(finding(PAUSED).target, prior=7)

    first = check.hold_back(finding(PAUSED), facts, PAUSE)
    again = check.hold_back(finding(PAUSED), facts, PAUSE)
    next_pause = check.hold_back(finding(PAUSED), facts, AccountPause(PAUSED, "bob", NOW, "again", "p-2"))

    assert (first.result, first.prior, first.alert_sent) == (Result.WOULD_THROTTLE, 7, True)
    assert first.detail == f"account {PAUSED} paused by alice since {NOW.isoformat()}: migration drill"
    assert again.result is Result.ALREADY_ALERTED
    assert next_pause.result is Result.WOULD_THROTTLE
    assert [alert.document["account_paused"]["by"] for alert in topic.sent] == ["alice", "bob"]
    audited = [(e.action, e.result, e.detail) for e in ledger.audit]
    assert audited == [
        ("throttle", "would-throttle", first.detail),
        ("throttle", "would-throttle", next_pause.detail),
    ]


def test_an_alert_not_sent_gives_the_mark_back_so_the_next_finding_alerts():
    ledger = Ledger()
    check = pauses(Reader(PAUSE), ledger, Topic(down=True))
    facts = TargetFacts(finding(PAUSED).target, prior=None)

    failed = check.hold_back(finding(PAUSED), facts, PAUSE)

    assert (failed.result, failed.alert_sent) == (Result.WOULD_THROTTLE, False)
    assert "SNS is down" in (failed.error or "")
    assert ledger.signals == set()
