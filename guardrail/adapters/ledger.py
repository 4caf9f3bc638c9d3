"""DynamoDB ledger: who is throttled and what they had before, the audit trail, signal dedupe.

One table, keyed by `pk`/`sk`:
- `FUNCTION#<name>` / `THROTTLE`: the function's throttle record (first record wins).
- `FUNCTION#<name>` / `AUDIT#<time>#<id>`: one item per action, never overwritten.
- `SIGNAL#<key>` / `SIGNAL`: marks a signal as handled until `expires_at` (TTL).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from guardrail.adapters.clients import client_for
from guardrail.domain import AuditEntry, Status, ThrottleRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

THROTTLE_SK = "THROTTLE"
SIGNAL_SK = "SIGNAL"
_CONDITION_FAILED = "ConditionalCheckFailedException"


class Ledger:
    """Adapter over the guardrail's DynamoDB table."""

    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = (
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
    )

    def __init__(
        self,
        table_name: str,
        *,
        boto3_client: DynamoDBClient | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._client: DynamoDBClient = client_for(
            "dynamodb", boto3_client=boto3_client, boto3_session=boto3_session, boto_config=boto_config
        )
        self._table = table_name

    # -- throttle records -------------------------------------------------------------------

    def claim(self, record: ThrottleRecord, *, facts_read_at: datetime) -> ThrottleRecord | None:
        """Write `record` unless the function already has an active one; first record wins.

        A record restored after `facts_read_at` also blocks the claim, since the caller's
        view of the function's reservation predates that restore. Returns None when the
        claim is won, otherwise the record that stands in its way.
        """
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_record_item(record),
                ConditionExpression="attribute_not_exists(pk) OR (#s = :restored AND restored_ms < :read)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":restored": {"S": Status.RESTORED.value},
                    ":read": {"N": str(_ms(facts_read_at))},
                },
            )
        except ClientError as exc:
            if _code(exc) != _CONDITION_FAILED:
                raise
            existing = self.get(record.function)
            if existing is None:  # deleted between the write and the read: report it as contended
                return replace(record, status=Status.RESTORED, restored_at=record.throttled_at)
            return existing
        return None

    def release(self, function: str, throttle_id: str) -> None:
        """Undo a claim whose throttle could not be applied."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key(f"FUNCTION#{function}", THROTTLE_SK),
                ConditionExpression="throttle_id = :id",
                ExpressionAttributeValues={":id": {"S": throttle_id}},
            )
        except ClientError as exc:
            if _code(exc) != _CONDITION_FAILED:
                raise

    def get(self, function: str) -> ThrottleRecord | None:
        """Return the function's throttle record, if it has one."""
        response = self._client.get_item(
            TableName=self._table, Key=_key(f"FUNCTION#{function}", THROTTLE_SK), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else _record_from_item(item)

    def mark_restored(self, record: ThrottleRecord, at: datetime) -> bool:
        """Move an active record to restored; False when another caller got there first."""
        return self._transition(record, Status.RESTORED, at)

    def reopen(self, record: ThrottleRecord) -> bool:
        """Put a record back to its active state after a restore that could not be applied."""
        return self._transition(replace(record, status=Status.RESTORED), record.status, None)

    def active(self) -> list[ThrottleRecord]:
        """Every throttled or flagged function, oldest first."""
        records = [_record_from_item(item) for item in self._scan_throttle_records()]
        return sorted((r for r in records if r.active), key=lambda r: r.throttled_at)

    def _transition(self, record: ThrottleRecord, to: Status, at: datetime | None) -> bool:
        names = {"#s": "status"}
        values: dict[str, Any] = {
            ":from": {"S": record.status.value},
            ":to": {"S": to.value},
            ":id": {"S": record.throttle_id},
        }
        if at is None:
            update = "SET #s = :to REMOVE restored_at, restored_ms"
        else:
            update = "SET #s = :to, restored_at = :at, restored_ms = :ms"
            values |= {":at": {"S": at.isoformat()}, ":ms": {"N": str(_ms(at))}}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(f"FUNCTION#{record.function}", THROTTLE_SK),
                UpdateExpression=update,
                ConditionExpression="#s = :from AND throttle_id = :id",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _code(exc) != _CONDITION_FAILED:
                raise
            return False
        return True

    def _scan_throttle_records(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": {":sk": {"S": THROTTLE_SK}},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.scan(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- audit trail ------------------------------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> None:
        """Add one entry to the audit trail."""
        item = {
            **_key(f"FUNCTION#{entry.function}", f"AUDIT#{entry.at.isoformat()}#{uuid.uuid4().hex[:12]}"),
            "function": {"S": entry.function},
            "action": {"S": entry.action},
            "result": {"S": entry.result},
            "at": {"S": entry.at.isoformat()},
        }
        for name in ("detector", "reason", "detail"):
            value = getattr(entry, name)
            if value:
                item[name] = {"S": value}
        self._client.put_item(TableName=self._table, Item=item)

    def audit_trail(self, function: str) -> list[AuditEntry]:
        """The function's audit entries, oldest first."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "pk = :pk AND begins_with(sk, :audit)",
            "ExpressionAttributeValues": {":pk": {"S": f"FUNCTION#{function}"}, ":audit": {"S": "AUDIT#"}},
            "ConsistentRead": True,
        }
        entries: list[AuditEntry] = []
        while True:
            page = self._client.scan(**kwargs)
            entries.extend(_audit_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(entries, key=lambda e: e.at)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- signal dedupe ----------------------------------------------------------------------

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        """Mark a signal as handled; False when it already was (a duplicate delivery)."""
        now_s = int(now.timestamp())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**_key(f"SIGNAL#{key}", SIGNAL_SK), "expires_at": {"N": str(now_s + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now_s)}},
            )
        except ClientError as exc:
            if _code(exc) != _CONDITION_FAILED:
                raise
            return False
        return True

    def release_signal(self, key: str) -> None:
        """Forget a signal whose action failed, so that a redelivery can retry it."""
        self._client.delete_item(TableName=self._table, Key=_key(f"SIGNAL#{key}", SIGNAL_SK))


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _record_item(record: ThrottleRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(f"FUNCTION#{record.function}", THROTTLE_SK),
        "function": {"S": record.function},
        "status": {"S": record.status.value},
        "had_reservation": {"BOOL": record.prior_reservation is not None},
        "throttle_id": {"S": record.throttle_id},
        "throttled_at": {"S": record.throttled_at.isoformat()},
        "throttled_ms": {"N": str(_ms(record.throttled_at))},
        "detector": {"S": record.detector},
        "reason": {"S": record.reason or "-"},
        "evidence": {"S": json.dumps(record.evidence, sort_keys=True, default=str)},
    }
    if record.prior_reservation is not None:
        item["prior_reservation"] = {"N": str(record.prior_reservation)}
    return item


def _record_from_item(item: Mapping[str, Any]) -> ThrottleRecord:
    restored = item.get("restored_at", {}).get("S")
    prior = item["prior_reservation"]["N"] if item.get("had_reservation", {}).get("BOOL") else None
    return ThrottleRecord(
        function=item["function"]["S"],
        status=Status(item["status"]["S"]),
        prior_reservation=None if prior is None else int(prior),
        throttle_id=item["throttle_id"]["S"],
        throttled_at=_parse_time(item["throttled_at"]["S"]),
        detector=item["detector"]["S"],
        reason=item["reason"]["S"],
        evidence=json.loads(item.get("evidence", {}).get("S", "{}")),
        restored_at=None if restored is None else _parse_time(restored),
    )


def _audit_from_item(item: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        function=item["function"]["S"],
        action=item["action"]["S"],
        result=item["result"]["S"],
        at=_parse_time(item["at"]["S"]),
        detector=item.get("detector", {}).get("S", ""),
        reason=item.get("reason", {}).get("S", ""),
        detail=item.get("detail", {}).get("S", ""),
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
