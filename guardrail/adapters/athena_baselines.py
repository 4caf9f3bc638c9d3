"""DynamoDB store of the Athena watch's learned baselines, in the guardrail's table.

One bounded item per caller or workgroup: `ATHENA#BASELINE#<scope>` / `BASELINE`, holding `since`,
`folded_through`, `hours` (hour -> [queries, bytes, first and last active minute], the last
`historyDays` days; an item written before the minutes were kept has none) and `fps` (the top
fingerprints and the most runs of each in one hour), with a `version` for optimistic writes. It is
folded from the counters the exactly-once booking writes (`H#<hour>` and `F#<hour>#<fingerprint>`
under the scope's counter key, see `guardrail.adapters.athena_counters`): a fold copies settled hours
in, so a retried or concurrent fold writes the same item, and a lost race is simply read again.
What to fold and how is decided in `guardrail.detectors.athena.baseline`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Unpack

from guardrail.adapters.athena_counters import buckets
from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.clients import AwsAdapter, ClientOptions
from guardrail.adapters.dynamodb_codec import epoch, from_item, hour_text, parse_hour, to_item
from guardrail.adapters.permissions import Grant, Resource
from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import HOUR, Baseline, HourCount, due, fold, hour_of, started
from guardrail.detectors.athena.windows import (
    FINGERPRINT_PREFIX,
    MINUTES,
    Counts,
    fingerprint_bucket,
    hour_bucket,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

BASELINE_SK = "BASELINE"
#: Statement counters read per folded hour at most (a caller with more distinct statements in one hour
#: has its top list learned from these).
FINGERPRINTS_PER_HOUR = 2000
#: How many times a fold is read and tried again after another writer changed the item.
ATTEMPTS = 3
#: Baselines kept in memory per container (a folded baseline is the same for every reader); past it, the
#: one read longest ago is dropped, so a few hundred busy callers do not make every read a miss.
CACHED_SCOPES = 512


class AthenaBaselines(AwsAdapter["DynamoDBClient"]):
    """Adapter that reads a scope's baseline, folding the hours that settled since it was last written."""

    SERVICE = "dynamodb"
    PERMISSIONS = (
        Grant(
            Resource.LEDGER_TABLE,
            ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"),
        ),
    )

    def __init__(self, table_name: str, config: Baselines, **clients: Unpack[ClientOptions[DynamoDBClient]]):
        super().__init__(**clients)
        self._table = table_name
        self._learning = config
        #: The baselines this container read or wrote last, least recently read first: one changes only
        #: when an hour settles.
        self._known: OrderedDict[str, Baseline] = OrderedDict()

    @translated("PutItem")
    def baseline(self, scope: str, at: datetime) -> Baseline:
        """The scope's baseline at `at`, after folding in the hours settled since its last write."""
        known = self._known.get(scope)
        if known is not None and due(known, at, self._learning) is None:
            self._known.move_to_end(scope)
            return known
        self._known[scope] = found = self._folded(scope, at)
        self._known.move_to_end(scope)
        while len(self._known) > CACHED_SCOPES:
            self._known.popitem(last=False)
        return found

    def _folded(self, scope: str, at: datetime) -> Baseline:
        for _ in range(ATTEMPTS):
            stored = self._read(scope)
            current = started(stored or Baseline(), at)
            span = due(current, at, self._learning)
            if span is None and stored is not None:
                return current
            if span is not None:
                hours = self._hours(scope, span)
                busy = [hour for hour, count in hours.items() if count.queries > 0]
                current = fold(current, hours, self._fingerprints(scope, busy), span, self._learning)
            try:
                self._write(scope, current, expected=None if stored is None else stored.version)
            except ConditionFailed:
                continue
            return replace(current, version=current.version + 1)
        return current  # another writer keeps folding the same hours: its answer is as good as ours

    @translated("Query")
    def recent_hours(self, scope: str, at: datetime) -> dict[datetime, HourCount]:
        """The scope's hour buckets of the last day, the current hour included."""
        hour = hour_of(at)
        return self._hours(scope, (hour - timedelta(hours=23), hour))

    @translated("BatchGetItem")
    def statement_runs(self, scope: str, at: datetime, fingerprint: str) -> int:
        """Runs of one statement in the current and the previous hour."""
        hours = (hour_of(at) - HOUR, hour_of(at))
        keys = [to_item({"pk": scope, "sk": fingerprint_bucket(h, fingerprint)}) for h in hours]
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        total = 0
        while request:
            answer = self._client.batch_get_item(RequestItems=request)
            total += sum(
                int(from_item(i).get("queries", 0)) for i in answer["Responses"].get(self._table, [])
            )
            request = dict(answer.get("UnprocessedKeys") or {})
        return total

    def _read(self, scope: str) -> Baseline | None:
        item = self._client.get_item(TableName=self._table, Key=to_item(_key(scope)), ConsistentRead=True)
        return None if "Item" not in item else _baseline(from_item(item["Item"]))

    def _write(self, scope: str, baseline: Baseline, *, expected: int | None) -> None:
        """Write the baseline if it is still at version `expected` (None: absent); it expires unused."""
        item = baseline_item(scope, replace(baseline, version=baseline.version + 1), self._learning)
        with translated("PutItem"):
            if expected is None:
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            else:
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(item),
                    ConditionExpression="version = :v",
                    ExpressionAttributeValues=to_item({":v": expected}),
                )

    def _hours(self, scope: str, span: tuple[datetime, datetime]) -> dict[datetime, HourCount]:
        out = {}
        for item in self._query(scope, hour_bucket(span[0]), hour_bucket(span[1])):
            counts = Counts.read(item)
            out[parse_hour(item["sk"][2:])] = HourCount(
                counts.queries, counts.scanned, frozenset(int(m) for m in item.get(MINUTES, ()))
            )
        return out

    def _fingerprints(self, scope: str, hours: Iterable[datetime]) -> dict[str, int]:
        """The most runs of each statement in one of `hours` (the hours that had queries).

        One Query per hour with queries, none for an idle one: a fold after a long quiet gap reads no
        more than one after a busy hour. At most `FINGERPRINTS_PER_HOUR` counters of an hour are read.
        """
        most: dict[str, int] = {}
        for hour in sorted(hours):
            prefix = f"{FINGERPRINT_PREFIX}{hour_text(hour)}#"
            for read, item in enumerate(self._query(scope, prefix, prefix + "~")):
                if read >= FINGERPRINTS_PER_HOUR:
                    break
                name = item["sk"][len(prefix) :]
                most[name] = max(most.get(name, 0), int(item.get("queries", 0)))
        return most

    def _query(self, scope: str, first: str, last: str) -> Iterator[dict[str, Any]]:
        return buckets(self._client, self._table, scope, first, last)


