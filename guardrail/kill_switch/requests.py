"""The kill switch's request contract, validated with pydantic.

Function references are names or ARNs of functions in the kill switch's own account and region (the
`scope` given to `parse_request`); an ARN of another account or region is refused, never read as the
local function of the same name.

Panic and a restore of `"all"` are destructive: they carry `"confirm": "<what>-<account id>"` (`panic-…`,
`restore-all-…`) naming the account the kill switch runs in, so that a bare or copied request is refused.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from guardrail.domain import Target, TargetKind
from guardrail.enforcement.actions import ACTIONS
from guardrail.errors import GuardrailError, InvalidTargetRef
from guardrail.functions import Scope

MAX_TARGETS = 200
#: The most audit entries one `history` answer holds (and how many it holds unless asked).
MAX_HISTORY, DEFAULT_HISTORY = 1000, 100
_Confirm = Annotated[str | None, Field(max_length=64)]
_Names = Annotated[list[str], Field(min_length=1, max_length=MAX_TARGETS)]


class InvalidRequest(GuardrailError):
    """A kill-switch request that does not follow the contract."""


def _names(refs: list[str] | None, info: ValidationInfo) -> list[str] | None:
    """Each reference validated by its kind's action in the request's scope, as names, duplicates dropped."""
    if refs is None:
        return None
    scope = (info.context or {}).get(_SCOPE)
    if not isinstance(scope, Scope):
        raise TypeError("references are validated by parse_request(event, scope=...)")
    validate = ACTIONS[TargetKind(str(info.field_name).removesuffix("s"))].validate
    try:
        return list(dict.fromkeys(validate(ref, scope) for ref in refs))
    except InvalidTargetRef as exc:
        raise ValueError(str(exc)) from exc


def _names_or_all(value: Any, info: ValidationInfo) -> Any:
    field = str(info.field_name)
    if value is None or value == "all":
        return value
    if not isinstance(value, list) or not value or not all(isinstance(ref, str) for ref in value):
        kind = field.removesuffix("s")
        raise ValueError(f'must be "all" or a non-empty list of {kind} names, not {json.dumps(value)}')
    if len(value) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} names, not {len(value)}")
    return _names(value, info)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def destructive(self) -> str | None:
        """What a confirmation must name (`panic`, `restore-all`), or None if none is needed."""
        return None


class _Targets(_Request):
    """A request that names functions, workgroups, or both (one field per kind: `functions`, ...)."""

    @model_validator(mode="after")
    def _some(self) -> Self:
        if all(getattr(self, kind.plural, None) is None for kind in TargetKind):
            raise ValueError("name functions, workgroups, or both")
        return self

    def targets(self) -> list[Target]:
        """The targets named one by one, functions first (`"all"` is resolved from the ledger)."""
        return [
            Target(kind, name)
            for kind in TargetKind
            if isinstance(names := getattr(self, kind.plural, None), list)
            for name in names
        ]


class ThrottleRequest(_Targets):
    """Throttle the named functions and disable the named workgroups (at least one of either)."""

    action: Literal["throttle"]
    functions: _Names | None = None
    workgroups: _Names | None = None
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    @field_validator("functions", "workgroups")
    @classmethod
    def _refs(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return _names(value, info)


class RestoreRequest(_Targets):
    """Restore the named functions and workgroups, or `"all"` of a kind that the guardrail holds."""

    action: Literal["restore"]
    functions: Literal["all"] | list[str] | None = None
    workgroups: Literal["all"] | list[str] | None = None
    confirm: _Confirm = None

    @field_validator("functions", "workgroups", mode="before")
    @classmethod
    def _refs(cls, value: Any, info: ValidationInfo) -> Any:
        return _names_or_all(value, info)

    def all_of(self) -> list[TargetKind]:
        """The kinds whose every held target is to be restored."""
        return [kind for kind in TargetKind if getattr(self, kind.plural, None) == "all"]

    def destructive(self) -> str | None:
        """A restore of `"all"` (of any kind) must be confirmed."""
        return "restore-all" if self.all_of() else None


class StatusRequest(_Request):
    """List what the guardrail currently holds: throttled functions, disabled workgroups, flags."""

    action: Literal["status"]


class PanicRequest(_Request):
    """Throttle every function in the region that is neither exempt nor the guardrail's own."""

    action: Literal["panic"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    confirm: _Confirm = None

    def destructive(self) -> str | None:
        """Panic must always be confirmed."""
        return "panic"


class HistoryRequest(_Request):
    """Read the audit trail newest first: of one function, one workgroup, or (naming none) every target."""

    action: Literal["history"]
    function: str | None = None
    workgroup: str | None = None
    since: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_HISTORY)] = DEFAULT_HISTORY

    @field_validator("function", "workgroup")
    @classmethod
    def _ref(cls, value: str | None, info: ValidationInfo) -> str | None:
        names = _names(None if value is None else [value], info)
        return None if names is None else names[0]

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.function is not None and self.workgroup is not None:
            raise ValueError("name a function or a workgroup, not both (or neither, for every target)")
        return self

    def target(self) -> Target | None:
        """The one target whose trail is asked for, or None for every target's."""
        if self.workgroup is not None:
            return Target.workgroup(self.workgroup)
        return None if self.function is None else Target.function(self.function)


KillSwitchRequest = Annotated[
    ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest | HistoryRequest,
    Field(discriminator="action"),
]
_REQUESTS: TypeAdapter[ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest | HistoryRequest] = (
    TypeAdapter(KillSwitchRequest)
)
_SCOPE = "scope"


def confirmation(what: str, account: str) -> str:
    """The `confirm` value of a destructive request (`panic`, `restore-all`) in `account`."""
    return f"{what}-{account}"


def parse_request(
    event: Any, *, scope: Scope
) -> ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest | HistoryRequest:
    """Validate a payload for the kill switch acting in `scope`; raise InvalidRequest naming every problem.

    Panic and a restore of `"all"` are refused unless `confirm` is `confirmation(..., scope.account)`.
    """
    if not isinstance(event, dict):
        raise InvalidRequest(f"the request must be one JSON object, not {type(event).__name__}")
    if "action" not in event:
        raise InvalidRequest("action: required (one of throttle, restore, status, panic, history)")
    try:
        request = _REQUESTS.validate_python(event, context={_SCOPE: scope})
    except ValidationError as exc:
        raise InvalidRequest(_explain(exc)) from exc
    _check_confirmation(request, scope.account)
    return request


def _check_confirmation(
    request: ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest | HistoryRequest, account: str
) -> None:
    what, given = request.destructive(), getattr(request, "confirm", None)
    if what is None:
        if given is not None:
            raise InvalidRequest('confirm: only panic and a restore of "all" take a confirmation')
        return
    token = confirmation(what, "<account id>")
    expected = f'"confirm": "{token}" with the id of the account the kill switch runs in'
    if given is None:
        raise InvalidRequest(f"confirm: required for {what}: add {expected}; nothing was changed")
    if given != confirmation(what, account):
        raise InvalidRequest(
            f"confirm: does not confirm {what} in this account: send {expected}; nothing was changed"
        )


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"][1:]) or "request"  # [0] is the action
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location}: {message}")
    return "; ".join(dict.fromkeys(problems))
