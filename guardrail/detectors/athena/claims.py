"""`Athena Query Started`, the recursion guard's word that a guarded function started a query.

The guard publishes it on the guardrail's signal bus right after StartQueryExecution returns
(`guardrail.recursion.query_started`), seconds to minutes before CloudTrail's record of the same call.
Anyone allowed PutEvents on that bus can write one, so it is a claim, and it is booked as the query's
start only once verified (docs/trust-model.md). CloudTrail's later record of the same query id is a
duplicate only when it names the same caller; when it names another, it is booked for its own caller
(`booking.book_start`): a claim can add to the counts of the function it names, never hide a caller.
Verified means:
- the envelope's account and region are the guardrail's, and the function it names (in `function` and
  `resources`) is one function of that account and region;
- the session it ran in (`caller`, from `sts:GetCallerIdentity`) is the function's own: an assumed-role
  session of this account named after the function, of a role named like the function's execution role;
- the function runs the guard (its layer, or `guardrail:guarded=true`) and its execution role, read
  from Lambda, is that role. The throttle's finding expects both again when it acts.
A claim that fails any check books nothing and is alerted as unverified.

Pure apart from `ClaimCheck`, which reads the function's configuration through the port it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guardrail.detectors.athena.query_events import Caller, MalformedEvent, QueryStarted
from guardrail.domain import Expectation, Target, TargetFacts
from guardrail.enforcement.policy import unmet
from guardrail.errors import InvalidFunctionRef, TargetNotFound
from guardrail.payloads import EventBridgeEvent
from guardrail.recursion.query_started import MAX_QUERY_CHARS, QUERY_STARTED
from guardrail.recursion.refusal import EVENT_SOURCE
from guardrail.scope import Scope, function_name, is_function_name, layer_in_region

#: How long a function's verified configuration (guard, role) is trusted before Lambda is asked again.
CHECK_SECONDS = 300.0
_CHECKS_KEPT = 256


@dataclass(frozen=True)
class QueryClaim:
    """What an `Athena Query Started` event claims, and where its envelope says it comes from."""

    event_id: str
    query_id: str
    at: datetime
    account: str
    region: str
    workgroup: str
    function: str
    resources: tuple[str, ...]
    session: str
    chain_id: str
    depth: int
    query: str = ""

    def origin(self, partition: str) -> Scope:
        """The claim's own account and region: the only place its function may be."""
        return Scope(self.account, self.region, partition)

    def started(self, role_arn: str) -> QueryStarted:
        """The query's start, as CloudTrail would book it: the function, under its execution role."""
        return QueryStarted(
            event_id=self.event_id,
            query_id=self.query_id,
            at=self.at,
            region=self.region,
            account=self.account,
            workgroup=self.workgroup,
            caller=Caller(arn=role_arn, identity_type="AssumedRole", function=self.function),
            query=self.query,
            claimed=True,
        )

    def evidence(self) -> dict[str, Any]:
        """What an alert shows of the claim."""
        return {
            "signal": QUERY_STARTED,
            "event_id": self.event_id,
            "query_id": self.query_id,
            "workgroup": self.workgroup,
            "chain_id": self.chain_id,
            "depth": self.depth,
            "session": self.session,
        }


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")

    function: str = Field(min_length=1, max_length=256)
    query_execution_id: str = Field(min_length=1, max_length=128)
    workgroup: str = Field("primary", min_length=1, max_length=128)
    chain_id: str = Field(min_length=1, max_length=128)
    depth: int = Field(ge=0)
    caller: str = Field("", max_length=2048)
    query: str = Field("", max_length=MAX_QUERY_CHARS)

    @field_validator("function")
    @classmethod
    def _function_name(cls, value: str) -> str:
        if not is_function_name(value):  # the guard writes its function's plain name, never an ARN
            raise ValueError(f"{value[:100]!r} is not a function name")
        return value


class _Claim(EventBridgeEvent):
    detail: _Detail


