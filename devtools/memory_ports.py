"""In-memory stand-ins for the enforcement ports: the ledger, Lambda functions, an alert topic.

`MemoryLedger` keeps the DynamoDB ledger's protocol (`guardrail.enforcement.ports.LedgerStore`, the
pauses' `PauseReader`) with its semantics, and its shape: the same parts (records, audit, signals,
breaker slots, pauses), each call handed to its part. Every conditional write checks and writes under
one lock that the parts share (first record wins, a transition only from the state, id and `since`
the caller read), and a transition with its audit line is all or nothing. So the record's state
machine, and races between real threads, are tested without any AWS stand-in; moto stays for the
adapters' contracts.
`MemoryFunctions` is Lambda's reserved concurrency (and event source mappings) of one place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from guardrail.account_pause import AccountPause
from guardrail.alerts.render import Alert
from guardrail.domain import (
    ActionRecord,
    AuditEntry,
    BreakerSlot,
    FunctionFacts,
    Status,
    Takeover,
    Target,
    TargetKind,
    WorkgroupState,
)
from guardrail.errors import TargetNotFound
from guardrail.prior_state import EventSourceMapping


def _key(target: Target) -> tuple[TargetKind, str, str, str]:
    return (target.kind, target.account, target.region, target.name)


class MemoryAudit:
    """The audit trail: lines in the order written."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self.lines: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        """Add one audit line."""
        with self._lock:
            self.lines.append(entry)

    def trail(self, target: Target) -> list[AuditEntry]:
        """The target's audit lines, in the order written."""
        with self._lock:
            return [entry for entry in self.lines if _key(entry.target) == _key(target)]


class MemoryRecords:
    """One record per target; a move with its audit line is all or nothing (see `Records`)."""

    def __init__(self, lock: threading.Lock, audit: MemoryAudit) -> None:
        self._lock = lock
        self._audit = audit
        self.by_target: dict[tuple[TargetKind, str, str, str], ActionRecord] = {}

    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None:
        """Write `record` unless the target's record changed since the caller read it (`Records.claim`)."""
        with self._lock:
            standing = self.by_target.get(_key(record.target))
            free = (
                standing is None
                if replacing is None
                else (standing is not None and standing.record_id == replacing and not standing.active)
            )
            if not free:
                if standing is None:
                    return replace(record, status=Status.RESTORED, restored_at=record.acted_at)
                return standing
            self.by_target[_key(record.target)] = record
            return None

    def release(self, record: ActionRecord) -> bool:
        """Delete a claim still `applying` as claimed."""
        with self._lock:
            standing = self.by_target.get(_key(record.target))
            if (
                standing is None
                or standing.record_id != record.record_id
                or standing.status is not Status.APPLYING
                or standing.changed_at is not None
            ):
                return False
            del self.by_target[_key(record.target)]
            return True

    def get(self, target: Target) -> ActionRecord | None:
        """The target's record (a consistent read)."""
        with self._lock:
            return self.by_target.get(_key(target))

    def transition(
        self,
        record: ActionRecord,
        to: Status,
        at: datetime,
        *,
        audit: AuditEntry | None = None,
        takeover: Takeover | None = None,
    ) -> bool:
        """Move the record only if it is as the caller read it; with its audit line, all or nothing."""
        with self._lock:
            standing = self.by_target.get(_key(record.target))
            if (
                standing is None
                or standing.status is not record.status
                or standing.record_id != record.record_id
                or standing.changed_at != record.changed_at
                or standing.moves != record.moves
            ):
                return False
            moved = replace(standing, status=to, moves=standing.moves + 1)
            moved = replace(moved, restored_at=at) if to is Status.RESTORED else replace(moved, changed_at=at)
            if takeover is not None:
                reason = takeover.reason or "-"
                moved = replace(moved, detector=takeover.detector, reason=reason, evidence=takeover.evidence)
                if takeover.prior_read:
                    moved = replace(moved, prior=takeover.prior)
            self.by_target[_key(record.target)] = moved
            if audit is not None:
                self._audit.lines.append(audit)  # under the same lock: with the move or not at all
            return True

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """Every held record (of one kind, or all), oldest first."""
        with self._lock:
            held = [
                r for r in self.by_target.values() if r.active and (kind is None or r.target.kind is kind)
            ]
        return sorted(held, key=lambda r: (r.acted_at, r.target))


