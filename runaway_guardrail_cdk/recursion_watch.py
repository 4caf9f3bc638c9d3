"""Recursion watch: the guard's layer, the signal bus, the watch and scan functions, and their rules."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.handlers.observability import INVOCATION_SCAN, RECURSION_WATCH
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from guardrail.recursion.chain_key import CHAIN_SECRET_ENV

from .checkers import explain
from .dead_letters import DeadLetters
from .forwarding import recursion_patterns
from .function import GuardrailFunction
from .function_table import FUNCTIONS
from .signal_bus import LAYER_RUNTIMES, guard_layer, signal_bus
from .state import GuardrailState


class RecursionWatch(Construct):
    """Publishes the recursion guard as a layer and turns every recursion signal into enforcement.

    The guard's refusals arrive on a bus of their own (the layer names it), which only principals of
    this account may write to; the watch still verifies each refusal (docs/trust-model.md).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        state: GuardrailState,
        code: lambda_.Code,
        dead_letters: DeadLetters,
    ) -> None:
        super().__init__(scope, construct_id)
        self._signal_bus_name = config.signal_bus_name
        self.signal_bus = signal_bus(self, config, central=True)
        self.guard_layer = guard_layer(self, config)
        self.chain_key = _chain_key(self)
        self.watch = GuardrailFunction(
            self, "Watch", config=config, state=state, spec=FUNCTIONS[RECURSION_WATCH], code=code
        )
        self.scan = GuardrailFunction(
            self, "Scan", config=config, state=state, spec=FUNCTIONS[INVOCATION_SCAN], code=code
        )
        self._rules(dead_letters)

    def guard(self, function: lambda_.Function) -> None:
        """Let `function` run `@recursion_guard`: the layer, PutEvents, its own tags, the chain key.

        The chain key's ARN goes into the function's environment (`GUARDRAIL_CHAIN_SECRET`).
        """
        if function.role is None:
            raise ValueError(
                f"{function.node.path} has no role to grant the recursion guard's permissions to"
            )
        if function.runtime.name not in {runtime.name for runtime in LAYER_RUNTIMES}:
            supported = ", ".join(runtime.name for runtime in LAYER_RUNTIMES)
            raise ValueError(
                f"{function.node.path} runs {function.runtime.name}; the recursion guard's layer runs on "
                f"{supported}"
            )
        function.add_layers(self.guard_layer)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.signal_bus.event_bus_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.chain_key.secret_arn]
            )
        )
        function.add_environment(CHAIN_SECRET_ENV, self.chain_key.secret_arn)
        # a policy of its own: the function's default policy naming the function would be a cycle
        iam.Policy(
            function,
            "RecursionGuardTags",
            statements=[iam.PolicyStatement(actions=["lambda:ListTags"], resources=[function.function_arn])],
        ).attach_to_role(function.role)

    def _rules(self, dead_letters: DeadLetters) -> None:
        watch = self.watch.target(dead_letters)
        refusals = events.Rule(
            self,
            "GuardRefusals",
            description="The recursion guard refused a call past a function's depth limit",
            # by its (fixed) name, not a Ref: moto's CloudFormation cannot resolve a Ref to an event bus
            event_bus=events.EventBus.from_event_bus_name(self, "SignalBusByName", self._signal_bus_name),
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[DETAIL_TYPE]),
            targets=[watch],
        )
        refusals.node.add_dependency(self.signal_bus)
        for rule_id, (description, pattern) in recursion_patterns().items():
            events.Rule(self, rule_id, description=description, event_pattern=pattern, targets=[watch])
        events.Rule(
            self,
            "EveryMinute",
            description="Runs the invocation scan",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[self.scan.target(dead_letters)],
        )


def _chain_key(scope: Construct) -> secretsmanager.Secret:
    """The chain key: a random secret only the functions given to `guard(fn)` may read.

    Replacing it only makes chains under way start again at depth 0, so it is not retained.
    """
    key = secretsmanager.Secret(
        scope,
        "ChainKey",
        description="Runaway Guardrail: the key the recursion guard signs chain depths with",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=64, exclude_punctuation=True
        ),
        removal_policy=RemovalPolicy.DESTROY,
    )
    Validations.of(key).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-SMG4",
            reason=(
                "A rotation Lambda would be one more function with write access to the key; the key is"
                " rotated by `aws secretsmanager put-secret-value` (docs/recursion-watch.md); guarded"
                " functions accept its previous version, so a rotation breaks no chain."
            ),
        )
    )
    explain(
        key,
        "checkov",
        "CKV_AWS_149",
        "encrypted with Secrets Manager's AWS managed key; a customer key would need a grant to every"
        " guarded function's role as well, while IAM already lets only those roles read the secret",
    )
    return key
