"""The operator's kill switch: throttle, restore, status, panic, history, pause and resume on request."""

from guardrail.kill_switch.requests import (
    HistoryRequest,
    KillSwitchRequest,
    PanicRequest,
    PauseRequest,
    RestoreRequest,
    ResumeRequest,
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
    "PauseRequest",
    "RestoreRequest",
    "ResumeRequest",
    "StatusRequest",
    "ThrottleRequest",
    "confirmation",
    "parse_request",
]
