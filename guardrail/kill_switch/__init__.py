"""The operator's kill switch: throttle, restore, status, panic and history on request."""

from guardrail.kill_switch.requests import (
    HistoryRequest,
    KillSwitchRequest,
    PanicRequest,
    RestoreRequest,
    StatusRequest,
    ThrottleRequest,
    confirmation,
    parse_request,
)
from guardrail.kill_switch.service import KillSwitch

__all__ = [
    "HistoryRequest",
    "KillSwitch",
    "KillSwitchRequest",
    "PanicRequest",
    "RestoreRequest",
    "StatusRequest",
    "ThrottleRequest",
    "confirmation",
    "parse_request",
]
