"""ARNs in every watched region, and cdk-nag's spelling of them for acknowledgements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from constructs import Construct

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
