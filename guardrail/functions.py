"""Lambda function references: names, ARNs and the guardrail's own tags."""

from __future__ import annotations

import re

from guardrail.errors import InvalidFunctionRef

TAG_EXEMPT = "guardrail:exempt"
TAG_MAX_DEPTH = "guardrail:max-depth"
TAG_COMPONENT = "guardrail:component"
COMPONENT_VALUE = "runaway-guardrail"

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:(?P<name>[A-Za-z0-9_-]{1,64})(:[A-Za-z0-9$_-]+)?$"
)
_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<name>[A-Za-z0-9_-]{1,64})$")


def function_name(ref: str) -> str:
    """Return the function name that a name, full ARN or partial ARN refers to."""
    ref = ref.strip()
    if _NAME.match(ref):
        return ref
    match = _ARN.match(ref) or _PARTIAL_ARN.match(ref)
    if match:
        return match.group("name")
    raise InvalidFunctionRef(f"{ref!r} is not a Lambda function name or ARN")