class MemorySignals:
    """Signal marks, each until it expires."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self.expiry: dict[str, int] = {}  # key -> expires_at (epoch seconds)

    def claim(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal handled unless a live mark stands."""
        now_s = int(now.timestamp())
        with self._lock:
            if key in self.expiry and self.expiry[key] >= now_s:
                return False
            self.expiry[key] = now_s + ttl_seconds
            return True

    def release(self, key: str) -> None:
        """Forget a signal mark."""
        with self._lock:
            self.expiry.pop(key, None)


class MemoryBreakerSlots:
    """The circuit breaker's slots by account, region and number."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self.slots: dict[tuple[str, str, int], BreakerSlot] = {}

    def take(self, slot: BreakerSlot, *, window: timedelta) -> bool:
        """Take a slot unless one taken within `window` stands."""
        key = (slot.account, slot.region, slot.slot)
        with self._lock:
            standing = self.slots.get(key)
            if standing is not None and standing.taken_at > slot.taken_at - window:
                return False
            self.slots[key] = slot
            return True

    def taken(self, *, since: datetime) -> list[BreakerSlot]:
        """Every slot taken after `since`, oldest first."""
        with self._lock:
            slots = [slot for slot in self.slots.values() if slot.taken_at > since]
        return sorted(slots, key=lambda slot: (slot.taken_at, slot.account, slot.region, slot.slot))


class MemoryPauses:
    """Operators' pauses by account."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self.by_account: dict[str, AccountPause] = {}

    def of(self, account: str) -> AccountPause | None:
        """The account's pause, or None."""
        with self._lock:
            return self.by_account.get(account)


class MemoryLedger:
    """The ledger in memory, made of the `Ledger`'s parts, every call atomic under one shared lock."""

    def __init__(self) -> None:
        lock = threading.Lock()
        self.audit = MemoryAudit(lock)
        self.records = MemoryRecords(lock, self.audit)
        self.signals = MemorySignals(lock)
        self.breaker = MemoryBreakerSlots(lock)
        self.pauses = MemoryPauses(lock)

    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None:
        """See `MemoryRecords.claim`."""
        return self.records.claim(record, replacing=replacing)

    def release(self, record: ActionRecord) -> bool:
        """See `MemoryRecords.release`."""
        return self.records.release(record)

    def get(self, target: Target) -> ActionRecord | None:
        """See `MemoryRecords.get`."""
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
        """See `MemoryRecords.transition`."""
        return self.records.transition(record, to, at, audit=audit, takeover=takeover)

    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]:
        """See `MemoryRecords.active`."""
        return self.records.active(kind)

    def append_audit(self, entry: AuditEntry) -> None:
        """See `MemoryAudit.append`."""
        self.audit.append(entry)

    def audit_trail(self, target: Target) -> list[AuditEntry]:
        """See `MemoryAudit.trail`."""
        return self.audit.trail(target)

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """See `MemorySignals.claim`."""
        return self.signals.claim(key, now=now, ttl_seconds=ttl_seconds)

    def release_signal(self, key: str) -> None:
        """See `MemorySignals.release`."""
        self.signals.release(key)

    def take_breaker_slot(self, slot: BreakerSlot, *, window: timedelta) -> bool:
        """See `MemoryBreakerSlots.take`."""
        return self.breaker.take(slot, window=window)

    def breaker_slots(self, *, since: datetime) -> list[BreakerSlot]:
        """See `MemoryBreakerSlots.taken`."""
        return self.breaker.taken(since=since)

    def account_pause(self, account: str) -> AccountPause | None:
        """See `MemoryPauses.of`."""
        return self.pauses.of(account)


