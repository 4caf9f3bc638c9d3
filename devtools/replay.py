"""Replayable Athena traffic shaped like the incident, as the EventBridge events AWS would deliver.

A nightly batch function invokes itself once per query to issue `batch_queries` queries; then, in the
incident, an unhandled error makes it re-invoke itself without waiting, for ever. Every query joins a
table whose data lives in another region than Athena. Each query yields two events, delivered late
and out of order the way EventBridge does: `AWS API Call via CloudTrail` for StartQueryExecution
(behind by `trail_lag_seconds`) and the final `Athena Query State Change` (behind by
`state_lag_seconds`); a share of them is delivered twice. Pure and seeded, so every run is the same.

Each of the batch's queries is its own analysis (a distinct statement, as the real batch's 672 were);
the loop re-runs the statement the error hit, over and over. `history_nights` legitimate nights come
first, one a day, so that the watch learns what the batch's nights look like before the incident's.
A `guarded` batch runs the recursion guard's Athena wrapper: each query also yields the guard's
`Athena Query Started` on the signal bus (behind by `claim_lag_seconds`, EventBridge's own delivery).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrail.detectors.athena.cost import GB
from guardrail.detectors.athena.query_events import API_CALL, STATE_CHANGE
from guardrail.recursion.query_mark import QueryMark, mark_query
from guardrail.recursion.query_started import QUERY_STARTED
from guardrail.recursion.refusal import EVENT_SOURCE

_NAMESPACE = uuid.UUID("6f1e0a52-3c1b-4f2e-9a43-5b6a1d0c7e21")
SIGNALS = "signals"


@dataclass(frozen=True)
class ReplayQuery:
    """One query the batch issues."""

    query_id: str
    started_at: datetime
    finished_at: datetime
    scanned_bytes: int
    sql: str
    looping: bool
    depth: int = 0  # its invocation's depth in the batch's chain


@dataclass(frozen=True)
class Delivery:
    """One event as EventBridge hands it to the watch, at `deliver_at`, from the `bus` it was put on."""

    deliver_at: datetime
    query: ReplayQuery
    event: dict[str, Any]
    bus: str = "default"  # or SIGNALS: the guardrail's signal bus


@dataclass(frozen=True)
class IncidentReplay:
    """The incident's traffic; set `loop_minutes=0` for a legitimate night."""

    function: str = "nightly-batch"
    account: str = "123456789012"
    athena_region: str = "us-west-2"
    data_region: str = "ap-northeast-1"
    workgroup: str = "primary"
    database: str = "sales"
    remote_table: str = "orders"
    remote_bucket: str = "sales-orders-tokyo"
    local_table: str = "customers"
    local_bucket: str = "sales-customers-oregon"
    start: datetime = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    batch_queries: int = 672
    batch_interval_seconds: float = 40.0
    loop_interval_seconds: float = 3.0
    loop_minutes: float = 30.0
    scanned_bytes: int = int(1.2 * GB)
    query_seconds: float = 8.0
    trail_lag_seconds: tuple[float, float] = (20.0, 75.0)
    state_lag_seconds: tuple[float, float] = (0.5, 5.0)
    duplicate_share: float = 0.05
    seed: int = 3
    history_nights: int = 0
    #: The batch runs the recursion guard and marks its queries (`guardrail.recursion.query_mark`).
    marked: bool = False
    #: The batch runs the guard's Athena wrapper, which publishes `Athena Query Started` per query.
    guarded: bool = False
    claim_lag_seconds: tuple[float, float] = (0.3, 0.8)
    #: Every query of the batch runs one statement (each its own analysis, when False).
    one_statement: bool = False

    def queries(self) -> list[ReplayQuery]:
        """Every query the function issues, the earlier nights' first, in start order."""
        out = []
        for night in range(self.history_nights, 0, -1):
            out += self._night(self.start - timedelta(days=night), f"night-{night}:", loop_minutes=0)
        return out + self._night(self.start, "", loop_minutes=self.loop_minutes)

    def history_queries(self) -> list[ReplayQuery]:
        """The queries of the nights before the incident's, in start order."""
        return [q for q in self.queries() if q.started_at < self.start]

    def night_queries(self) -> list[ReplayQuery]:
        """The incident's night only (not the nights before it), in start order."""
        return self._night(self.start, "", loop_minutes=self.loop_minutes)

    def _night(self, start: datetime, prefix: str, *, loop_minutes: float) -> list[ReplayQuery]:
        out = []
        at = start
        loop_end = start + timedelta(seconds=self.batch_queries * self.batch_interval_seconds)
        loop_end += timedelta(minutes=loop_minutes)
        index = 0
        while index < self.batch_queries or at < loop_end:
            looping = index >= self.batch_queries
            out.append(
                ReplayQuery(
                    query_id=str(uuid.uuid5(_NAMESPACE, f"{prefix}{self.seed}:{index}")),
                    started_at=at,
                    finished_at=at + timedelta(seconds=self.query_seconds),
                    scanned_bytes=self.scanned_bytes,
                    sql=self._sql(0 if self.one_statement else min(index, max(self.batch_queries - 1, 0))),
                    looping=looping,
                    depth=index + 1,
                )
            )
            index += 1
            step = self.loop_interval_seconds if looping else self.batch_interval_seconds
            at += timedelta(seconds=step)
        return out

    def deliveries(self, *, history: bool = True) -> list[Delivery]:
        """Every event of every query, duplicates included, in the order they are delivered.

        `history` False: the incident's night only, not the learning nights before it.
        """
        rng = random.Random(self.seed)  # noqa: S311 - seeded jitter, not security
        out = []
        for query in self.queries():
            sent = [
                (self.start_event(query), query.started_at, self.trail_lag_seconds, "default"),
                (self.finish_event(query), query.finished_at, self.state_lag_seconds, "default"),
            ]
            if self.guarded:
                sent.append((self.claim_event(query), query.started_at, self.claim_lag_seconds, SIGNALS))
            for event, at, lag, bus in sent:
                copies = 2 if rng.random() < self.duplicate_share else 1
                for _ in range(copies):
                    out.append(Delivery(at + timedelta(seconds=rng.uniform(*lag)), query, event, bus))
        if not history:
            out = [d for d in out if d.query.started_at >= self.start]
        return sorted(out, key=lambda d: d.deliver_at)

    def _sql(self, index: int) -> str:
        """The batch's analysis number `index`: its own measure, so its own statement."""
        tables = f"{self.database}.{self.remote_table} o JOIN {self.database}.{self.local_table} c"
        where = f"o.customer_id = c.id WHERE o.shard = {index % 16}"
        measure = f"sum(o.measure_{index:03d})"
        sql = f"SELECT c.region, {measure} FROM {tables} ON {where} GROUP BY c.region"  # noqa: S608 - sample SQL, never run
        return mark_query(sql, QueryMark(self.function, f"night-{self.seed}")) if self.marked else sql

    def query_execution(self, query: ReplayQuery) -> dict[str, Any]:
        """GetQueryExecution's `QueryExecution` for a finished query (moto reports 0 bytes)."""
        return {
            "QueryExecutionId": query.query_id,
            "Query": query.sql,
            "StatementType": "DML",
            "QueryExecutionContext": {"Database": self.database, "Catalog": "AwsDataCatalog"},
            "Status": {
                "State": "SUCCEEDED",
                "SubmissionDateTime": query.started_at,
                "CompletionDateTime": query.finished_at,
            },
            "Statistics": {"DataScannedInBytes": query.scanned_bytes},
            "WorkGroup": self.workgroup,
        }

    def tables(self) -> Iterator[tuple[str, str, str, str]]:
        """(database, table, bucket, bucket region) of every table the queries read."""
        yield self.database, self.remote_table, self.remote_bucket, self.data_region
        yield self.database, self.local_table, self.local_bucket, self.athena_region

    def start_event(self, query: ReplayQuery) -> dict[str, Any]:
        """The `AWS API Call via CloudTrail` event of the query's StartQueryExecution."""
        role = f"{self.function}-role"
        time = f"{query.started_at:%Y-%m-%dT%H:%M:%SZ}"
        return self._athena_event(
            f"trail:{query.query_id}",
            API_CALL,
            time,
            {
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": f"AROAEXAMPLEROLEID:{self.function}",
                    "arn": f"arn:aws:sts::{self.account}:assumed-role/{role}/{self.function}",
                    "accountId": self.account,
                    "accessKeyId": "ASIAEXAMPLEKEYID",
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": "AROAEXAMPLEROLEID",
                            "arn": f"arn:aws:iam::{self.account}:role/{role}",
                            "accountId": self.account,
                            "userName": role,
                        },
                        "attributes": {"creationDate": time, "mfaAuthenticated": "false"},
                    },
                },
                "eventTime": time,
                "eventSource": "athena.amazonaws.com",
                "eventName": "StartQueryExecution",
                "awsRegion": self.athena_region,
                "sourceIPAddress": "203.0.113.10",
                "userAgent": "Boto3/1.40.0 md/Botocore#1.40.0 exec-env/AWS_Lambda_python3.13",
                "requestParameters": {
                    "queryString": query.sql,
                    "clientRequestToken": str(uuid.uuid5(_NAMESPACE, f"token:{query.query_id}")),
                    "queryExecutionContext": {"database": self.database},
                    "workGroup": self.workgroup,
                },
                "responseElements": {"queryExecutionId": query.query_id},
                "requestID": str(uuid.uuid5(_NAMESPACE, f"request:{query.query_id}")),
                "eventID": str(uuid.uuid5(_NAMESPACE, f"event:{query.query_id}")),
                "readOnly": False,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": self.account,
                "eventCategory": "Management",
            },
        )

    def claim_event(self, query: ReplayQuery) -> dict[str, Any]:
        """The guard's `Athena Query Started` for the query, as the batch function publishes it."""
        return {
            "version": "0",
            "id": str(uuid.uuid5(_NAMESPACE, f"claim:{query.query_id}")),
            "detail-type": QUERY_STARTED,
            "source": EVENT_SOURCE,
            "account": self.account,
            "time": f"{query.started_at:%Y-%m-%dT%H:%M:%SZ}",
            "region": self.athena_region,
            "resources": [f"arn:aws:lambda:{self.athena_region}:{self.account}:function:{self.function}"],
            "detail": {
                "function": self.function,
                "query_execution_id": query.query_id,
                "workgroup": self.workgroup,
                "chain_id": f"night-{self.seed}",
                "depth": query.depth,
                "caller": f"arn:aws:sts::{self.account}:assumed-role/{self.function}-role/{self.function}",
                "query": query.sql,
            },
        }

    def finish_event(self, query: ReplayQuery) -> dict[str, Any]:
        """The `Athena Query State Change` event of the query reaching SUCCEEDED."""
        return self._athena_event(
            f"state:{query.query_id}",
            STATE_CHANGE,
            f"{query.finished_at:%Y-%m-%dT%H:%M:%SZ}",
            {
                "currentState": "SUCCEEDED",
                "previousState": "RUNNING",
                "queryExecutionId": query.query_id,
                "sequenceNumber": "3",
                "statementType": "DML",
                "versionId": "0",
                "workgroupName": self.workgroup,
            },
        )

    def _athena_event(self, seed: str, detail_type: str, time: str, detail: dict[str, Any]) -> dict[str, Any]:
        """An EventBridge event from Athena in the replay's account and region; `seed` fixes its id."""
        return {
            "version": "0",
            "id": str(uuid.uuid5(_NAMESPACE, seed)),
            "detail-type": detail_type,
            "source": "aws.athena",
            "account": self.account,
            "time": time,
            "region": self.athena_region,
            "resources": [],
            "detail": detail,
        }