def parse_claim(event: Any) -> QueryClaim:
    """Parse an `Athena Query Started` event; raise MalformedEvent naming what is wrong."""
    try:
        parsed = parse(event=event, model=_Claim)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise MalformedEvent(f"{QUERY_STARTED}: {where}: {problem['msg']}") from exc
    if parsed.source != EVENT_SOURCE or parsed.detail_type != QUERY_STARTED:
        raise MalformedEvent(f"{QUERY_STARTED}: source {parsed.source[:100]!r} is not {EVENT_SOURCE}")
    detail = parsed.detail
    at = parsed.time if parsed.time.tzinfo else parsed.time.replace(tzinfo=UTC)
    return QueryClaim(
        event_id=parsed.id,
        query_id=detail.query_execution_id,
        at=at.astimezone(UTC),
        account=parsed.account,
        region=parsed.region,
        workgroup=detail.workgroup,
        function=detail.function,
        resources=tuple(parsed.resources),
        session=detail.caller,
        chain_id=detail.chain_id,
        depth=detail.depth,
        query=detail.query,
    )


def envelope_doubt(claim: QueryClaim, scope: Scope) -> str | None:
    """Why the claim's envelope, function references or session cannot be the guard's (None: they can).

    `scope` is where the guardrail acts; the claim may name only its own account's and region's function.
    """
    if not scope.admits(account=claim.account, region=claim.region):
        return (
            f"the event is from account {claim.account}, region {claim.region}; "
            f"this guardrail acts in {scope}"
        )
    scope = claim.origin(scope.partition)
    for ref in claim.resources:
        try:
            named = function_name(ref, scope)
        except InvalidFunctionRef as exc:
            return str(exc)
        if named != claim.function:
            return f"the event names more than one function: {claim.function}, {named}"
    role = session_role(claim.session, claim.function, scope)
    if role is None:
        return (
            f"the event's session {claim.session[:200] or '(none)'} is not a session of {claim.function}"
            f" in {scope}"
        )
    return None


def session_role(session: str, function: str, scope: Scope) -> str | None:
    """The role name of an assumed-role session of `function` in `scope`, else None."""
    parts = session.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", scope.partition, "sts"] or parts[4] != scope.account:
        return None
    kind, _, rest = parts[5].partition("/")
    role, _, name = rest.partition("/")
    return role if kind == "assumed-role" and role and name == function else None


def facts_doubt(claim: QueryClaim, facts: TargetFacts, *, guard_layer: str, scope: Scope) -> str | None:
    """Why the function's own configuration does not bear the claim out (None: it does)."""
    doubt = unmet(Expectation(guard_layer=guard_layer), facts)
    if doubt is not None:
        return doubt
    role = session_role(claim.session, claim.function, scope)
    own = (facts.role_arn or "").rsplit("/", 1)[-1]
    account = (facts.role_arn or "").split(":")[4:5]
    if role is None or role != own or account != [scope.account]:
        return (
            f"the event's session {claim.session} is not under {claim.function}'s execution role "
            f"{facts.role_arn or '(unknown)'}"
        )
    return None


class ClaimCheck:
    """Verifies claims against the function's configuration, read at most every `CHECK_SECONDS`.

    `read` is the function action's `read` (GetFunction and friends); its answer, verified
    or not, is kept per function and session, so a flood of claims costs one read per period.
    """

    def __init__(
        self, read: Callable[[Target], TargetFacts], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._clock = clock
        self._known: dict[tuple[str, str, str], tuple[float, str | None, str]] = {}

    def verify(self, claim: QueryClaim, *, scope: Scope, guard_layer: str) -> tuple[str | None, str]:
        """(doubt, execution role ARN): no doubt and the role the query is booked under, once verified."""
        doubt = envelope_doubt(claim, scope)
        if doubt is not None:
            return doubt, ""
        origin, guard_layer = claim.origin(scope.partition), layer_in_region(guard_layer, claim.region)
        key, now = (claim.function, claim.session, guard_layer), self._clock()
        known = self._known.get(key)
        if known is not None and now - known[0] < CHECK_SECONDS:
            return known[1], known[2]
        try:
            facts = self._read(Target.function(claim.function, claim.account, claim.region))
        except TargetNotFound:
            answer: tuple[str | None, str] = (f"no function {claim.function} in {origin}", "")
        else:
            answer = (facts_doubt(claim, facts, guard_layer=guard_layer, scope=origin), facts.role_arn or "")
        if len(self._known) >= _CHECKS_KEPT:
            self._known.clear()
        self._known[key] = (now, *answer)
        return answer
