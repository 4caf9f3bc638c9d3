"""ARNs in every watched region, and cdk-nag's spelling of them for acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from constructs import Construct

from guardrail.adapters.permissions import Resource
from guardrail.config import GuardrailConfig


def watched_regions(stack: Stack, config: GuardrailConfig) -> tuple[str, ...]:
    """The stack's own region first (a token when the stack is environment-agnostic), then `regions`."""
    return config.watched_regions(stack.region)


def in_regions(
    stack: Stack,
    regions: Sequence[str],
    *,
    service: str,
    resource: str,
    resource_name: str | None = None,
    colon: bool = False,
) -> list[str]:
    """The same ARN of this stack's account in each of `regions`."""
    arn_format = ArnFormat.COLON_RESOURCE_NAME if colon else ArnFormat.SLASH_RESOURCE_NAME
    return [
        stack.format_arn(
            service=service,
            resource=resource,
            resource_name=resource_name,
            region=region,
            arn_format=arn_format,
        )
        for region in regions
    ]


def watched_arns(stack: Stack, regions: Sequence[str]) -> dict[Resource, list[str]]:
    """The ARNs of each kind of resource (`Resource`) of this stack's account in `regions`: any of them."""
    return {
        Resource.FUNCTION: in_regions(
            stack, regions, service="lambda", resource="function", resource_name="*", colon=True
        ),
        Resource.EVENT_SOURCE_MAPPING: in_regions(
            stack, regions, service="lambda", resource="event-source-mapping", resource_name="*", colon=True
        ),
        Resource.WORKGROUP: in_regions(
            stack, regions, service="athena", resource="workgroup", resource_name="*"
        ),
        Resource.DATA_CATALOG: [
            *in_regions(stack, regions, service="glue", resource="catalog"),
            *in_regions(stack, regions, service="glue", resource="database", resource_name="*"),
            *in_regions(stack, regions, service="glue", resource="table", resource_name="*/*"),
        ],
        Resource.BUCKET: [f"arn:{stack.partition}:s3:::*"],
        Resource.ANY: ["*"],
    }


def nag_spelling(stack: Stack, value: str) -> str:
    """How cdk-nag names a resource in a finding: `Ref`s as `<AWS::Region>`, joins flattened."""
    return _flatten(stack.resolve(value))


def _flatten(resolved: Any) -> str:
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and "Ref" in resolved:
        return f"<{resolved['Ref']}>"
    if isinstance(resolved, dict) and "Fn::Join" in resolved:
        separator, parts = resolved["Fn::Join"]
        return str(separator).join(_flatten(part) for part in parts)
    raise ValueError(f"cannot spell {resolved!r} as cdk-nag does")


def listed(names: Sequence[str]) -> str:
    """The names joined as prose: `a`, `a and b`, `a, b and c`."""
    *others, last = names
    return f"{', '.join(others)} and {last}" if others else last


def acknowledge_wildcards(construct: Construct, resources: Iterable[str], reason: str) -> None:
    """Acknowledge cdk-nag's AwsSolutions-IAM5 for each wildcard resource, with one written reason."""
    stack = Stack.of(construct)
    spelled = sorted({nag_spelling(stack, resource) for resource in resources})
    Validations.of(construct).acknowledge(
        *(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{name}]", reason=reason)
            for name in spelled
        )
    )
