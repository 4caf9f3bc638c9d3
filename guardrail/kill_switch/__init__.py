"""The operator's kill switch: throttle, restore, status and panic on request."""

from guardrail.kill_switch.requests import (
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
    "KillSwitch",
    "KillSwitchRequest",
    "PanicRequest",
    "RestoreRequest",
    "StatusRequest",
    "ThrottleRequest",
    "confirmation",
    "parse_request",
]
