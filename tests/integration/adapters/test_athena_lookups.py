"""Query statistics and data locations: moto for Glue and S3, botocore's Stubber for Athena's answers
(moto reports 0 bytes scanned) and for failures moto cannot produce."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.detectors.athena.booking import QueryFacts
from guardrail.errors import AwsCallFailed
from tests.conftest import offline_client

FACTS = QueryFacts(
    "q1", "SUCCEEDED", 1, "primary", "SELECT * FROM logs JOIN sales.orders o ON 1=1", "web", "AwsDataCatalog"
)


def test_query_facts_come_from_get_query_execution_and_an_unknown_id_is_none():
    athena = offline_client("athena")
    with Stubber(athena) as stub:
        execution = {
            "QueryExecutionId": "q1",
            "Query": "SELECT 1",
            "Status": {"State": "SUCCEEDED"},
            "Statistics": {"DataScannedInBytes": 123},
            "WorkGroup": "etl",
            "QueryExecutionContext": {"Database": "web"},
        }
        stub.add_response("get_query_execution", {"QueryExecution": execution}, {"QueryExecutionId": "q1"})
        stub.add_client_error("get_query_execution", "InvalidRequestException", "not found")
        stub.add_client_error("get_query_execution", "AccessDeniedException", "denied")
        queries = AthenaQueries(boto3_client=athena)

        assert queries.get("q1") == QueryFacts(
            "q1", "SUCCEEDED", 123, "etl", "SELECT 1", "web", "AwsDataCatalog"
        )
        assert queries.get("gone") is None
        with pytest.raises(AwsCallFailed, match="AccessDeniedException: denied"):
            queries.get("q2")


def test_remote_tables_are_found_through_glue_and_the_buckets_region(aws):
    for name, region in (("web-logs", "ap-northeast-1"), ("orders", "us-east-1")):
        location = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        aws.client("s3", region_name=region).create_bucket(Bucket=name, **location)
    glue = aws.client("glue")
    for database, table, bucket in (("web", "logs", "web-logs"), ("sales", "orders", "orders")):
        glue.create_database(DatabaseInput={"Name": database})
        glue.create_table(
            DatabaseName=database,
            TableInput={"Name": table, "StorageDescriptor": {"Location": f"s3://{bucket}/x/"}},
        )

    locations = DataLocations(boto3_session=aws)
    assert locations.remote_tables(FACTS, "us-east-1") == {"web.logs": "ap-northeast-1"}
    assert locations.remote_tables(FACTS, "ap-northeast-1") == {"sales.orders": "us-east-1"}


def test_a_failed_lookup_counts_the_table_as_local_and_is_asked_again():
    glue, s3 = offline_client("glue"), offline_client("s3")
    facts = QueryFacts("q1", "SUCCEEDED", 1, "primary", "SELECT * FROM logs", "web", "AwsDataCatalog")
    table = {"Table": {"Name": "logs", "StorageDescriptor": {"Location": "s3://web-logs/x/"}}}
    with Stubber(glue) as glue_stub, Stubber(s3) as s3_stub:
        glue_stub.add_client_error("get_table", "ThrottlingException", "slow down")
        glue_stub.add_response("get_table", table, {"DatabaseName": "web", "Name": "logs"})
        s3_stub.add_response("get_bucket_location", {"LocationConstraint": "EU"}, {"Bucket": "web-logs"})
        locations = DataLocations(glue_client=glue, s3_client=s3)

        assert locations.remote_tables(facts, "us-east-1") == {}
        assert locations.remote_tables(facts, "us-east-1") == {"web.logs": "eu-west-1"}
        assert locations.remote_tables(facts, "us-east-1") == {"web.logs": "eu-west-1"}  # remembered
        glue_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()
