"""Fixtures for the Athena watch against moto: Glue tables and S3 buckets, the handler, a replay."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from guardrail.athena.lookups import AthenaQueries
from guardrail.athena.replay import IncidentReplay
from guardrail.athena.runtime import build_watch
from guardrail.handlers import athena_watch
from tests.conftest import REGION


class ReplayAthenaClient:
    """Stands in for boto3's Athena client: moto's GetQueryExecution reports 0 bytes scanned.

    It answers from the replay's own statistics, and raises InvalidRequestException for an id it does
    not know, as Athena does (moto raises a KeyError instead).
    """

    def __init__(self, replay: IncidentReplay) -> None:
        self._replay = replay
        self._queries = {q.query_id: q for q in replay.queries()}
        self.calls = 0

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self.calls += 1
        query = self._queries.get(QueryExecutionId)
        if query is None:
            error = {
                "Code": "InvalidRequestException",
                "Message": f"QueryExecution {QueryExecutionId} not found",
            }
            raise ClientError({"Error": error}, "GetQueryExecution")
        return {"QueryExecution": self._replay.query_execution(query)}


class LambdaContext:
    """The attributes powertools' Logger reads from a Lambda context."""

    function_name = "runaway-guardrail-athena-watch"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:runaway-guardrail-athena-watch"
    aws_request_id = "replay"


@dataclass
class Watched:
    """The deployed guardrail with the Athena watch's handler ready to take events."""

    deployed: Any
    replay: IncidentReplay
    athena: ReplayAthenaClient
    reports: list[dict[str, Any]] = field(default_factory=list)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        report = athena_watch.handler(event, LambdaContext())
        self.reports.append(report)
        return report


def store_tables(session: Any, replay: IncidentReplay) -> None:
    """Create the replay's Glue tables, each over a bucket in its own region."""
    glue = session.client("glue")
    glue.create_database(DatabaseInput={"Name": replay.database})
    for database, table, bucket, region in replay.tables():
        s3 = session.client("s3", region_name=region)
        config = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, **config)
        glue.create_table(
            DatabaseName=database,
            TableInput={"Name": table, "StorageDescriptor": {"Location": f"s3://{bucket}/{table}/"}},
        )


@pytest.fixture
def watch_replay(deployed, make_function, monkeypatch):
    """Build `Watched` for a replay and the athena-watch settings: `watch_replay(replay, detector)`."""

    def build(replay: IncidentReplay, detector: dict[str, Any]) -> Watched:
        replay = replace(replay, athena_region=REGION)
        make_function(replay.function, reserved=5)
        store_tables(deployed.session, replay)
        settings = replace(deployed.settings, detectors={"athena-watch": detector})
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_REGION", REGION)
        athena = ReplayAthenaClient(replay)
        watch = build_watch(
            settings,
            session=deployed.session,
            clock=deployed.clock,
            queries=AthenaQueries(boto3_client=athena),
        )
        monkeypatch.setattr(athena_watch, "_watch", watch)
        return Watched(deployed=deployed, replay=replay, athena=athena)

    return build
