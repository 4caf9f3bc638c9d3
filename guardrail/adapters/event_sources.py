"""Adapter over Lambda's event source mappings and async invocation settings of one function.

Lists what feeds a function (SQS queues, Kinesis and DynamoDB streams, ...), pauses and resumes a
mapping, and reads where the function's failed asynchronous invocations go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guardrail.adapters.aws_errors import translated
from guardrail.adapters.clients import AwsAdapter, adaptive_retries
from guardrail.adapters.permissions import Grant, Resource
from guardrail.domain import Target
from guardrail.errors import AwsCallFailed
from guardrail.prior_state import EventSourceMapping

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient  # noqa: F401 - the adapter's type parameter

_NOT_FOUND = "ResourceNotFoundException"


class EventSources(AwsAdapter["LambdaClient"]):
    """Reads and pauses the event source mappings of Lambda functions.

    Raises TargetNotFound for a function that does not exist, AwsCallFailed for any other AWS error.
    """

    SERVICE = "lambda"
    RETRIES = adaptive_retries(8)
    PERMISSIONS = (
        Grant(Resource.ANY, ("lambda:ListEventSourceMappings",)),
        Grant(Resource.EVENT_SOURCE_MAPPING, ("lambda:GetEventSourceMapping",)),
        Grant(Resource.EVENT_SOURCE_MAPPING, ("lambda:UpdateEventSourceMapping",), enforces=True),
        Grant(Resource.FUNCTION, ("lambda:GetFunction", "lambda:GetFunctionEventInvokeConfig")),
    )

    def mappings(self, function: str) -> list[EventSourceMapping]:
        """Every event source mapping of the function, page by page, with its state now."""
        found = []
        with translated("ListEventSourceMappings", target=Target.function(function)):
            pages = self._client.get_paginator("list_event_source_mappings").paginate(FunctionName=function)
            for page in pages:
                for mapping in page.get("EventSourceMappings", []):
                    source = mapping.get("EventSourceArn") or _self_managed(mapping)
                    found.append(EventSourceMapping(mapping["UUID"], source, mapping.get("State", "")))
        return found

    def feeds(self, mapping: EventSourceMapping) -> tuple[str, str] | None:
        """What the mapping feeds now: (function name, source), or None when it no longer exists.

        The function is named without its qualifier: a mapping to an alias or version feeds the function.
        """
        try:
            with translated("GetEventSourceMapping"):
                found: Any = self._client.get_event_source_mapping(UUID=mapping.uuid)
        except AwsCallFailed as exc:
            if exc.code == _NOT_FOUND:
                return None
            raise
        function = str(found.get("FunctionArn", "")).split(":function:")[-1].split(":")[0]
        return function, found.get("EventSourceArn") or _self_managed(found)

    def set_enabled(self, mapping: EventSourceMapping, enabled: bool) -> bool:
        """Enable or disable the mapping; False when it no longer exists (deleted by its owner)."""
        try:
            with translated("UpdateEventSourceMapping"):
                self._client.update_event_source_mapping(UUID=mapping.uuid, Enabled=enabled)
        except AwsCallFailed as exc:
            if exc.code == _NOT_FOUND:
                return False
            raise
        return True

    def async_failure_targets(self, function: str) -> dict[str, str]:
        """Where failed async invocations go: `dead_letter` and/or `on_failure` ARNs (often none)."""
        targets: dict[str, str] = {}
        with translated("GetFunction", target=Target.function(function)):
            config = self._client.get_function(FunctionName=function)["Configuration"]
        if dead_letter := config.get("DeadLetterConfig", {}).get("TargetArn"):
            targets["dead_letter"] = dead_letter
        try:
            with translated("GetFunctionEventInvokeConfig"):
                invoke: Any = self._client.get_function_event_invoke_config(FunctionName=function)
        except AwsCallFailed as exc:
            if exc.code == _NOT_FOUND:  # no async invocation config: the normal case
                return targets
            raise
        if on_failure := invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"):
            targets["on_failure"] = on_failure
        return targets


def _self_managed(mapping: Any) -> str:
    """A self-managed source (Kafka, ...) has no ARN: name it by its endpoints."""
    endpoints = mapping.get("SelfManagedEventSource", {}).get("Endpoints", {})
    return ",".join(sorted(",".join(values) for values in endpoints.values())) or "self-managed source"
