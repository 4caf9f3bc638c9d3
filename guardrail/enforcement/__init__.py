"""The one path that applies every finding: exemptions, ledger, throttle, audit, alert."""

from guardrail.domain import FunctionFacts, Outcome, Result
from guardrail.enforcement.enforcer import Enforcer
from guardrail.enforcement.policy import Decision, decide

__all__ = ["Decision", "Enforcer", "FunctionFacts", "Outcome", "Result", "decide"]
