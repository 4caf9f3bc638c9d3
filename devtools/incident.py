"""Replays an incident through the deployed guardrail on the local stand-in, on the events' own clock.

The world: the batch function in its account and region (with its prior reservation; tagged
`guardrail:guarded` when it runs the guard), the Glue tables and the S3 buckets in their regions. The
traffic: the scenario's EventBridge events, delivered in the order and with the lags EventBridge has,
on the buses of the batch's account and region (AWS's on the default bus, the guard's on the signal
bus), and from there by the deployed rules: forwarded to the guardrail's home, then to its handlers
(`devtools.fleet`, `devtools.event_bridge`). A throttled
function issues no more queries: every query that would start after the throttle is never delivered.
The learning nights before the incident's are not delivered event by event: what they leave in the
table is written in one batch first (`devtools.history`).

moto's Athena knows none of the replay's query ids and reports 0 bytes scanned, so `GetQueryExecution`
is answered from the replay at botocore's boundary (a built-in `before-call` handler, which every
client created afterwards carries), the same way botocore's Stubber answers a call.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from devtools.deploy import create_bucket
from devtools.loops import learn_nights, throttled, until_stopped
from devtools.moto_server import ACCOUNT
from devtools.replay import SIGNALS, Delivery, IncidentReplay, ReplayQuery
from devtools.scenario import Scenario
from guardrail.config import AthenaWatchConfig
from guardrail.scope import TAG_GUARDED

if TYPE_CHECKING:
    from devtools.fleet import FleetDeployment

#: An empty zip archive: moto stores function code it never runs.
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
LAMBDA_TRUST = {  # a Lambda execution role's trust policy
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
    ],
}


@dataclass
class Timeline:
    """What happened during the replay, in event time."""

    start: datetime
    loop_started_at: datetime | None
    limits_left_at: datetime | None
    throttled_at: datetime | None
    issued: list[ReplayQuery]
    planned: list[ReplayQuery]
    deliveries: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def detection_delay(self) -> timedelta | None:
        """From the moment the rate left the limits to the throttle."""
        if self.limits_left_at is None or self.throttled_at is None:
            return None
        return self.throttled_at - self.limits_left_at


def first_breach(replay: IncidentReplay, config: AthenaWatchConfig) -> datetime | None:
    """When the function's query starts first exceed its fixed limits, on exact sliding windows."""
    rules = config.caller_rules(replay.function)
    window, day = timedelta(minutes=config.window_minutes), timedelta(hours=24)
    starts = [q.started_at for q in replay.queries()]
    first = first_of_day = 0
    for index, at in enumerate(starts):
        while starts[first] <= at - window:
            first += 1
        while starts[first_of_day] <= at - day:
            first_of_day += 1
        over_day = index + 1 - first_of_day > rules.max_queries_per_day
        if at >= replay.start and (index + 1 - first > rules.max_queries_per_window or over_day):
            return at
    return None


def create_function(
    session: boto3.session.Session,
    name: str,
    *,
    role: str,
    handler: str = "app.handler",
    tags: dict[str, str] | None = None,
    reserved: int | None = None,
) -> str:
    """Create a function (empty code: moto never runs it) under the role `role`; return its ARN.

    The role (a Lambda execution role) is created if missing; `reserved` is its reserved concurrency.
    """
    iam = session.client("iam")
    try:
        role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"][
            "Arn"
        ]
    client = session.client("lambda")
    arn = client.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": EMPTY_ZIP},
        Tags=tags or {},
    )["FunctionArn"]
    if reserved is not None:
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return str(arn)


def build_world(session: boto3.session.Session, scenario: Scenario) -> None:
    """Create the batch function (under the role its sessions name), the Glue tables and buckets."""
    replay = scenario.replay
    create_function(
        session,
        replay.function,
        role=f"{replay.function}-role",
        handler="batch.handler",
        tags={TAG_GUARDED: "true"} if replay.guarded else {},
        reserved=scenario.reserved_concurrency,
    )
    store_tables(session, replay)


