"""`@recursion_guard`: the decorator users put on their Lambda handlers."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from guardrail.recursion.chain import chain_of
from guardrail.recursion.chain_key import CHAIN_SECRET_ENV, Keyring, keyring
from guardrail.recursion.hooks import Invocation, running
from guardrail.recursion.limits import DEFAULT_MAX_DEPTH, limit_from_tag, parse_limit

__all__ = ["DEFAULT_MAX_DEPTH", "recursion_guard"]

logger = logging.getLogger(__name__)

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

    The handler reads the incoming chain depth (0 when absent, or when the chain key does not verify
    it: see `guardrail.recursion.chain`). Every Lambda Invoke, SQS send, SNS publish and EventBridge
    put made during the invocation carries depth + 1, signed; the call that would go past the limit
    raises `RecursionDepthExceeded` before it is made. The limit is `max_depth`, else the function's
    `guardrail:max-depth` tag, else 16.
    """
    limit = None if max_depth is None else parse_limit(max_depth, "max_depth")

    def decorate(inner: Handler) -> Handler:
        @functools.wraps(inner)
        def guarded(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            function_arn = getattr(context, "invoked_function_arn", None)
            function = str(getattr(context, "function_name", None) or inner.__name__)
            keys = _chain_keys()
            invocation = Invocation(
                function=function,
                function_arn=function_arn,
                chain=chain_of(event, keys, function=function),
                limit=_resolve_limit(limit, function_arn),
                keys=keys,
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


def _chain_keys() -> Keyring | None:
    """The chain key, if this function has one it can read; else None (depths taken on trust)."""
    keys = keyring()
    if keys is None:
        _warn_without_key()
        return None
    return keys if keys.available else None


@functools.cache
def _warn_without_key() -> None:
    logger.warning(
        "no chain key (%s is not set): incoming chain depths cannot be verified; this function's"
        " refusals still stop its chains but are alerted as unverified, never acted on."
        " Give the function to the guardrail construct's guard(fn).",
        CHAIN_SECRET_ENV,
    )
