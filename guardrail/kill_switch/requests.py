"""The kill switch's request contract, validated with powertools' Parser (pydantic)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardrail.errors import GuardrailError, InvalidFunctionRef
from guardrail.functions import function_name

MAX_FUNCTIONS = 200


class InvalidRequest(GuardrailError):
    """A kill-switch request that does not follow the contract."""


def _names(refs: list[str]) -> list[str]:
    names: list[str] = []
    for ref in refs:
        try:
            name = function_name(ref)
        except InvalidFunctionRef as exc:
            raise ValueError(str(exc)) from exc
        if name not in names:
            names.append(name)
    return names


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThrottleRequest(_Request):
    """Throttle the named functions."""

    action: Literal["throttle"]
    functions: Annotated[list[str], Field(min_length=1, max_length=MAX_FUNCTIONS)]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    @field_validator("functions")
    @classmethod
    def _refs(cls, value: list[str]) -> list[str]:
        return _names(value)


class RestoreRequest(_Request):
    """Restore the named functions, or every function the guardrail holds."""

    action: Literal["restore"]
    functions: Literal["all"] | Annotated[list[str], Field(min_length=1, max_length=MAX_FUNCTIONS)]

    @field_validator("functions")
    @classmethod
    def _refs(cls, value: Literal["all"] | list[str]) -> Literal["all"] | list[str]:
        return value if value == "all" else _names(value)


class StatusRequest(_Request):
    """List what the guardrail currently holds throttled or flagged."""

    action: Literal["status"]


class PanicRequest(_Request):
    """Throttle every function in the region that is neither exempt nor the guardrail's own."""

    action: Literal["panic"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


KillSwitchRequest = Annotated[
    ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest, Field(discriminator="action")
]


def parse_request(
    event: Any,
) -> ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest:
    """Validate an invocation payload; raise InvalidRequest naming every problem."""
    if not isinstance(event, dict):
        raise InvalidRequest(f"the request must be one JSON object, not {type(event).__name__}")
    if "action" not in event:
        raise InvalidRequest("action: required (one of throttle, restore, status, panic)")
    try:
        request: ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest = parse(
            event=event,
            model=KillSwitchRequest,  # type: ignore[call-overload]  # an annotated union, not a class
        )
    except ValidationError as exc:
        raise InvalidRequest(_explain(exc)) from exc
    return request


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"][1:] or error["loc"]) or "request"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location}: {message}")
    return "; ".join(dict.fromkeys(problems))
