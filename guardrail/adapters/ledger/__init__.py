"""DynamoDB ledger: what the guardrail holds and what each target had before, the audit trail, signals.

One table, keyed by `pk`/`sk`, read by key and by index (never scanned). A `Ledger` is made of one
part per concept, each a module of this package that owns its items' layout:
- `records`: `<KIND>#<name>` / `THROTTLE`, a target's one record (first record wins, every move
  conditional on the record as read);
- `audit`: `<KIND>#<name>` / `AUDIT#<time>#<id>`, one line per action, never overwritten;
- `signals`: `SIGNAL#<key>` / `SIGNAL` (a signal handled once, until its TTL) and `COUNT#<key>` /
  `SIGNAL` (signals counted, until their TTL);
- `breaker_slots`: `BREAKER#<account>#<region>#<slot>` / `BREAKER`, the circuit breaker's slots;
- `pauses`: `PAUSE#<account>` / `PAUSE`, an operator's run-time pause of an account, and its lines;
- `known`: `KNOWN#<key>` / `KNOWN` (a condition told once, until its TTL) and `DIGEST#<day>` / `<key>`
  (its recurrences that day, for the daily digest);
- `table`: the client, the keys of targets, and the sparse indexes every part reads: `ActiveRecords`
  (`status`, `throttled_at`: held records, breaker slots, pauses, each kind its own partitions) and
  `AuditTrail` (`kind`, `at`: the audit lines).

The enforcement ports (`guardrail.enforcement.ports.LedgerStore`, the pauses' and history's readers)
are the `Ledger`'s methods, each its part's. Every failed AWS call surfaces as AwsCallFailed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Unpack

from guardrail.account_pause import AccountPause
from guardrail.adapters.clients import ClientOptions
from guardrail.adapters.ledger.audit import AuditTrail
from guardrail.adapters.ledger.breaker_slots import BreakerSlots
from guardrail.adapters.ledger.known import KnownConditions
from guardrail.adapters.ledger.pauses import AccountPauses
from guardrail.adapters.ledger.records import Records
from guardrail.adapters.ledger.signals import SignalMarks
from guardrail.adapters.ledger.table import (
    ACTIVE_INDEX,
    ACTIVE_INDEX_PARTITION_KEY,
    ACTIVE_INDEX_SORT_KEY,
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
    LedgerTable,
)
from guardrail.domain import (
    ActionRecord,
    AuditEntry,
    BreakerSlot,
    DigestEntry,
    Notice,
    Status,
    Takeover,
    Target,
    TargetKind,
)
from guardrail.scope import Scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "ACTIVE_INDEX",
    "ACTIVE_INDEX_PARTITION_KEY",
    "ACTIVE_INDEX_SORT_KEY",
    "AUDIT_INDEX",
    "AUDIT_INDEX_PARTITION_KEY",
    "AUDIT_INDEX_SORT_KEY",
    "Ledger",
]


class Ledger:
    """The guardrail's DynamoDB table: records, audit trail, signal marks, breaker slots, pauses.

    Built like every adapter (an injected client, session or config); `home` is where the guardrail
    runs (its targets keep their unqualified keys). Each part is an attribute; the ports' methods
    below hand each call to its part.
    """

    #: IAM actions the parts call; the stack's policy is built from them.
    PERMISSIONS = (
        Records.PERMISSIONS
        + AuditTrail.PERMISSIONS
        + SignalMarks.PERMISSIONS
        + BreakerSlots.PERMISSIONS
        + AccountPauses.PERMISSIONS
        + KnownConditions.PERMISSIONS
    )
    #: `history` of every target reads the `AuditTrail` index: granted to the kill switch alone.
    HISTORY_PERMISSIONS = AuditTrail.HISTORY_PERMISSIONS

    def __init__(
        self, table_name: str, *, home: Scope | None = None, **clients: Unpack[ClientOptions[DynamoDBClient]]
    ) -> None:
        table = LedgerTable(table_name, home=home, **clients)
        self.audit = AuditTrail(table)
        self.records = Records(table, self.audit)
        self.signals = SignalMarks(table)
        self.breaker = BreakerSlots(table)
        self.pauses = AccountPauses(table, self.audit)
        self.known = KnownConditions(table)

    # records
    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None:
        """Write `record` unless the target's record changed since it was read (`Records.claim`)."""
        return self.records.claim(record, replacing=replacing)

    def release(self, record: ActionRecord) -> bool:
        """Delete a claim still `applying` as claimed (`Records.release`)."""
        return self.records.release(record)

    def get(self, target: Target) -> ActionRecord | None:
        """The target's record, if it has one (`Records.get`)."""
        return self.records.get(target)

    def transition(
        self,
        record: ActionRecord,
        to: Status,
        at: datetime,
        *,
        audit: AuditEntry | None = None,
        takeover: Takeover | None = None,
    ) -> bool:
        """Move `record` to `to` only if it is still as read, with its audit line (`Records.transition`)."""
        return self.records.transition(record, to, at, audit=audit, takeover=takeover)

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every record held, of one kind or all, oldest first (`Records.active`)."""
        return self.records.active(kind)

    # audit
    def append_audit(self, entry: AuditEntry) -> None:
        """Add one entry to the audit trail (`AuditTrail.append`)."""
        self.audit.append(entry)

    def audit_trail(self, target: Target) -> list[AuditEntry]:
        """The target's audit entries, oldest first (`AuditTrail.trail`)."""
        return self.audit.trail(target)

    def history(
        self, *, target: Target | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Audit entries newest first, of `target` or of every target (`AuditTrail.history`)."""
        return self.audit.history(target=target, since=since, limit=limit)

    # signals
    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal as handled; False when it already was (`SignalMarks.claim`)."""
        return self.signals.claim(key, now=now, ttl_seconds=ttl_seconds)

    def release_signal(self, key: str) -> None:
        """Forget a signal mark (`SignalMarks.release`)."""
        self.signals.release(key)

    def count_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> int:
        """Count one more signal under `key`; the count after it (`SignalMarks.count`)."""
        return self.signals.count(key, now=now, ttl_seconds=ttl_seconds)

    def signals_counted(self, key: str) -> int:
        """How many signals `key` has counted (`SignalMarks.counted`)."""
        return self.signals.counted(key)

    # breaker
    def take_breaker_slot(self, slot: BreakerSlot, *, window: timedelta) -> bool:
        """Take a breaker slot unless one taken within `window` stands (`BreakerSlots.take`)."""
        return self.breaker.take(slot, window=window)

    def breaker_slots(self, *, since: datetime) -> list[BreakerSlot]:
        """Every breaker slot taken after `since`, oldest first (`BreakerSlots.taken`)."""
        return self.breaker.taken(since=since)

    # pauses
    def account_pause(self, account: str) -> AccountPause | None:
        """The account's pause, or None (`AccountPauses.of`)."""
        return self.pauses.of(account)

    def pause_account(self, pause: AccountPause) -> AccountPause | None:
        """Write `pause` unless the account is paused; None when written (`AccountPauses.pause`)."""
        return self.pauses.pause(pause)

    def resume_account(self, pause: AccountPause, *, at: datetime, by: str) -> bool:
        """Delete exactly `pause`, with its audit line (`AccountPauses.resume`)."""
        return self.pauses.resume(pause, at=at, by=by)

    def paused_accounts(self) -> list[AccountPause]:
        """Every paused account, oldest pause first (`AccountPauses.paused`)."""
        return self.pauses.paused()

    # known conditions
    def tell_condition(self, key: str, *, size: int, now: datetime, until: datetime, ratio: int) -> bool:
        """Record the condition as told now unless it is known (`KnownConditions.tell`)."""
        return self.known.tell(key, size=size, now=now, until=until, ratio=ratio)

    def forget_condition(self, key: str) -> None:
        """Forget a condition whose full alert was not sent (`KnownConditions.forget`)."""
        self.known.forget(key)

    def keep_condition(self, key: str, *, until: datetime) -> None:
        """Keep a known condition until `until` (`KnownConditions.keep`)."""
        self.known.keep(key, until=until)

    def note_recurrence(self, day: str, key: str, notice: Notice, *, now: datetime, until: datetime) -> int:
        """Count one recurrence in `day`'s digest; the day's count after it (`KnownConditions`)."""
        return self.known.note_recurrence(day, key, notice, now=now, until=until)

    def recurrences(self, day: str, *, limit: int) -> tuple[list[DigestEntry], int]:
        """`day`'s recurrences and how many more there are (`KnownConditions.recurrences`)."""
        return self.known.recurrences(day, limit=limit)
