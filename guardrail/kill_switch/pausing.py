"""The kill switch's `pause` and `resume`: an operator's run-time switch on one account's enforcement.

A pause is one ledger item per account, written only where none stands and deleted only as read,
each change with its audit line in the same transaction, and one alert that says how to undo it.
What a pause does to findings is `guardrail.enforcement.pauses`'s.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from guardrail.account_pause import AccountPause, PauseResult
from guardrail.alerts.events import Phase
from guardrail.alerts.pause_alert import render_pause
from guardrail.enforcement.ports import AlertPublisher
from guardrail.errors import AwsCallFailed
from guardrail.kill_switch.requests import PauseRequest, ResumeRequest
from guardrail.scope import Scope

logger = logging.getLogger(__name__)

_ATTEMPTS = 3


class PauseStore(Protocol):
    """What pausing needs from the ledger (see `guardrail.adapters.ledger.pauses.AccountPauses`)."""

    def account_pause(self, account: str) -> AccountPause | None:
        """The account's pause, or None."""
        ...

    def pause_account(self, pause: AccountPause) -> AccountPause | None:
        """Write the pause unless one stands; None when written, else the one that stands."""
        ...

    def resume_account(self, pause: AccountPause, *, at: datetime, by: str) -> bool:
        """Delete exactly this pause; False when it no longer stands."""
        ...

    def paused_accounts(self) -> list[AccountPause]:
        """Every paused account."""
        ...


class AccountSwitch:
    """Pauses and resumes accounts' automatic enforcement; lists the paused ones for `status`."""

    def __init__(
        self,
        *,
        store: PauseStore,
        alerts: AlertPublisher,
        home: Scope,
        kill_switch_function: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._alerts = alerts
        self._home = home
        self._kill_switch_function = kill_switch_function
        self._clock = clock

    def handle(self, request: PauseRequest | ResumeRequest) -> dict[str, Any]:
        """Carry out one pause or resume; its one result, the account's."""
        return self._pause(request) if isinstance(request, PauseRequest) else self._resume(request)

    def paused(self) -> list[dict[str, str]]:
        """The paused accounts, for `status`: account, by, since, reason."""
        return [pause.to_dict() for pause in self._store.paused_accounts()]

    def _pause(self, request: PauseRequest) -> dict[str, Any]:
        now = self._clock()
        pause = AccountPause(request.account, request.by, now, request.reason, uuid.uuid4().hex)
        standing = self._store.pause_account(pause)
        if standing is not None:
            result = {"result": PauseResult.ALREADY_PAUSED.value, "detail": standing.describe()}
            return result | standing.to_dict()
        return (
            {"result": PauseResult.PAUSED.value}
            | pause.to_dict()
            | self._alert(Phase.ACCOUNT_PAUSED, pause, request.by)
        )

    def _resume(self, request: ResumeRequest) -> dict[str, Any]:
        not_paused = {"account": request.account, "result": PauseResult.NOT_PAUSED.value}
        for _ in range(_ATTEMPTS):
            pause = self._store.account_pause(request.account)
            if pause is None:
                return not_paused
            if self._store.resume_account(pause, at=self._clock(), by=request.by):
                was = {"result": PauseResult.RESUMED.value, "detail": f"was {pause.describe()}"}
                return (
                    {"account": pause.account} | was | self._alert(Phase.ACCOUNT_RESUMED, pause, request.by)
                )
        return not_paused | {"result": "error", "error": "the pause kept changing; try again"}

    def _alert(self, phase: Phase, pause: AccountPause, by: str) -> dict[str, Any]:
        """Send the pause's or resume's alert; `alert_sent` (and why not). The change stands either way."""
        alert = render_pause(phase, pause, self._clock(), by, self._home, self._kill_switch_function)
        try:
            self._alerts.publish(alert)
        except AwsCallFailed as exc:
            logger.exception("%s alert for account %s not sent", phase.value, pause.account)
            return {"alert_sent": False, "error": f"alert not sent: {exc}"}
        return {"alert_sent": True}
