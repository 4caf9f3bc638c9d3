"""What enforcement needs from AWS, as protocols over domain types; the adapters implement them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

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
from guardrail.prior_state import EventSourceMapping


class FunctionControl(Protocol):
    """What enforcement needs from Lambda (see `guardrail.adapters.lambda_functions.LambdaControl`)."""

    def facts(self, name: str) -> FunctionFacts: ...
    def set_reserved(self, name: str, value: int) -> None: ...
    def clear_reserved(self, name: str) -> None: ...
    def function_names(self) -> Iterable[str]: ...


class EventSourceControl(Protocol):
    """What enforcement needs from event source mappings (`guardrail.adapters.event_sources.EventSources`)."""

    def mappings(self, function: str) -> list[EventSourceMapping]: ...
    def feeds(self, mapping: EventSourceMapping) -> tuple[str, str] | None: ...
    def set_enabled(self, mapping: EventSourceMapping, enabled: bool) -> bool: ...
    def async_failure_targets(self, function: str) -> dict[str, str]: ...


class WorkgroupControl(Protocol):
    """What enforcement needs from Athena (see `guardrail.adapters.athena_workgroups.AthenaWorkgroups`)."""

    def state(self, name: str) -> WorkgroupState: ...
    def view(self, name: str) -> tuple[WorkgroupState, str]: ...
    def set_state(self, name: str, state: WorkgroupState) -> None: ...


class LedgerStore(Protocol):
    """What enforcement needs from the ledger (see `guardrail.adapters.ledger.Ledger`)."""

    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None: ...
    def release(self, record: ActionRecord) -> bool: ...
    def get(self, target: Target) -> ActionRecord | None: ...
    def transition(
        self,
        record: ActionRecord,
        to: Status,
        at: datetime,
        *,
        audit: AuditEntry | None = None,
        takeover: Takeover | None = None,
    ) -> bool: ...
    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]: ...
    def append_audit(self, entry: AuditEntry) -> None: ...
    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool: ...
    def release_signal(self, key: str) -> None: ...
    def take_breaker_slot(self, slot: BreakerSlot, *, window: timedelta) -> bool: ...
    def breaker_slots(self, *, since: datetime) -> list[BreakerSlot]: ...


class AlertPublisher(Protocol):
    """What enforcement needs to send an alert (see `guardrail.adapters.sns_alerts.SnsAlerts`)."""

    def publish(self, alert: Alert) -> str: ...
