"""Adapter over the Lambda API: facts about a function, its reserved concurrency, listing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from guardrail.adapters.clients import client_for
from guardrail.domain import FunctionFacts
from guardrail.errors import FunctionNotFound

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

_RETRIES = Config(retries={"max_attempts": 8, "mode": "adaptive"})


class LambdaControl:
    """Reads and changes Lambda functions' reserved concurrency."""

    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = (
        "lambda:GetFunction",
        "lambda:GetFunctionConcurrency",
        "lambda:ListFunctions",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )

    def __init__(
        self,
        *,
        boto3_client: LambdaClient | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._client: LambdaClient = client_for(
            "lambda",
            boto3_client=boto3_client,
            boto3_session=boto3_session,
            boto_config=boto_config or _RETRIES,
        )

    def facts(self, name: str) -> FunctionFacts:
        """Return the function's reservation and tags, or raise FunctionNotFound."""
        try:
            response = self._client.get_function(FunctionName=name)
            concurrency: dict[str, Any] = dict(self._client.get_function_concurrency(FunctionName=name))
        except self._client.exceptions.ResourceNotFoundException as exc:
            raise FunctionNotFound(f"function {name!r} does not exist") from exc
        reserved = concurrency.get("ReservedConcurrentExecutions")
        return FunctionFacts(
            name=response["Configuration"]["FunctionName"],
            reserved_concurrency=None if reserved is None else int(reserved),
            tags=dict(response.get("Tags") or {}),
        )

    def set_reserved(self, name: str, value: int) -> None:
        """Set the function's reserved concurrency (0 stops every invocation)."""
        self._client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)

    def clear_reserved(self, name: str) -> None:
        """Remove the function's reservation, so it draws on the account's unreserved pool."""
        self._client.delete_function_concurrency(FunctionName=name)

    def function_names(self) -> Iterator[str]:
        """Yield the name of every function in the region, page by page."""
        marker: str | None = None
        while True:
            page = self._client.list_functions(Marker=marker) if marker else self._client.list_functions()
            for function in page.get("Functions", []):
                yield function["FunctionName"]
            marker = page.get("NextMarker")
            if not marker:
                return