def store_tables(session: boto3.session.Session, replay: IncidentReplay) -> None:
    """Create the replay's Glue tables, each over a bucket in its own region."""
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": replay.database})
    for database, table, bucket, region in replay.tables():
        create_bucket(session, bucket, region)
        glue.create_table(
            DatabaseName=database,
            TableInput={"Name": table, "StorageDescriptor": {"Location": f"s3://{bucket}/{table}/"}},
        )


class QueryStatistics:
    """Answers `athena.GetQueryExecution` from the replay, as a client or at botocore's boundary.

    Used as a context manager, it answers the call in every client created inside the block.
    """

    def __init__(self, replay: IncidentReplay) -> None:
        self._queries = {q.query_id: (replay, q) for q in replay.queries()}
        self.calls = 0

    def also(self, replay: IncidentReplay) -> None:
        """Answer for another replay's queries too (another table, another night)."""
        self._queries |= {q.query_id: (replay, q) for q in replay.queries()}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        """The replay's `GetQueryExecution` answer; an unknown id fails as Athena fails it."""
        self.calls += 1
        known = self._queries.get(QueryExecutionId)
        if known is None:
            error = {
                "Code": "InvalidRequestException",
                "Message": f"QueryExecution {QueryExecutionId} was not found",
            }
            raise ClientError({"Error": error}, "GetQueryExecution")
        replay, query = known
        return {"QueryExecution": replay.query_execution(query)}

    def __enter__(self) -> QueryStatistics:
        botocore.handlers.BUILTIN_HANDLERS.append(("before-call.athena.GetQueryExecution", self._answer))
        return self

    def __exit__(self, *_: object) -> None:
        # clients created inside the block keep the handler; new ones do not get it
        botocore.handlers.BUILTIN_HANDLERS.remove(("before-call.athena.GetQueryExecution", self._answer))

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        query_id = json.loads(params["body"])["QueryExecutionId"]
        return AWSResponse("local://athena", 200, {}, io.BytesIO()), self.get_query_execution(query_id)


def replay_incident(
    scenario: Scenario,
    fleet: FleetDeployment,
    *,
    progress: Callable[[datetime, int, list[ReplayQuery]], None] | None = None,
    progress_every: timedelta = timedelta(minutes=30),
) -> Timeline:
    """Learn the nights before the incident's, then deliver its night's events through the deployed rules.

    The events are put on the buses of the batch's own account and region; the deployed forwarding
    rules carry them to the guardrail's home when it is elsewhere.
    """
    replay = scenario.replay
    away = (replay.account, replay.athena_region) != (ACCOUNT, scenario.home_region)
    learn_nights(
        fleet.accounts.home, fleet.outputs["LedgerTableName"], replay, scenario.watch_config, away=away
    )
    buses = {"default": "default", SIGNALS: fleet.outputs["SignalBusName"]}
    planned = replay.night_queries()
    looping = [q for q in planned if q.looping]
    issued: dict[str, ReplayQuery] = {}
    next_report, delivered = replay.start + progress_every, 0

    def deliver(delivery: Delivery) -> bool:
        nonlocal next_report, delivered
        issued.setdefault(delivery.query.query_id, delivery.query)
        if progress and delivery.deliver_at >= next_report:
            progress(delivery.deliver_at, delivered, list(issued.values()))
            next_report += progress_every
        delivered += 1
        results = fleet.put(replay.account, replay.athena_region, delivery.event, buses[delivery.bus])
        return any(throttled(result.result) for result in results if isinstance(result.result, dict))

    stop = until_stopped(replay, deliver)
    return Timeline(
        start=replay.start,
        loop_started_at=looping[0].started_at if looping else None,
        limits_left_at=first_breach(replay, scenario.watch_config),
        throttled_at=stop.stopped_at,
        issued=stop.issued,
        planned=planned,
        deliveries=stop.deliveries,
    )
