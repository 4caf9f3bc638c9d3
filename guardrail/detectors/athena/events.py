"""The two EventBridge events the Athena watch reads, parsed into what the detector needs.

- `Athena Query State Change` (source `aws.athena`): query id, workgroup, state; no caller, no bytes.
- `AWS API Call via CloudTrail` for `StartQueryExecution`: query id, workgroup and the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardrail.errors import GuardrailError

STATE_CHANGE = "Athena Query State Change"
API_CALL = "AWS API Call via CloudTrail"
TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
DEFAULT_WORKGROUP = "primary"
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MalformedEvent(GuardrailError):
    """An event that is not one of the two shapes the watch reads."""


@dataclass(frozen=True)
class Caller:
    """Who started a query. `function` is set when the caller may be a Lambda function.

    A Lambda function calls AWS with its execution role, in a session named after the function;
    any assumed-role session whose name is a valid function name is therefore a candidate, and
    enforcement confirms it (a candidate that is not a function is treated as any other principal).
    """

    arn: str
    identity_type: str
    function: str | None = None

    @property
    def key(self) -> str:
        """The name counters and rules use: the function name, or the principal's ARN."""
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


@dataclass(frozen=True)
class QueryFinished:
    """A query that reached a final state (SUCCEEDED, FAILED or CANCELLED)."""

    event_id: str
    query_id: str
    at: datetime
    region: str
    workgroup: str
    state: str


@dataclass(frozen=True)
class Ignored:
    """A well-formed event that carries nothing to count (a running query, a failed API call)."""

    event_id: str
    why: str


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _StateDetail(_Loose):
    query_id: str = Field(alias="queryExecutionId", min_length=1)
    state: str = Field(alias="currentState", min_length=1)
    workgroup: str = Field(DEFAULT_WORKGROUP, alias="workgroupName")


class _StateChange(EventBridgeModel):
    detail: _StateDetail


class _Issuer(_Loose):
    arn: str = ""


class _SessionContext(_Loose):
    session_issuer: _Issuer = Field(default_factory=_Issuer, alias="sessionIssuer")


class _Identity(_Loose):
    type: str
    arn: str = ""
    principal_id: str = Field("", alias="principalId")
    session_context: _SessionContext = Field(default_factory=_SessionContext, alias="sessionContext")


class _Context(_Loose):
    database: str = ""
    catalog: str = "AwsDataCatalog"


class _Request(_Loose):
    query: str = Field("", alias="queryString")
    workgroup: str = Field(DEFAULT_WORKGROUP, alias="workGroup")
    context: _Context = Field(default_factory=_Context, alias="queryExecutionContext")


class _Response(_Loose):
    query_id: str = Field(alias="queryExecutionId", min_length=1)


class _ApiDetail(_Loose):
    event_name: str = Field(alias="eventName")
    event_time: datetime = Field(alias="eventTime")
    identity: _Identity = Field(alias="userIdentity")
    error_code: str | None = Field(None, alias="errorCode")
    request: _Request | None = Field(None, alias="requestParameters")
    response: _Response | None = Field(None, alias="responseElements")


class _ApiCall(EventBridgeModel):
    detail: _ApiDetail


def parse_event(event: Any) -> QueryStarted | QueryFinished | Ignored:
    """Parse one EventBridge event; raise MalformedEvent naming what is wrong."""
    if not isinstance(event, dict):
        raise MalformedEvent(f"expected one JSON object, got {type(event).__name__}")
    kind = event.get("detail-type")
    try:
        if kind == STATE_CHANGE:
            return _finished(parse(event=event, model=_StateChange))
        if kind == API_CALL:
            return _started(parse(event=event, model=_ApiCall))
    except ValidationError as exc:
        raise MalformedEvent(f"{kind}: {_explain(exc)}") from exc
    raise MalformedEvent(f"unexpected detail-type {kind!r}")


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
    )


def _started(event: _ApiCall) -> QueryStarted | Ignored:
    detail = event.detail
    if detail.event_name != "StartQueryExecution":
        return Ignored(event.id, f"API call {detail.event_name} is not watched")
    if detail.error_code:
        return Ignored(event.id, f"StartQueryExecution failed ({detail.error_code}); no query ran")
    if detail.response is None:
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
    )


def _caller(identity: _Identity) -> Caller:
    if identity.type == "AssumedRole":
        session = identity.arn.rsplit("/", 1)[-1] if identity.arn.count("/") >= 2 else ""
        role = identity.session_context.session_issuer.arn or identity.arn
        function = session if _FUNCTION_NAME.match(session) else None
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
