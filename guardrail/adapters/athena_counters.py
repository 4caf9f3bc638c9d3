"""DynamoDB counters for the Athena watch: exactly-once counting per query, sliding-window totals.

Items in the guardrail's table (all expire through the `expires_at` TTL):
- `ATHENA#QUERY#<id>` / `QUERY`: what is known of one query (its caller from CloudTrail, its bytes
  from the state change). Each side writes its half once, under a condition, in the same transaction
  as the counters it adds, so a duplicate delivery changes nothing and whichever half arrives second
  also books the bytes to the caller: no lost and no double counts, in any order.
- `ATHENA#CALLER#<key>` and `ATHENA#WORKGROUP#<name>`, sort key `M#<minute>` (query counts and ids,
  for the sliding window) and `H#<hour>` (queries, bytes and cost, for the last 24 hours).
  A caller's queries are counted when they start (CloudTrail), a workgroup's when they finish (state
  change), so the workgroup limits work even without a trail.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from guardrail.adapters.clients import client_for
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.model import (
    Booking,
    CountingContention,
    QueryRecord,
    caller_scope,
    workgroup_scope,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

QUERY_SK = "QUERY"
_ATTEMPTS = 4
_NUMBERS = ("queries", "scanned", "cost", "transfer", "xbytes")


class AthenaCounters:
    """Adapter that books queries into the table and reads window totals back."""

    #: IAM actions this adapter calls (TransactWriteItems is authorised per item as UpdateItem).
    PERMISSIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query")

    def __init__(
        self,
        table_name: str,
        *,
        ttl_hours: int = 48,
        boto3_client: DynamoDBClient | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._client: DynamoDBClient = client_for(
            "dynamodb", boto3_client=boto3_client, boto3_session=boto3_session, boto_config=boto_config
        )
        self._table = table_name
        self._ttl = timedelta(hours=ttl_hours)

    def query(self, query_id: str) -> QueryRecord | None:
        """The table's record of a query, if it has one."""
        item = self._get(query_id)
        if item is None:
            return None
        return QueryRecord(caller=_caller(item), finished_at=_time(item.get("finished_ms")))

    def record_start(self, started: QueryStarted) -> bool:
        """Book a query start once; False when it was already booked (a duplicate delivery)."""
        caller = started.caller
        for _ in range(_ATTEMPTS):
            item = self._get(started.query_id) or {}
            if "caller_key" in item:
                return False
            finished = "finished_ms" in item
            bumps = _Bumps(self._ttl)
            bumps.add(caller_scope(caller.key), started.at, queries=1, query_id=started.query_id)
            if finished:  # the state change came first: its bytes are the caller's too
                finished_at, numbers, regions = _booked_cost(item)
                bumps.add_hour(caller_scope(caller.key), finished_at, numbers, regions=regions)
            values: dict[str, Any] = {
                ":key": {"S": caller.key},
                ":arn": {"S": caller.arn},
                ":type": {"S": caller.identity_type},
                ":wg": {"S": started.workgroup},
                ":started": {"N": str(_ms(started.at))},
                ":exp": {"N": str(_epoch(started.at + self._ttl))},
            }
            update = "SET caller_key = :key, caller_arn = :arn, caller_type = :type, workgroup = :wg, "
            update += "started_ms = :started, expires_at = :exp"
            if caller.function:
                update += ", caller_function = :fn"
                values[":fn"] = {"S": caller.function}
            condition = "attribute_not_exists(caller_key) AND "
            condition += "attribute_exists(finished_ms)" if finished else "attribute_not_exists(finished_ms)"
            if self._transact(started.query_id, update, condition, values, bumps):
                return True
        raise CountingContention(f"query {started.query_id}: its record kept changing")

    def record_finish(
        self, finished: QueryFinished, cost: QueryCost, remote_regions: frozenset[str]
    ) -> Booking:
        """Book a finished query once: one query and its bytes to its workgroup, bytes to its caller."""
        for _ in range(_ATTEMPTS):
            item = self._get(finished.query_id) or {}
            caller = _caller(item)
            if "finished_ms" in item:
                return Booking(counted=False, caller=caller)
            numbers = {
                "scanned": cost.scanned_bytes,
                "cost": cost.total_micros,
                "transfer": cost.transfer_micros,
                "xbytes": cost.cross_region_bytes,
            }
            bumps = _Bumps(self._ttl)
            bumps.add(workgroup_scope(finished.workgroup), finished.at, queries=1, query_id=finished.query_id)
            bumps.add_hour(workgroup_scope(finished.workgroup), finished.at, numbers, regions=remote_regions)
            if caller is not None:
                bumps.add_hour(caller_scope(caller.key), finished.at, numbers, regions=remote_regions)
            values: dict[str, Any] = {
                ":fin": {"N": str(_ms(finished.at))},
                ":exp": {"N": str(_epoch(finished.at + self._ttl))},
                **{f":{name}": {"N": str(value)} for name, value in numbers.items()},
            }
            update = "SET finished_ms = :fin, scanned = :scanned, cost = :cost, transfer = :transfer, "
            update += "xbytes = :xbytes, expires_at = if_not_exists(expires_at, :exp)"
            if remote_regions:
                update += ", regions = :regions"
                values[":regions"] = {"SS": sorted(remote_regions)}
            condition = "attribute_not_exists(finished_ms) AND "
            condition += "attribute_exists(caller_key)" if caller else "attribute_not_exists(caller_key)"
            if self._transact(finished.query_id, update, condition, values, bumps):
                return Booking(counted=True, caller=caller)
        raise CountingContention(f"query {finished.query_id}: its record kept changing")

    def totals(self, scope: str, at: datetime, *, window_minutes: int) -> Totals:
        """The scope's query count over the window ending at `at`, and its last 24 hours."""
        minute = at.replace(second=0, microsecond=0)
        hour = minute.replace(minute=0)
        minutes = self._items(
            scope, _minute_sk(minute - timedelta(minutes=window_minutes - 1)), _minute_sk(minute)
        )
        hours = self._items(scope, _hour_sk(hour - timedelta(hours=23)), _hour_sk(hour))
        day = {name: sum(int(i.get(name, {}).get("N", "0")) for i in hours) for name in _NUMBERS}
        ids = [qid for i in minutes for qid in sorted(i.get("ids", {}).get("SS", []))]
        return Totals(
            window_queries=sum(int(i.get("queries", {}).get("N", "0")) for i in minutes),
            day_queries=day["queries"],
            day_scanned_bytes=day["scanned"],
            day_cost_micros=day["cost"],
            day_cross_region_bytes=day["xbytes"],
            day_transfer_micros=day["transfer"],
            remote_regions=frozenset(r for i in hours for r in i.get("regions", {}).get("SS", [])),
            recent_query_ids=tuple(ids),
        )

    def _get(self, query_id: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"ATHENA#QUERY#{query_id}"}, "sk": {"S": QUERY_SK}}
        return self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")

    def _transact(
        self, query_id: str, update: str, condition: str, values: dict[str, Any], bumps: _Bumps
    ) -> bool:
        query_update = {
            "TableName": self._table,
            "Key": {"pk": {"S": f"ATHENA#QUERY#{query_id}"}, "sk": {"S": QUERY_SK}},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        items = [{"Update": query_update}] + [{"Update": u} for u in bumps.updates(self._table)]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException" and (
                "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons
            ):
                return False
            raise
        return True

    def _items(self, scope: str, first: str, last: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {":pk": {"S": scope}, ":first": {"S": first}, ":last": {"S": last}},
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class _Bumps:
    """Counter increments gathered per item, so that one transaction touches each item once."""

    def __init__(self, ttl: timedelta) -> None:
        self._ttl = ttl
        self._numbers: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._sets: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._expiry: dict[tuple[str, str], datetime] = {}

    def add(self, scope: str, at: datetime, *, queries: int, query_id: str) -> None:
        minute = at.replace(second=0, microsecond=0)
        self._bump((scope, _minute_sk(minute)), minute, {"queries": queries}, ids={query_id})
        self._bump((scope, _hour_sk(minute)), minute, {"queries": queries})

    def add_hour(self, scope: str, at: datetime, numbers: dict[str, int], *, regions: frozenset[str]) -> None:
        self._bump((scope, _hour_sk(at)), at, numbers, regions=regions)

    def _bump(
        self,
        key: tuple[str, str],
        at: datetime,
        numbers: dict[str, int],
        *,
        ids: set[str] | None = None,
        regions: frozenset[str] = frozenset(),
    ) -> None:
        for name, value in numbers.items():
            self._numbers[key][name] += value
        self._sets[key]["ids"] |= ids or set()
        self._sets[key]["regions"] |= set(regions)
        self._expiry[key] = max(self._expiry.get(key, at), at)

    def updates(self, table: str) -> list[dict[str, Any]]:
        out = []
        for key, numbers in self._numbers.items():
            adds = [f"{name} :{name}" for name in numbers]
            values: dict[str, Any] = {f":{name}": {"N": str(value)} for name, value in numbers.items()}
            for name, members in self._sets[key].items():
                if members:
                    adds.append(f"{name} :{name}")
                    values[f":{name}"] = {"SS": sorted(members)}
            values[":exp"] = {"N": str(_epoch(self._expiry[key] + self._ttl))}
            out.append(
                {
                    "TableName": table,
                    "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
                    "UpdateExpression": f"ADD {', '.join(adds)} SET expires_at = :exp",
                    "ExpressionAttributeValues": values,
                }
            )
        return out


def _caller(item: dict[str, Any]) -> Caller | None:
    if "caller_key" not in item:
        return None
    function = item.get("caller_function", {}).get("S")
    return Caller(arn=item["caller_arn"]["S"], identity_type=item["caller_type"]["S"], function=function)


def _number(value: Any) -> int:
    if isinstance(value, dict):
        return int(value.get("N", "0"))
    return int(value or 0)


def _time(ms: Any) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(_number(ms) / 1000, UTC)


def _booked_cost(item: dict[str, Any]) -> tuple[datetime, dict[str, int], frozenset[str]]:
    """When a stored query finished, the numbers it booked, and the regions it read."""
    at = datetime.fromtimestamp(_number(item["finished_ms"]) / 1000, UTC)
    numbers = {name: _number(item.get(name)) for name in _NUMBERS if name != "queries"}
    return at, numbers, frozenset(item.get("regions", {}).get("SS", []))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _minute_sk(at: datetime) -> str:
    return f"M#{at:%Y-%m-%dT%H:%M}"


def _hour_sk(at: datetime) -> str:
    return f"H#{at:%Y-%m-%dT%H}"
