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


class AwsCallFailed(GuardrailError):
    """An AWS call failed (throttled past its retries, denied, invalid, unreachable).

    `code` is AWS's error code (`AccessDeniedException`, ...) or, for a failure without a response,
    the name of botocore's exception (`EndpointConnectionError`, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
