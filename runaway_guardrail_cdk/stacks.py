"""The deployed stacks: stateful resources apart from the stateless functions and rules."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from guardrail.config import GuardrailConfig

from .guardrail import GuardrailFunctions
from .state import GuardrailState


class GuardrailStateStack(Stack):
    """Ledger table and alert topic: retained, with stable logical IDs."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.state = GuardrailState(self, "State", config=config)
        CfnOutput(
            self, "AlertTopicArn", value=self.state.topic.topic_arn, description="Subscribe to get alerts"
        )
        CfnOutput(
            self,
            "LedgerTableName",
            value=self.state.table.table_name,
            description="Throttle records, audit trail and counters",
        )


class GuardrailServiceStack(Stack):
    """Functions, rules and permissions; safe to destroy and redeploy at will."""

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
        CfnOutput(
            self,
            "KillSwitchFunctionName",
            value=self.functions.kill_switch.function.function_name,
            description="Invoke with a JSON request to throttle, restore, list or panic",
        )
