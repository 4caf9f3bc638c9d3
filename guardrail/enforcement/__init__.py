"""The one path that applies every finding: exemptions, ledger, throttle, audit, alert."""

from guardrail.enforcement.enforcer import Enforcer
from guardrail.enforcement.outcomes import Outcome, Result
from guardrail.enforcement.policy import Decision, FunctionFacts, decide

__all__ = ["Decision", "Enforcer", "FunctionFacts", "Outcome", "Result", "decide"]
