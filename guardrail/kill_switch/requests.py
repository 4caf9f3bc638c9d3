"""The kill switch's request contract, validated with pydantic.

Function references are names or ARNs of functions in the accounts and regions the guardrail watches
(the `scope` given to `parse_request`); an ARN of any other account or region is refused, never read
as the local function of the same name. A bare name is a function of the request's `account` and
`region` (default: the kill switch's own). `panic` acts in the accounts and regions it names (default:
the kill switch's own account and region only); a restore of `"all"` in those it names (default: all).
`pause` and `resume` name one `account` the guardrail watches, as a bare name's `account` must be.

Panic and a restore of `"all"` are destructive: they carry `"confirm": "<what>-<account id>"` (`panic-…`,
`restore-all-…`) naming the account the kill switch runs in, so that a bare or copied request is refused.
"""

from __future__ import annotations

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

from guardrail.account_pause import UNNAMED_OPERATOR
from guardrail.domain import Target, TargetKind
from guardrail.errors import GuardrailError
from guardrail.kill_switch.references import (
    ACCOUNT_ID,
    MAX_TARGETS,
    REGION_NAME,
    SCOPE,
    names_or_all,
    places_watched,
    references,
    watched,
)
from guardrail.scope import Scope

#: The most audit entries one `history` answer holds (and how many it holds unless asked).
MAX_HISTORY, DEFAULT_HISTORY = 1000, 100
_Confirm = Annotated[str | None, Field(max_length=64)]
_Names = Annotated[list[Any], Field(min_length=1, max_length=MAX_TARGETS)]
_Account = Annotated[str, Field(pattern=f"^{ACCOUNT_ID}$")]
_Region = Annotated[str, Field(pattern=f"^{REGION_NAME}$")]
_Places = Annotated[list[str], Field(min_length=1, max_length=MAX_TARGETS)]


class InvalidRequest(GuardrailError):
    """A kill-switch request that does not follow the contract."""


