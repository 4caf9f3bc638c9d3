"""Reusable constructs: the guardrail's functions, and the whole guardrail in one scope."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.handlers.observability import KILL_SWITCH

from .athena_watch import AthenaWatchFunction
from .chat import GuardrailChat
from .dead_letters import DeadLetters
from .forwarding import ForwardedSignals, forwards_to_home
from .function import GuardrailFunction, function_code
from .function_table import FUNCTIONS
from .health import GuardrailHealth
from .outputs import contract_output
from .recursion_watch import RecursionWatch
from .state import GuardrailState


class GuardrailFunctions(Construct):
    """The guardrail's functions, wired to an existing `GuardrailState`, with what watches them."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, state: GuardrailState
    ) -> None:
        super().__init__(scope, construct_id)
        code = function_code()
        self.dead_letters = DeadLetters(self, "DeadLetters")
        self.kill_switch = GuardrailFunction(
            self, "KillSwitch", config=config, state=state, spec=FUNCTIONS[KILL_SWITCH], code=code
        )
        contract_output(  # what the `guardrail` command looks up in the stack (`--stack`)
            self,
            "KillSwitchFunctionName",
            self.kill_switch.function.function_name,
            "Invoke with a JSON request to throttle, restore, list or panic",
        )
        self.recursion_watch = RecursionWatch(
            self, "RecursionWatch", config=config, state=state, code=code, dead_letters=self.dead_letters
        )
        self.athena_watch = AthenaWatchFunction(
            self,
            "AthenaWatch",
            config=config,
            state=state,
            code=code,
            dead_letters=self.dead_letters,
            signal_bus=self.recursion_watch.signal_bus,
        )
        #: Every guardrail function, one per row of the function table, in its order.
        self.all: list[GuardrailFunction] = [
            self.kill_switch,
            self.recursion_watch.watch,
            self.recursion_watch.scan,
            self.athena_watch.function,
        ]
        for function in self.all:
            self.dead_letters.catch_failures(function.function)
        #: The detector rules on the home signal bus, for signals other regions and accounts forward.
        self.forwarded = (
            ForwardedSignals(
                self,
                "Forwarded",
                signal_bus=self.recursion_watch.signal_bus,
                signal_bus_name=config.signal_bus_name,
                athena_watch=self.athena_watch.function,
                recursion_watch=self.recursion_watch.watch,
                dead_letters=self.dead_letters,
            )
            if forwards_to_home(config)
            else None
        )
        #: The chat channels on the alert topic (None when cdk.json names none).
        self.chat = (
            GuardrailChat(
                self, "Chat", config=config, topic=state.topic, kill_switch=self.kill_switch.function
            )
            if config.slack or config.microsoft_teams
            else None
        )
        self.health = GuardrailHealth(
            self,
            "Health",
            config=config,
            topic=state.topic,
            functions=self.all,
            dead_letters=self.dead_letters,
        )
        state.allow_alarms(self.health.alarms)  # these alarms, and no other, publish to the topic


class RunawayGuardrail(Construct):
    """The whole guardrail in one scope, for teams adding it to a CDK app of their own."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GuardrailConfig) -> None:
        super().__init__(scope, construct_id)
        self.state = GuardrailState(self, "State", config=config)
        self.functions = GuardrailFunctions(self, "Functions", config=config, state=self.state)

    def guard(self, function: lambda_.Function) -> None:
        """Let one of your functions use `@recursion_guard`: its layer and the two permissions it needs."""
        self.functions.recursion_watch.guard(function)
