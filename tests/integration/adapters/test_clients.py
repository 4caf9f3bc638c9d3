"""The client factory: an injected client is used as is, a built one keeps the adapter's retries."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.aws_errors import ConditionFailed, translated
from guardrail.adapters.clients import AwsAdapter
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.errors import AwsCallFailed, GuardrailError
from tests.conftest import offline_client


def test_an_injected_client_is_used_and_no_session_is_needed():
    client = offline_client("athena")
    assert AthenaQueries(boto3_client=client)._client is client


def test_a_built_client_merges_the_callers_config_over_the_adapters_retries(aws):
    adapter = CloudWatchMetrics(boto3_session=aws, boto_config=Config(connect_timeout=2))
    config = adapter._client.meta.config
    assert config.retries == {"total_max_attempts": 9, "mode": "adaptive"}  # botocore counts the first try
    assert config.connect_timeout == 2
    assert adapter._client.meta.region_name == aws.region_name


def test_a_callers_retries_win_and_an_adapter_without_retries_keeps_botocores(aws):
    mine = Config(retries={"max_attempts": 2, "mode": "standard"})
    assert AthenaQueries(boto3_session=aws, boto_config=mine)._client.meta.config.retries == {
        "total_max_attempts": 3,
        "mode": "standard",
    }

    class Plain(AwsAdapter["object"]):
        SERVICE = "sns"

    assert Plain(boto3_session=aws)._client.meta.service_model.service_name == "sns"


def test_an_adapter_over_two_services_builds_both_from_one_session(aws):
    locations = DataLocations(boto3_session=aws)
    assert locations._client.meta.service_model.service_name == "glue"
    assert locations._s3.meta.service_model.service_name == "s3"
    assert locations._s3.meta.config.retries == {"total_max_attempts": 6, "mode": "adaptive"}


def test_botocore_errors_become_aws_call_failed():
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetItem")
    with pytest.raises(AwsCallFailed) as failed, translated("GetItem"):
        raise denied
    assert (failed.value.code, failed.value.message, failed.value.__cause__) == ("AccessDenied", "no", denied)
    assert (failed.value.operation, isinstance(failed.value, GuardrailError)) == ("GetItem", True)
    with pytest.raises(AwsCallFailed, match="EndpointConnectionError") as failed, translated("GetItem"):
        raise EndpointConnectionError(endpoint_url="https://dynamodb.example")
    assert "dynamodb.example" in failed.value.message
    with pytest.raises(KeyError), translated("GetItem"):  # not an AWS error: left alone
        raise KeyError("x")


def test_translated_decorates_a_method_and_enters_anew_on_each_call():
    class Table:
        calls = 0

        @translated("PutItem")
        def put(self) -> None:
            self.calls += 1
            code = "ConditionalCheckFailedException" if self.calls == 1 else "ValidationException"
            raise ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")

    table = Table()
    with pytest.raises(ConditionFailed):  # a condition that did not hold: the ledger answers it itself
        table.put()
    with pytest.raises(AwsCallFailed, match="ValidationException"):
        table.put()
