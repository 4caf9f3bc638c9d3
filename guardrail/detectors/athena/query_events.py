"""The two EventBridge events the Athena watch reads, parsed into what the detector needs.

- `Athena Query State Change` (source `aws.athena`): query id, workgroup, state; no caller, no bytes.
- `AWS API Call via CloudTrail` for `StartQueryExecution`: query id, workgroup and the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardrail.errors import GuardrailError
from guardrail.payloads import EventBridgeEvent, KeyText
from guardrail.scope import is_function_name

SOURCE = "aws.athena"
STATE_CHANGE = "Athena Query State Change"
API_CALL = "AWS API Call via CloudTrail"
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
DEFAULT_WORKGROUP = "primary"
#: Athena's own bounds (ids and workgroup names are at most 128 characters) keep counter keys short.
_QueryId = Annotated[str, Field(min_length=1, max_length=128)]
_Workgroup = Annotated[str, Field(max_length=128)]


class MalformedEvent(GuardrailError):
    """An event that is not one of the two shapes the watch reads."""


@dataclass(frozen=True)
class Caller:
    """Who started a query. `function` is set when the caller may be a Lambda function.

    `arn` is the principal: for an assumed role, the role that issued the session (CloudTrail's
    `sessionIssuer.arn`). A Lambda function calls AWS with its execution role, in a session named
    after the function; any assumed-role session whose name is a valid function name is therefore a
    candidate, and enforcement confirms it: the query is the function's only when `arn` is the
    function's execution role (otherwise the caller is treated as the principal it is). Anyone can
    name a session after a function, so a candidate is counted apart from other roles' sessions.
    """

    arn: str
    identity_type: str
    function: str | None = None

    @property
    def key(self) -> str:
        """Whom counters add up: the candidate function under its issuing role, or the principal's ARN."""
        return f"{self.function}@{self.arn}" if self.function else self.arn

    @property
    def name(self) -> str:
        """Whom rules and people name: the candidate function, or the principal's ARN."""
        return self.function or self.arn


@dataclass(frozen=True)
class QueryStarted:
    """A successful StartQueryExecution call, from CloudTrail."""

    event_id: str
    query_id: str
    at: datetime
    region: str
    workgroup: str
    caller: Caller
    query: str = ""
    database: str = ""
    catalog: str = "AwsDataCatalog"
    account: str = ""  # the envelope's (blank: the guardrail's own)
    #: From the recursion guard's claim, not CloudTrail: CloudTrail's record may still name another caller.
    claimed: bool = False