def baseline_key(scope: str) -> str:
    """The partition key of a scope's baseline (`scope` is a counter scope: `ATHENA#CALLER#...`)."""
    return "ATHENA#BASELINE#" + scope.removeprefix("ATHENA#")


def baseline_item(scope: str, baseline: Baseline, learning: Baselines) -> dict[str, Any]:
    """The item that stores a scope's baseline (before serialization); it expires unused."""
    latest = baseline.folded_through or baseline.since or hour_of(datetime.now(UTC))
    item = {
        **_key(scope),
        "since": hour_text(baseline.since),
        "hours": {
            hour_text(h): [c.queries, c.scanned, *sorted(c.minutes)] for h, c in baseline.hours.items()
        },
        "fps": dict(baseline.fingerprints),
        "version": baseline.version,
        "expires_at": epoch(latest + timedelta(days=learning.history_days)),
    }
    if baseline.folded_through is not None:
        item["folded_through"] = hour_text(baseline.folded_through)
    return item


def _key(scope: str) -> dict[str, str]:
    return {"pk": baseline_key(scope), "sk": BASELINE_SK}


def _baseline(item: dict[str, Any]) -> Baseline:
    folded = item.get("folded_through")
    return Baseline(
        since=parse_hour(item["since"]),
        folded_through=None if folded is None else parse_hour(folded),
        hours={
            parse_hour(h): HourCount(int(q), int(b), frozenset(int(m) for m in minutes))
            for h, (q, b, *minutes) in item.get("hours", {}).items()
        },
        fingerprints={name: int(n) for name, n in item.get("fps", {}).items()},
        version=int(item.get("version", 0)),
    )