#: Who asks, in their own words (the `guardrail` command sends the caller's ARN); CloudTrail's record
#: of the invocation names the caller for certain.
_By = Annotated[str, Field(min_length=1, max_length=1000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def destructive(self) -> str | None:
        """What a confirmation must name (`panic`, `restore-all`), or None if none is needed."""
        return None


class _Placed(_Request):
    """`account` and `region` say where targets named by bare name are (default: the kill switch's)."""

    account: _Account | None = None
    region: _Region | None = None

    @field_validator("account", "region")
    @classmethod
    def _watched(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            watched(info, **{str(info.field_name): value})
        return value


class _Sweep(_Request):
    """A request that may sweep whole accounts and regions (watched ones), confirmed when it does."""

    accounts: _Places | None = None
    regions: _Places | None = None
    confirm: _Confirm = None
    by: _By = UNNAMED_OPERATOR

    @field_validator("accounts", "regions")
    @classmethod
    def _places(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        return places_watched(value, info)


class _Targets(_Placed):
    """A request that names functions, workgroups, or both (one field per kind: `functions`, ...)."""

    @model_validator(mode="after")
    def _some(self) -> Self:
        if all(getattr(self, kind.plural, None) is None for kind in TargetKind):
            raise ValueError("name functions, workgroups, or both")
        return self

    def targets(self) -> list[Target]:
        """The targets named one by one, functions first (`"all"` is resolved from the ledger)."""
        return [
            target
            for kind in TargetKind
            if isinstance(named := getattr(self, kind.plural, None), list)
            for target in named
        ]


class ThrottleRequest(_Targets):
    """Throttle the named functions and disable the named workgroups (at least one of either)."""

    action: Literal["throttle"]
    functions: _Names | None = None
    workgroups: _Names | None = None
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    by: _By = UNNAMED_OPERATOR

    @field_validator("functions", "workgroups")
    @classmethod
    def _refs(cls, value: list[Any] | None, info: ValidationInfo) -> list[Target] | None:
        return references(value, info)


class RestoreRequest(_Targets, _Sweep):
    """Restore the named functions and workgroups, or `"all"` of a kind that the guardrail holds.

    With `"all"`, `accounts` and `regions` restore only the held targets there (default: every one).
    """

    action: Literal["restore"]
    functions: Literal["all"] | list[Target] | None = None
    workgroups: Literal["all"] | list[Target] | None = None

    @field_validator("functions", "workgroups", mode="before")
    @classmethod
    def _refs(cls, value: Any, info: ValidationInfo) -> Any:
        return names_or_all(value, info)

    def all_of(self) -> list[TargetKind]:
        """The kinds whose every held target is to be restored."""
        return [kind for kind in TargetKind if getattr(self, kind.plural, None) == "all"]

    def destructive(self) -> str | None:
        """A restore of `"all"` (of any kind) must be confirmed."""
        return "restore-all" if self.all_of() else None

    def covers(self, target: Target) -> bool:
        """True when a held target is within the accounts and regions the request names (if any)."""
        return (self.accounts is None or target.account in self.accounts) and (
            self.regions is None or target.region in self.regions
        )

    @model_validator(mode="after")
    def _places_with_all(self) -> Self:
        if (self.accounts or self.regions) and not self.all_of():
            raise ValueError('accounts and regions narrow a restore of "all"; name targets by ARN instead')
        return self


class StatusRequest(_Request):
    """List what the guardrail currently holds: throttled functions, disabled workgroups, flags."""

    action: Literal["status"]


class PanicRequest(_Sweep):
    """Throttle every function of the named accounts and regions but the exempt and the guardrail's own.

    Naming none means the kill switch's own account and region: never every account of an organization.
    """

    action: Literal["panic"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]

    def places(self, scope: Scope) -> list[tuple[str, str]]:
        """Every (account, region) the panic acts in."""
        accounts = self.accounts or [scope.account]
        return [(account, region) for account in accounts for region in self.regions or [scope.region]]

    def destructive(self) -> str | None:
        """Panic must always be confirmed."""
        return "panic"


class _AccountRequest(_Request):
    """A request about one account the guardrail watches (its own; in organization mode, any member)."""

    account: _Account
    by: _By = UNNAMED_OPERATOR

    @field_validator("account")
    @classmethod
    def _watched(cls, value: str, info: ValidationInfo) -> str:
        watched(info, account=value)
        return value


class PauseRequest(_AccountRequest):
    """Pause the account's automatic enforcement: its findings are alerted, not applied, until resumed."""

    action: Literal["pause"]
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class ResumeRequest(_AccountRequest):
    """Resume a paused account's automatic enforcement."""

    action: Literal["resume"]


class HistoryRequest(_Placed):
    """Read the audit trail newest first: of one function, one workgroup, or (naming none) every target."""

    action: Literal["history"]
    function: Target | None = None
    workgroup: Target | None = None
    since: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_HISTORY)] = DEFAULT_HISTORY

    @field_validator("function", "workgroup", mode="before")
    @classmethod
    def _ref(cls, value: Any, info: ValidationInfo) -> Target | None:
        named = references(None if value is None else [value], info)
        return None if named is None else named[0]

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.function is not None and self.workgroup is not None:
            raise ValueError("name a function or a workgroup, not both (or neither, for every target)")
        return self

    def target(self) -> Target | None:
        """The one target whose trail is asked for, or None for every target's."""
        return self.workgroup or self.function


AnyRequest = (
    ThrottleRequest
    | RestoreRequest
    | StatusRequest
    | PanicRequest
    | HistoryRequest
    | PauseRequest
    | ResumeRequest
)
KillSwitchRequest = Annotated[AnyRequest, Field(discriminator="action")]
_REQUESTS: TypeAdapter[AnyRequest] = TypeAdapter(KillSwitchRequest)


def confirmation(what: str, account: str) -> str:
    """The `confirm` value of a destructive request (`panic`, `restore-all`) in `account`."""
    return f"{what}-{account}"


def parse_request(event: Any, *, scope: Scope) -> AnyRequest:
    """Validate a payload for the kill switch acting in `scope`; raise InvalidRequest naming every problem.

    Panic and a restore of `"all"` are refused unless `confirm` is `confirmation(..., scope.account)`.
    """
    if not isinstance(event, dict):
        raise InvalidRequest(f"the request must be one JSON object, not {type(event).__name__}")
    if "action" not in event:
        raise InvalidRequest(
            "action: required (one of throttle, restore, status, panic, history, pause, resume)"
        )
    try:
        request = _REQUESTS.validate_python(event, context={SCOPE: scope})
    except ValidationError as exc:
        raise InvalidRequest(_explain(exc)) from exc
    _check_confirmation(request, scope.account)
    return request


def _check_confirmation(request: AnyRequest, account: str) -> None:
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
        problems.append(f"{location}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(dict.fromkeys(problems))