@dataclass
class MemoryFunctions:
    """Lambda functions of one place: reserved concurrency, tags, event source mappings (by UUID)."""

    reserved: dict[str, int | None] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    mappings: dict[str, tuple[str, EventSourceMapping]] = field(default_factory=dict)  # uuid -> (fn, m)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, reserved: int | None = None, tags: dict[str, str] | None = None) -> None:
        """Create a function."""
        self.reserved[name], self.tags[name] = reserved, tags or {}

    def facts(self, name: str) -> FunctionFacts:
        """Its reservation and tags; TargetNotFound when it does not exist."""
        with self.lock:
            if name not in self.reserved:
                raise TargetNotFound(Target.function(name))
            return FunctionFacts(name, self.reserved[name], self.tags[name])

    def set_reserved(self, name: str, value: int) -> None:
        """Reserve `value`."""
        with self.lock:
            if name not in self.reserved:
                raise TargetNotFound(Target.function(name))
            self.reserved[name] = value

    def clear_reserved(self, name: str) -> None:
        """Remove the reservation."""
        with self.lock:
            if name not in self.reserved:
                raise TargetNotFound(Target.function(name))
            self.reserved[name] = None

    def function_names(self) -> Iterable[str]:
        """Every function."""
        return list(self.reserved)

    def map(self, function: str, mapping: EventSourceMapping) -> None:
        """Add (or repoint) an event source mapping."""
        with self.lock:
            self.mappings[mapping.uuid] = (function, mapping)

    def list_mappings(self, function: str) -> list[EventSourceMapping]:
        """The function's mappings (the port's `mappings`, through `MemoryEventSources`)."""
        with self.lock:
            return [m for fn, m in self.mappings.values() if fn == function]

    def feeds(self, mapping: EventSourceMapping) -> tuple[str, str] | None:
        """What the mapping feeds now, or None when it was deleted."""
        with self.lock:
            found = self.mappings.get(mapping.uuid)
        return None if found is None else (found[0], found[1].source_arn)

    def set_enabled(self, mapping: EventSourceMapping, enabled: bool) -> bool:
        """Enable or disable a mapping; False when it was deleted."""
        with self.lock:
            found = self.mappings.get(mapping.uuid)
            if found is None:
                return False
            state = "Enabled" if enabled else "Disabled"
            self.mappings[mapping.uuid] = (found[0], replace(found[1], state=state))
            return True


@dataclass
class MemoryWorkgroups:
    """Athena workgroups of one place: each one's state and configuration (its fingerprint)."""

    states: dict[str, WorkgroupState] = field(default_factory=dict)
    configurations: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, state: WorkgroupState = WorkgroupState.ENABLED, configuration: str = "") -> None:
        """Create a workgroup."""
        with self.lock:
            self.states[name], self.configurations[name] = state, configuration

    def state(self, name: str) -> WorkgroupState:
        """Its state; TargetNotFound when it does not exist."""
        return self.view(name)[0]

    def view(self, name: str) -> tuple[WorkgroupState, str]:
        """Its state and configuration; TargetNotFound when it does not exist."""
        with self.lock:
            if name not in self.states:
                raise TargetNotFound(Target.workgroup(name))
            return self.states[name], self.configurations[name]

    def set_state(self, name: str, state: WorkgroupState) -> None:
        """Enable or disable it."""
        with self.lock:
            if name not in self.states:
                raise TargetNotFound(Target.workgroup(name))
            self.states[name] = state


class MemoryEventSources:
    """The event-source port over `MemoryFunctions`."""

    def __init__(self, functions: MemoryFunctions) -> None:
        self._functions = functions

    def mappings(self, function: str) -> list[EventSourceMapping]:
        """The function's mappings."""
        return self._functions.list_mappings(function)

    def feeds(self, mapping: EventSourceMapping) -> tuple[str, str] | None:
        """What the mapping feeds now."""
        return self._functions.feeds(mapping)

    def set_enabled(self, mapping: EventSourceMapping, enabled: bool) -> bool:
        """Enable or disable it."""
        return self._functions.set_enabled(mapping, enabled)

    def async_failure_targets(self, function: str) -> dict[str, str]:
        """None configured."""
        return {}


@dataclass
class MemoryTopic:
    """An alert topic that keeps what it was sent."""

    sent: list[Alert] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, alert: Alert) -> str:
        """Keep the alert."""
        with self.lock:
            self.sent.append(alert)
            return f"message-{len(self.sent)}"

    def event_types(self) -> list[str]:
        """The `event_type` of every alert sent, in order."""
        return [alert.document["event_type"] for alert in self.sent]
