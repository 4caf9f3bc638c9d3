"""The alert of an operator's pause or resume of an account: what changed, and the command that undoes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from guardrail.account_pause import AccountPause
from guardrail.alerts.commands import account_call
from guardrail.alerts.events import Phase
from guardrail.alerts.fields import MAX_NAME, clean, safe_pause
from guardrail.alerts.render import Alert, compose_alert
from guardrail.scope import Scope

_UNDO = {Phase.ACCOUNT_PAUSED: "resume", Phase.ACCOUNT_RESUMED: "pause"}
#: The phases of an account, not of a target: `render_pause` renders them, `render` does not.
ACCOUNT_PHASES = frozenset(_UNDO)


def render_pause(  # noqa: PLR0917 - one alert's facts, in the order they read
    phase: Phase, pause: AccountPause, at: datetime, by: str, home: Scope, kill_switch_function: str
) -> Alert:
    """`account-paused` / `account-resumed`: `by` is who asked, `pause` the pause written or ended."""
    pause, by = safe_pause(pause), clean(by, MAX_NAME)
    undo = account_call(
        _UNDO[phase],
        pause.account,
        region=home.region,
        function=clean(kill_switch_function, MAX_NAME),
        reason=f"paused again after the resume by {by}: {pause.reason}",
    )
    if phase is Phase.ACCOUNT_PAUSED:
        headline = f"PAUSED automatic enforcement in account {pause.account} (alerts only until resumed)"
    else:
        headline = f"resumed automatic enforcement in account {pause.account}"
    document: dict[str, Any] = {
        "event_type": phase.value,
        "account": pause.account,
        "region": home.region,
        "detector": "kill-switch",
        "reason": pause.reason,
        "time": at.isoformat(),
        "action": headline,
        "by": by,
        "account_paused": pause.to_dict(),
        "undo": undo,
    }
    lines = [
        f"{'Account:':<20} {pause.account}",
        f"{'By:':<20} {by}",
        f"{'Reason:':<20} {pause.reason}",
        f"{'Time:':<20} {at.isoformat()}",
    ]
    if phase is Phase.ACCOUNT_PAUSED:
        lines.append(
            "Automatic findings about its functions and workgroups are alerted, not applied;"
            " the kill switch still acts there."
        )
    else:
        lines.append(f"{'Was:':<20} {pause.describe()}")
    how = ["", f"To {undo['action']} it:", f"  {undo['guardrail_cli']}", "or", f"  {undo['aws_cli']}"]
    attributes = {"event_type": phase.value, "account": pause.account, "detector": "kill-switch"}
    return compose_alert(headline, document, (lines, how), {}, None, attributes)
