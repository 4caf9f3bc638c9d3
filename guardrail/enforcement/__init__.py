"""The one path that applies every action on the account: exemptions, ledger, action, audit, alert, undo."""

from guardrail.domain import Outcome, Result
from guardrail.enforcement.actions import ACTIONS, DisableWorkgroup, TargetAction, ThrottleFunction, register
from guardrail.enforcement.enforcer import Enforcer
from guardrail.enforcement.policy import Decision, Exemptions, decide

__all__ = [
    "ACTIONS",
    "Decision",
    "DisableWorkgroup",
    "Enforcer",
    "Exemptions",
    "Outcome",
    "Result",
    "TargetAction",
    "ThrottleFunction",
    "decide",
    "register",
]
