"""Adapters that look facts up for the Athena watch: query statistics, where tables live."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from guardrail.adapters.aws_errors import error_code, translated
from guardrail.adapters.clients import AwsAdapter, adaptive_retries
from guardrail.adapters.permissions import Grant, Resource
from guardrail.detectors.athena.booking import QueryFacts
from guardrail.detectors.athena.sql import referenced_tables

if TYPE_CHECKING:
    from mypy_boto3_athena.client import AthenaClient  # noqa: F401 - the adapter's type parameter
    from mypy_boto3_glue.client import GlueClient
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger(__name__)
_CACHE_LIMIT = 2048
_K = TypeVar("_K")
_V = TypeVar("_V")


class AthenaQueries(AwsAdapter["AthenaClient"]):
    """Reads a query's final statistics."""

    SERVICE = "athena"
    RETRIES = adaptive_retries(5)
    PERMISSIONS = (Grant(Resource.WORKGROUP, ("athena:GetQueryExecution",)),)

    @translated("GetQueryExecution")
    def get(self, query_id: str) -> QueryFacts | None:
        """The query's facts, or None when Athena does not know the id (unknown or expired)."""
        try:
            execution = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        except ClientError as exc:
            if error_code(exc) == "InvalidRequestException":
                return None
            raise
        context = execution.get("QueryExecutionContext", {})
        return QueryFacts(
            query_id=query_id,
            state=execution.get("Status", {}).get("State", "UNKNOWN"),
            scanned_bytes=int(execution.get("Statistics", {}).get("DataScannedInBytes", 0)),
            workgroup=execution.get("WorkGroup", "primary"),
            query=execution.get("Query", ""),
            database=context.get("Database", ""),
            catalog=context.get("Catalog", "AwsDataCatalog"),
            statement_type=execution.get("StatementType", "DML"),
        )


class DataLocations(AwsAdapter["GlueClient"]):
    """Finds the region each table's data lives in (Glue location, then the S3 bucket's region).

    Answers are cached for the life of the function's container: locations rarely move.
    """

    SERVICE = "glue"
    RETRIES = adaptive_retries(5)
    PERMISSIONS = (
        Grant(Resource.DATA_CATALOG, ("glue:GetTable",)),
        Grant(Resource.BUCKET, ("s3:GetBucketLocation",)),
    )

    def __init__(
        self,
        *,
        glue_client: GlueClient | None = None,
        s3_client: S3Client | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        super().__init__(boto3_client=glue_client, boto3_session=boto3_session, boto_config=boto_config)
        self._s3: S3Client = s3_client or self._build("s3")
        self._tables: dict[tuple[str, str], str | None] = {}
        self._buckets: dict[str, str] = {}

    @translated("GetTable")
    def remote_tables(self, facts: QueryFacts, home_region: str) -> dict[str, str]:
        """`database.table` -> region, for each table the query reads from outside `home_region`."""
        if facts.catalog != "AwsDataCatalog":
            return {}
        remote = {}
        for database, table in referenced_tables(facts.query, facts.database):
            region = self._table_region(database, table)
            if region and region != home_region:
                remote[f"{database}.{table}"] = region
        return remote

    def _table_region(self, database: str, table: str) -> str | None:
        key = (database, table)
        if key not in self._tables:
            try:
                bucket = self._bucket_of(database, table)
                region = None if bucket is None else self._bucket_region(bucket)
            except ClientError as exc:  # counted as a home-region table, and asked again next time
                logger.warning("no region for table %s.%s: %s", database, table, exc)
                return None
            _remember(self._tables, key, region)
        return self._tables[key]

    def _bucket_of(self, database: str, table: str) -> str | None:
        found = self._client.get_table(DatabaseName=database, Name=table)["Table"]
        location = found.get("StorageDescriptor", {}).get("Location", "")
        if not location.startswith(("s3://", "s3a://")):
            return None
        return location.split("://", 1)[1].split("/", 1)[0] or None

    def _bucket_region(self, bucket: str) -> str:
        if bucket not in self._buckets:
            constraint = self._s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
            region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(constraint, constraint)
            _remember(self._buckets, bucket, str(region))
        return self._buckets[bucket]


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
