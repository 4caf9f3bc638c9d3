"""Exceptions the guardrail raises on purpose.

Adapters translate AWS errors into these at their boundary, so that nothing past an adapter parses
botocore error codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guardrail.domain import Target


class GuardrailError(Exception):
    """Base class of the guardrail's own errors."""


class ConfigError(GuardrailError, ValueError):
    """Configuration that does not follow its model: cdk.json's context, the environment, a scenario.

    The message names each wrong key by its path as written, e.g. `guardrail.notifyOnly: ...`.
    """


class InvalidTargetRef(GuardrailError):
    """A string does not name a target of the kind it is given for."""


class InvalidFunctionRef(InvalidTargetRef):
    """A string is neither a Lambda function name nor a function ARN."""


class ForeignFunctionRef(InvalidFunctionRef):
    """A function ARN of an account or region the guardrail does not act in."""


class TargetNotFound(GuardrailError):
    """The target (a function, a workgroup) does not exist in this account and region."""

    def __init__(self, target: Target) -> None:
        super().__init__(f"{target.kind.value} {target.name!r} does not exist")
        self.target = target


class AwsCallFailed(GuardrailError):
    """An AWS call failed; `code` and `message` are AWS's own (or the client's exception name)."""

    def __init__(self, code: str, message: str, *, operation: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.operation = operation
