"""Exceptions the guardrail raises on purpose."""


class GuardrailError(Exception):
    """Base class of the guardrail's own errors."""


class ConfigError(GuardrailError, ValueError):
    """Configuration that does not follow its model: cdk.json's context, the environment, a scenario.

    The message names each wrong key by its path as written, e.g. `guardrail.notifyOnly: ...`.
    """


class InvalidFunctionRef(GuardrailError):
    """A string is neither a Lambda function name nor a function ARN."""


class FunctionNotFound(GuardrailError):
    """The named Lambda function does not exist in this account and region."""
