"""Carries out a validated kill-switch request through the shared enforcement path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from guardrail.domain import Finding, Outcome, Result
from guardrail.enforcement.enforcer import AwsError, Enforcer, describe_error
from guardrail.enforcement.ports import FunctionControl
from guardrail.kill_switch.requests import PanicRequest, RestoreRequest, StatusRequest, ThrottleRequest

logger = logging.getLogger(__name__)

DETECTOR = "kill-switch"
_WORKERS = 8


class KillSwitch:
    """Answers throttle, restore, status and panic requests with one result per function."""

    def __init__(
        self, *, enforcer: Enforcer, functions: FunctionControl, clock: Callable[[], datetime]
    ) -> None:
        self._enforcer = enforcer
        self._functions = functions
        self._clock = clock

    def handle(
        self, request: ThrottleRequest | RestoreRequest | StatusRequest | PanicRequest
    ) -> dict[str, Any]:
        """Carry out one request and answer it as a JSON-ready dict."""
        if isinstance(request, ThrottleRequest):
            outcomes = self._throttle(request.functions, request.reason, DETECTOR)
        elif isinstance(request, RestoreRequest):
            names = (
                [r.function for r in self._enforcer.active()]
                if request.functions == "all"
                else request.functions
            )
            outcomes = self._each(
                names, lambda name: self._enforcer.restore(name, reason="kill switch restore")
            )
        elif isinstance(request, PanicRequest):
            outcomes = self._throttle(self._functions.function_names(), request.reason, f"{DETECTOR}:panic")
        else:
            return self._status()
        return {
            "ok": True,
            "action": request.action,
            "mode": self._mode,
            "results": [outcome.to_dict() for outcome in outcomes],
        }

    @property
    def _mode(self) -> str:
        return "notify-only" if self._enforcer.notify_only else "enforce"

    def _throttle(self, names: Iterable[str], reason: str, detector: str) -> list[Outcome]:
        observed_at = self._clock()
        return self._each(
            names,
            lambda name: self._enforcer.throttle(
                Finding(function=name, detector=detector, reason=reason, observed_at=observed_at)
            ),
        )

    def _status(self) -> dict[str, Any]:
        results = [
            {
                "function": record.function,
                "result": record.status.value,
                "since": record.throttled_at.isoformat(),
                "detector": record.detector,
                "reason": record.reason,
                "prior_reservation": record.prior_reservation,
            }
            for record in self._enforcer.active()
        ]
        return {"ok": True, "action": "status", "mode": self._mode, "results": results}

    @staticmethod
    def _each(names: Iterable[str], act: Callable[[str], Outcome]) -> list[Outcome]:
        def safely(name: str) -> Outcome:
            try:
                return act(name)
            except AwsError as exc:  # one function's failure must not lose the others' results
                logger.exception("kill switch could not act on %s", name)
                return Outcome(name, Result.ERROR, error=describe_error(exc))

        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            return list(pool.map(safely, names))
