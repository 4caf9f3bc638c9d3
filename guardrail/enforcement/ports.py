"""What enforcement needs from AWS, as protocols over domain types; the adapters implement them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from guardrail.alerts.render import Alert
from guardrail.domain import (
    ActionRecord,
    AuditEntry,
    FunctionFacts,
    Status,
    Target,
    TargetKind,
    WorkgroupState,
)


class FunctionControl(Protocol):
    """What enforcement needs from Lambda (see `guardrail.adapters.lambda_functions.LambdaControl`)."""

    def facts(self, name: str) -> FunctionFacts: ...
    def set_reserved(self, name: str, value: int) -> None: ...
    def clear_reserved(self, name: str) -> None: ...
    def function_names(self) -> Iterable[str]: ...


class WorkgroupControl(Protocol):
    """What enforcement needs from Athena (see `guardrail.adapters.athena_workgroups.AthenaWorkgroups`)."""

    def state(self, name: str) -> WorkgroupState: ...
    def set_state(self, name: str, state: WorkgroupState) -> None: ...


class LedgerStore(Protocol):
    """What enforcement needs from the ledger (see `guardrail.adapters.ledger.Ledger`)."""

    def claim(self, record: ActionRecord, *, replacing: str | None) -> ActionRecord | None: ...
    def release(self, record: ActionRecord) -> bool: ...
    def get(self, target: Target) -> ActionRecord | None: ...
    def transition(
        self, record: ActionRecord, to: Status, at: datetime, *, audit: AuditEntry | None = None
    ) -> bool: ...
    def active(self, kind: TargetKind | None = None) -> list[ActionRecord]: ...
    def append_audit(self, entry: AuditEntry) -> None: ...
    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool: ...
    def release_signal(self, key: str) -> None: ...
    def count_action(self, hour: datetime, *, limit: int) -> bool: ...
    def actions_counted(self, hour: datetime) -> int: ...


class AlertPublisher(Protocol):
    """What enforcement needs to send an alert (see `guardrail.adapters.sns_alerts.SnsAlerts`)."""

    def publish(self, alert: Alert) -> str: ...
