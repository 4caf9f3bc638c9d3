"""The deployed stacks: stateful resources apart from the stateless functions and rules."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from guardrail.config import GuardrailConfig

from .guardrail import GuardrailFunctions
from .state import GuardrailState


class GuardrailStateStack(Stack):
    """Ledger table and alert topic: retained, with stable logical IDs (their outputs: GuardrailState)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.state = GuardrailState(self, "State", config=config)


class GuardrailServiceStack(Stack):
    """Functions, rules and permissions; safe to destroy and redeploy at will (outputs: its functions')."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        state: GuardrailState,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.functions = GuardrailFunctions(self, "Guardrail", config=config, state=state)
