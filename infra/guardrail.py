"""Reusable constructs: the guardrail's functions, and the whole guardrail in one scope."""

from __future__ import annotations

from constructs import Construct

from guardrail.config import GuardrailConfig
from infra.athena_watch import AthenaWatchFunction
from infra.function import GuardrailFunction, function_code
from infra.recursion_watch import RecursionWatch
from infra.state import GuardrailState


class GuardrailFunctions(Construct):
    """The guardrail's functions, wired to an existing `GuardrailState`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, state: GuardrailState
    ) -> None:
        super().__init__(scope, construct_id)
        code = function_code()
        self.kill_switch = GuardrailFunction(
            self,
            "KillSwitch",
            config=config,
            state=state,
            role_name="kill-switch",
            handler="guardrail.handlers.kill_switch.handler",
            description="Runaway Guardrail kill switch: throttle, restore, status, panic",
            code=code,
            timeout_seconds=600,
            memory_size=512,
        )
        self.recursion_watch = RecursionWatch(self, "RecursionWatch", config=config, state=state, code=code)
        self.athena_watch = AthenaWatchFunction(self, "AthenaWatch", config=config, state=state, code=code)


class RunawayGuardrail(Construct):
    """The whole guardrail in one scope, for teams adding it to a CDK app of their own."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GuardrailConfig) -> None:
        super().__init__(scope, construct_id)
        self.state = GuardrailState(self, "State", config=config)
        self.functions = GuardrailFunctions(self, "Functions", config=config, state=self.state)
