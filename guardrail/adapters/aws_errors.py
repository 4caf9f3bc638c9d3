"""AWS errors translated into the guardrail's own, at the adapter boundary.

Adapters wrap their calls in `translated(...)`, as a `with` block or as a method decorator
(`@translated("GetMetricData")`); nothing past an adapter sees botocore's exceptions. A generator
method translates inside its body (a decorator would leave the iteration outside the block).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from guardrail.domain import Target
from guardrail.errors import AwsCallFailed, TargetNotFound

CONDITION_FAILED = "ConditionalCheckFailedException"


class ConditionFailed(Exception):
    """A DynamoDB condition did not hold (adapter-internal: ledger adapters answer it themselves)."""


def error_code(exc: ClientError) -> str:
    """The AWS error code of a client error."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translated(
    operation: str,
    *,
    target: Target | None = None,
    missing: Callable[[ClientError], bool] = lambda exc: error_code(exc) == "ResourceNotFoundException",
) -> Iterator[None]:
    """Raise TargetNotFound, ConditionFailed or AwsCallFailed for what the wrapped calls raise.

    Usable as `with translated(...):` and as `@translated(...)` on a method (each call enters anew).

    `target` names the resource the call is about; `missing` recognises the error that says it
    does not exist (by default `ResourceNotFoundException`).
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code == CONDITION_FAILED:
            raise ConditionFailed(operation) from exc
        if target is not None and missing(exc):
            raise TargetNotFound(target) from exc
        message = str(exc.response.get("Error", {}).get("Message", exc))
        raise AwsCallFailed(code or "Error", message, operation=operation) from exc
    except BotoCoreError as exc:
        raise AwsCallFailed(type(exc).__name__, str(exc), operation=operation) from exc
