"""Carries out a validated kill-switch request through the shared enforcement path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from guardrail.domain import (
    VOCABULARY,
    ActionRecord,
    Finding,
    Outcome,
    Result,
    Status,
    Target,
    prior_fields,
)
from guardrail.enforcement.enforcer import Enforcer
from guardrail.enforcement.ports import FunctionControl
from guardrail.errors import GuardrailError
from guardrail.kill_switch.pausing import AccountSwitch
from guardrail.kill_switch.requests import (
    PanicRequest,
    PauseRequest,
    RestoreRequest,
    ResumeRequest,
    StatusRequest,
    ThrottleRequest,
)
from guardrail.scope import Scope

logger = logging.getLogger(__name__)

DETECTOR = "kill-switch"
_WORKERS = 8


class KillSwitch:
    """Answers throttle, restore, status and panic requests with one result per target; pause and resume."""

    def __init__(
        self,
        *,
        enforcer: Enforcer,
        functions: Callable[[str, str], FunctionControl],
        scope: Scope,
        clock: Callable[[], datetime],
        accounts: AccountSwitch,
    ) -> None:
        self._enforcer = enforcer
        self._functions = functions  # the Lambda adapter of an (account, region)
        self._scope = scope
        self._clock = clock
        self._accounts = accounts

    def handle(
        self,
        request: ThrottleRequest
        | RestoreRequest
        | StatusRequest
        | PanicRequest
        | PauseRequest
        | ResumeRequest,
    ) -> dict[str, Any]:
        """Carry out one request and answer it as a JSON-ready dict."""
        if isinstance(request, PauseRequest | ResumeRequest):
            return self._answer(request.action, [self._accounts.handle(request)])
        if isinstance(request, ThrottleRequest):
            outcomes = self._enforce(request.targets(), request.reason, DETECTOR, request.by)
        elif isinstance(request, RestoreRequest):
            held = [
                record.target
                for kind in request.all_of()
                for record in self._enforcer.active(kind)
                if request.covers(record.target)
            ]
            outcomes = self._each(
                [*request.targets(), *held],
                lambda target: self._enforcer.restore(target, reason=f"kill switch restore by {request.by}"),
            )
        elif isinstance(request, PanicRequest):
            functions, unlisted = self._every_function(request)
            outcomes = unlisted + self._enforce(functions, request.reason, f"{DETECTOR}:panic", request.by)
        else:
            now = self._clock()
            holding = [_held(record, now) for record in self._enforcer.active()]
            answer = self._answer("status", holding) | {"by_place": _by_place(holding)}
            return answer | {"breaker": self._enforcer.breaker(), "paused_accounts": self._accounts.paused()}
        return self._answer(request.action, [outcome.to_dict() for outcome in outcomes])

    def _every_function(self, request: PanicRequest) -> tuple[list[Target], list[Outcome]]:
        """Every function of the places the panic names; a place it cannot list is an error (`*`)."""
        found: list[Target] = []
        unlisted: list[Outcome] = []
        for account, region in request.places(self._scope):
            try:
                names = list(self._functions(account, region).function_names())
            except GuardrailError as exc:
                logger.exception("panic could not list the functions of %s in %s", account, region)
                every = Target.function("*", account, region)
                unlisted.append(Outcome(every, Result.ERROR, "functions not listed", error=str(exc)))
                continue
            found += [Target.function(name, account, region) for name in names]
        return found, unlisted

    def _answer(self, action: str, results: list[dict[str, Any]]) -> dict[str, Any]:
        mode = "notify-only" if self._enforcer.notify_only else "enforce"
        return {"ok": True, "action": action, "mode": mode, "results": results}

    def _enforce(self, targets: Iterable[Target], reason: str, detector: str, by: str) -> list[Outcome]:
        """An operator's findings: they act whatever holds automatic ones back, and name who asked."""
        observed_at = self._clock()
        return self._each(
            targets,
            lambda target: self._enforcer.enforce(
                Finding(target, detector, reason, observed_at, evidence={"requested_by": by})
            ),
        )

    @staticmethod
    def _each(targets: Iterable[Target], act: Callable[[Target], Outcome]) -> list[Outcome]:
        def safely(target: Target) -> Outcome:
            try:
                return act(target)
            except GuardrailError as exc:  # one target's failure must not lose the others' results
                logger.exception("kill switch could not act on %s", target)
                return Outcome(target, Result.ERROR, error=str(exc))

        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            return list(pool.map(safely, targets))


def _by_place(held: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """`status` grouped: account -> region -> what is held there."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for entry in held:
        grouped.setdefault(entry.get("account", ""), {}).setdefault(entry.get("region", ""), []).append(entry)
    return grouped


def _held(record: ActionRecord, now: datetime) -> dict[str, Any]:
    """One held target for `status`; a flagged one says how long it has waited and why."""
    words = VOCABULARY[record.target.kind]
    where = {key: value for key in ("account", "region") if (value := getattr(record.target, key))}
    held = {
        record.target.kind.value: record.target.name,
        **where,
        "result": words.applied.value if record.status is Status.ENFORCED else record.status.value,
        "since": record.acted_at.isoformat(),
        "detector": record.detector,
        "reason": record.reason,
        **prior_fields(record.target.kind, record.prior),
    }
    if record.status is Status.FLAGGED:
        held["age_minutes"] = int((now - record.since).total_seconds() // 60)
        held["held_back"] = str(record.evidence.get("held_back", "notify-only"))
    return held
