"""The ledger table's item layout: keys, and records and audit entries to and from DynamoDB items.

A target of the guardrail's own account and region keeps the key it always had (`FUNCTION#<name>`);
a target elsewhere is keyed `FUNCTION#<account>#<region>#<name>` (names never hold `#`), so records
of many accounts spread over as many partitions as there are targets.

Items are (de)serialized with boto3's TypeSerializer/TypeDeserializer. Items written before workgroups
joined the ledger (`FUNCTION#<name>` / `THROTTLE`, with `had_reservation` and `prior_reservation`)
are read as they are: the target comes from `pk`, the prior state from the legacy attributes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Unpack

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.domain import ActionRecord, AuditEntry, Status, Target, TargetKind
from guardrail.prior_state import PriorState
from guardrail.scope import Scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: Sort key of a target's one record (named when every record was a throttle).
RECORD_SK = "THROTTLE"
AUDIT_PREFIX = "AUDIT#"
SIGNAL_SK = "SIGNAL"
#: The sparse index of active records: only a record that is applied or flagged has `status`.
ACTIVE_INDEX = "ActiveRecords"
ACTIVE_INDEX_PARTITION_KEY = "status"
ACTIVE_INDEX_SORT_KEY = "throttled_at"
#: The sparse index of the audit trail across targets: only audit entries carry both `kind` and `at`
#: (a record has `kind` but `throttled_at`), so `history` of a kind reads one partition, newest first.
AUDIT_INDEX = "AuditTrail"
AUDIT_INDEX_PARTITION_KEY = "kind"
AUDIT_INDEX_SORT_KEY = "at"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class TargetKeys:
    """Partition keys of targets, and targets of partition keys, as seen from the guardrail's home.

    Without a home (a reader that only knows the table), keys are read as written: a home key gives a
    target with a blank account and region.
    """

    def __init__(self, home: Scope | None = None) -> None:
        self._home = home

    def pk(self, target: Target) -> str:
        """The partition key of everything about one target."""
        kind = target.kind.value.upper()
        if self._at_home(target):
            return f"{kind}#{target.name}"
        return f"{kind}#{target.account}#{target.region}#{target.name}"

    def target(self, pk: str) -> Target:
        """The target a partition key belongs to."""
        kind, *place, name = pk.split("#")
        if len(place) == 2:
            return Target(TargetKind(kind.lower()), name, *place)
        target = Target(TargetKind(kind.lower()), name)
        return target if self._home is None else target.located(self._home.account, self._home.region)

    def _at_home(self, target: Target) -> bool:
        if not (target.account and target.region):
            return True
        home = self._home
        return home is not None and home.is_home(target.account, target.region)


class LedgerTable(AwsAdapter["DynamoDBClient"]):
    """The table and its client, built from an injected client, session or config (powertools style).

    `home` is where the guardrail runs: its targets keep their unqualified keys (see `TargetKeys`).
    """

    SERVICE = "dynamodb"

    def __init__(
        self, table_name: str, *, home: Scope | None = None, **clients: Unpack[ClientOptions[DynamoDBClient]]
    ) -> None:
        super().__init__(**clients)
        self._table = table_name
        self._keys = TargetKeys(home)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (or key, or expression values) from plain values."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values from a DynamoDB item."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def record_key(target: Target, keys: TargetKeys) -> dict[str, Any]:
    """The key of a target's record."""
    return to_item({"pk": keys.pk(target), "sk": RECORD_SK})


def ms(at: datetime) -> int:
    """Milliseconds since the epoch, for conditions that compare times."""
    return int(at.timestamp() * 1000)


def record_item(record: ActionRecord, keys: TargetKeys) -> dict[str, Any]:
    """The item of a record; `status` is left out once restored, which takes it out of the index."""
    values: dict[str, Any] = {
        "pk": keys.pk(record.target),
        "sk": RECORD_SK,
        "kind": record.target.kind.value,
        "name": record.target.name,
        "prior": record.prior,
        "throttle_id": record.record_id,
        "throttled_at": record.acted_at.isoformat(),
        "throttled_ms": ms(record.acted_at),
        "detector": record.detector,
        "reason": record.reason or "-",
        "evidence": json.dumps(record.evidence, sort_keys=True, default=str),
    }
    if record.active:
        values["status"] = record.status.value
    if record.moves:
        values["moves"] = record.moves
    if record.restored_at is not None:
        values |= {"restored_at": record.restored_at.isoformat(), "restored_ms": ms(record.restored_at)}
    return to_item(values)


def record_from_item(item: Mapping[str, Any], keys: TargetKeys) -> ActionRecord:
    """A record from its item, whether written by this release or the one before."""
    values = from_item(item)
    restored, changed = values.get("restored_at"), values.get("changed_at")
    return ActionRecord(
        target=keys.target(values["pk"]),
        status=Status(values.get("status", Status.RESTORED)),
        prior=_prior(values),
        record_id=values["throttle_id"],
        acted_at=parse_time(values["throttled_at"]),
        detector=values["detector"],
        reason=values["reason"],
        evidence=json.loads(values.get("evidence", "{}")),
        restored_at=None if restored is None else parse_time(restored),
        changed_at=None if changed is None else parse_time(changed),
        moves=int(values.get("moves", 0)),
    )


def audit_item(entry: AuditEntry, suffix: str, keys: TargetKeys) -> dict[str, Any]:
    """The item of an audit entry; `suffix` keeps two entries of the same instant apart."""
    values: dict[str, Any] = {
        "pk": keys.pk(entry.target),
        "sk": f"{AUDIT_PREFIX}{entry.at.isoformat()}#{suffix}",
        "kind": entry.target.kind.value,
        "name": entry.target.name,
        "action": entry.action,
        "result": entry.result,
        "at": entry.at.isoformat(),
    }
    values |= {
        name: getattr(entry, name) for name in ("detector", "reason", "detail") if getattr(entry, name)
    }
    return to_item(values)


def audit_from_item(item: Mapping[str, Any], keys: TargetKeys) -> AuditEntry:
    """An audit entry from its item."""
    values = from_item(item)
    return AuditEntry(
        target=keys.target(values["pk"]),
        action=values["action"],
        result=values["result"],
        at=parse_time(values["at"]),
        detector=values.get("detector", ""),
        reason=values.get("reason", ""),
        detail=values.get("detail", ""),
    )


def parse_time(value: str) -> datetime:
    """An ISO time, in UTC when it names no zone."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _prior(values: Mapping[str, Any]) -> PriorState:
    if "prior" in values:
        prior = values["prior"]
    elif values.get("had_reservation"):  # written before workgroups joined the ledger
        prior = values["prior_reservation"]
    else:
        prior = None
    return int(prior) if isinstance(prior, Decimal) else prior
