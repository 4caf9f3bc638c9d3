"""Handlers for bridge tests: they record what they receive."""

from typing import Any

RECEIVED: list[Any] = []


def record(event: Any, context: Any) -> dict[str, Any]:
    """Keep the event and answer where it ran."""
    RECEIVED.append(event)
    return {"function": context.function_name}


def explode(event: Any, context: Any) -> None:
    """Fail like an unhandled error in a function."""
    raise ValueError("boom")