@dataclass(frozen=True)
class QueryFinished:
    """A query that reached a final state (SUCCEEDED, FAILED or CANCELLED)."""

    event_id: str
    query_id: str
    at: datetime
    region: str
    workgroup: str
    state: str
    account: str = ""  # the envelope's (blank: the guardrail's own)


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that carries nothing to count (a running query, a failed API call)."""

    event_id: str
    why: str


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _StateDetail(_Loose):
    query_id: _QueryId = Field(alias="queryExecutionId")
    state: str = Field(alias="currentState", min_length=1)
    workgroup: _Workgroup = Field(DEFAULT_WORKGROUP, alias="workgroupName")


class _StateChange(EventBridgeEvent):
    detail: _StateDetail


class _Issuer(_Loose):
    arn: KeyText = ""


class _SessionContext(_Loose):
    session_issuer: _Issuer = Field(default_factory=_Issuer, alias="sessionIssuer")


class _Identity(_Loose):
    type: KeyText
    arn: KeyText = ""
    principal_id: KeyText = Field("", alias="principalId")
    session_context: _SessionContext = Field(default_factory=_SessionContext, alias="sessionContext")


class _Context(_Loose):
    database: str = ""
    catalog: str = "AwsDataCatalog"


class _Request(_Loose):
    query: str = Field("", alias="queryString")
    workgroup: _Workgroup = Field(DEFAULT_WORKGROUP, alias="workGroup")
    context: _Context = Field(default_factory=_Context, alias="queryExecutionContext")


class _Response(_Loose):
    # optional here: another call's response (CreateNamedQuery's `namedQueryId`) is ignored, not malformed
    query_id: _QueryId | None = Field(None, alias="queryExecutionId")


class _ApiDetail(_Loose):
    event_name: str = Field(alias="eventName")
    event_time: datetime = Field(alias="eventTime")
    identity: _Identity = Field(alias="userIdentity")
    error_code: str | None = Field(None, alias="errorCode")
    request: _Request | None = Field(None, alias="requestParameters")
    response: _Response | None = Field(None, alias="responseElements")


class _ApiCall(EventBridgeEvent):
    detail: _ApiDetail


def parse_event(event: Any, *, account: str | None = None) -> QueryStarted | QueryFinished | Ignored:
    """Parse one EventBridge event (of `account`, when given); raise MalformedEvent naming what is wrong."""
    if not isinstance(event, dict):
        raise MalformedEvent(f"expected one JSON object, got {type(event).__name__}")
    kind = event.get("detail-type")
    if kind not in (STATE_CHANGE, API_CALL):
        raise MalformedEvent(f"unexpected detail-type {str(kind)[:100]!r}")
    model: type[_StateChange | _ApiCall] = _StateChange if kind == STATE_CHANGE else _ApiCall
    try:
        parsed = parse(event=event, model=model)
    except ValidationError as exc:
        raise MalformedEvent(f"{kind}: {_explain(exc)}") from exc
    if parsed.source != SOURCE:
        raise MalformedEvent(f"{kind}: source {parsed.source[:100]!r} is not {SOURCE}")
    if account is not None and parsed.account != account:
        raise MalformedEvent(f"{kind} {parsed.id} is from account {parsed.account[:100]!r}, not {account}")
    return _finished(parsed) if isinstance(parsed, _StateChange) else _started(parsed)


def _finished(event: _StateChange) -> QueryFinished | Ignored:
    detail = event.detail
    if detail.state not in TERMINAL_STATES:
        return Ignored(event.id, f"query {detail.query_id} is {detail.state}")
    return QueryFinished(
        event_id=event.id,
        query_id=detail.query_id,
        at=_utc(event.time),
        region=event.region,
        workgroup=detail.workgroup,
        state=detail.state,
        account=event.account,
    )


def _started(event: _ApiCall) -> QueryStarted | Ignored:
    detail = event.detail
    if detail.event_name != "StartQueryExecution":
        return Ignored(event.id, f"API call {detail.event_name} is not watched")
    if detail.error_code:
        return Ignored(event.id, f"StartQueryExecution failed ({detail.error_code}); no query ran")
    if detail.response is None or detail.response.query_id is None:
        raise MalformedEvent(f"{API_CALL}: detail.responseElements: missing the query id")
    request = detail.request or _Request.model_validate({})
    return QueryStarted(
        event_id=event.id,
        query_id=detail.response.query_id,
        at=_utc(detail.event_time),
        region=event.region,
        workgroup=request.workgroup or DEFAULT_WORKGROUP,
        caller=_caller(detail.identity),
        query=request.query,
        database=request.context.database,
        catalog=request.context.catalog or "AwsDataCatalog",
        account=event.account,
    )


def _caller(identity: _Identity) -> Caller:
    if identity.type == "AssumedRole":
        session = identity.arn.rsplit("/", 1)[-1] if identity.arn.count("/") >= 2 else ""
        role = identity.session_context.session_issuer.arn or identity.arn
        function = session if is_function_name(session) else None
        return Caller(arn=role, identity_type=identity.type, function=function)
    return Caller(arn=identity.arn or identity.principal_id or identity.type, identity_type=identity.type)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error["loc"]) or "event"
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(dict.fromkeys(problems))
