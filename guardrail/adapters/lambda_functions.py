"""Adapter over the Lambda API: facts about a function, its reserved concurrency, listing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, adaptive_retries
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import FunctionFacts, Target

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient  # noqa: F401 - the adapter's type parameter


class LambdaControl(AwsAdapter["LambdaClient"]):
    """Reads and changes Lambda functions' reserved concurrency.

    Raises TargetNotFound for a function that does not exist, AwsCallFailed for any other AWS error.
    """

    SERVICE = "lambda"
    RETRIES = adaptive_retries(8)
    PERMISSIONS = (
        Grant(Resource.FUNCTION, ("lambda:GetFunction", "lambda:GetFunctionConcurrency")),
        Grant(Resource.ANY, ("lambda:ListFunctions",)),
        Grant(
            Resource.FUNCTION,
            ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"),
            enforces=True,
        ),
    )

    def facts(self, name: str) -> FunctionFacts:
        """Return the function's reservation, tags, execution role and layers."""
        with translated("GetFunction", target=Target.function(name)):
            response = self._client.get_function(FunctionName=name)
            concurrency: dict[str, Any] = dict(self._client.get_function_concurrency(FunctionName=name))
        reserved = concurrency.get("ReservedConcurrentExecutions")
        configuration = response["Configuration"]
        return FunctionFacts(
            name=configuration["FunctionName"],
            reserved_concurrency=None if reserved is None else int(reserved),
            tags=dict(response.get("Tags") or {}),
            role_arn=configuration.get("Role"),
            layers=tuple(layer["Arn"] for layer in configuration.get("Layers") or [] if "Arn" in layer),
        )

    def set_reserved(self, name: str, value: int) -> None:
        """Set the function's reserved concurrency (0 stops every invocation)."""
        with translated("PutFunctionConcurrency", target=Target.function(name)):
            self._client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)

    def clear_reserved(self, name: str) -> None:
        """Remove the function's reservation, so it draws on the account's unreserved pool."""
        with translated("DeleteFunctionConcurrency", target=Target.function(name)):
            self._client.delete_function_concurrency(FunctionName=name)

    def function_names(self) -> Iterator[str]:
        """Yield the name of every function in the region, page by page."""
        with translated("ListFunctions"):
            for page in self._client.get_paginator("list_functions").paginate():
                for function in page.get("Functions", []):
                    yield function["FunctionName"]
