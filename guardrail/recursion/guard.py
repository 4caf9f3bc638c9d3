"""`@recursion_guard`: the decorator users put on their Lambda handlers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from guardrail.recursion.chain import chain_of
from guardrail.recursion.hooks import Invocation, running
from guardrail.recursion.limits import DEFAULT_MAX_DEPTH, limit_from_tag, parse_limit

__all__ = ["DEFAULT_MAX_DEPTH", "recursion_guard"]

Handler = TypeVar("Handler", bound=Callable[..., Any])


@overload
def recursion_guard(handler: Handler, *, max_depth: int | None = None) -> Handler: ...
@overload
def recursion_guard(
    handler: None = None, *, max_depth: int | None = None
) -> Callable[[Handler], Handler]: ...


def recursion_guard(
    handler: Handler | None = None, *, max_depth: int | None = None
) -> Handler | Callable[[Handler], Handler]:
    """Limit how deep a chain of calls through this handler may go.

    The handler reads the incoming chain depth (0 when absent). Every Lambda Invoke, SQS send, SNS
    publish and EventBridge put made during the invocation carries depth + 1; the call that would
    go past the limit raises `RecursionDepthExceeded` before it is made. The limit is `max_depth`,
    else the function's `guardrail:max-depth` tag, else 16.
    """
    limit = None if max_depth is None else parse_limit(max_depth, "max_depth")

    def decorate(inner: Handler) -> Handler:
        @functools.wraps(inner)
        def guarded(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            function_arn = getattr(context, "invoked_function_arn", None)
            invocation = Invocation(
                function=str(getattr(context, "function_name", None) or inner.__name__),
                function_arn=function_arn,
                chain=chain_of(event),
                limit=_resolve_limit(limit, function_arn),
            )
            with running(invocation):
                return inner(event, context, *args, **kwargs)

        return guarded  # type: ignore[return-value]  # same signature as `inner`

    return decorate if handler is None else decorate(handler)


def _resolve_limit(explicit: int | None, function_arn: str | None) -> int:
    if explicit is not None:
        return explicit
    tagged = limit_from_tag(function_arn) if function_arn else None
    return DEFAULT_MAX_DEPTH if tagged is None else tagged
