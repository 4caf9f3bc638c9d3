"""Recursion watch: the guard's layer, the signal bus, the watch and scan functions, and their rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import (
    Acknowledgment,
    AssetHashType,
    BundlingOptions,
    CfnOutput,
    DockerImage,
    Duration,
    ILocalBundling,
    Stack,
    Validations,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.config import GuardrailConfig
from guardrail.detectors.recursion_signals import (
    ALARM_DETAIL_TYPE,
    ALARM_SOURCE,
    DROPPED_METRIC,
    HEALTH_DETAIL_TYPE,
    HEALTH_EVENT_CODES,
    HEALTH_SOURCE,
    LAMBDA_NAMESPACE,
)
from guardrail.handlers.observability import INVOCATION_SCAN, RECURSION_WATCH
from guardrail.recursion import DETAIL_TYPE, EVENT_SOURCE
from guardrail.recursion.refusal import DEPLOYMENT_FILE

from .dead_letters import DeadLetters
from .function import PROJECT_ROOT, GuardrailFunction
from .powertools import ARCHITECTURE
from .state import GuardrailState

GUARD_PACKAGE = PROJECT_ROOT / "guardrail" / "recursion"
LAYER_OUTPUT = "RecursionGuardLayerArn"
SIGNAL_BUS_OUTPUT = "SignalBusName"
#: Python runtimes the guard supports (it is pure Python and needs only boto3 from the runtime).
LAYER_RUNTIMES = [lambda_.Runtime.PYTHON_3_11, lambda_.Runtime.PYTHON_3_12, lambda_.Runtime.PYTHON_3_13]


@jsii.implements(ILocalBundling)
class _GuardLayerFiles:
    """Lays out `python/guardrail/recursion/` for the layer, without docker, naming the signal bus."""

    def __init__(self, signal_bus: str) -> None:
        self._signal_bus = signal_bus

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        package = Path(output_dir, "python", "guardrail")
        shutil.copytree(GUARD_PACKAGE, package / "recursion", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copyfile(PROJECT_ROOT / "guardrail" / "__init__.py", package / "__init__.py")
        (package / "recursion" / DEPLOYMENT_FILE.name).write_text(json.dumps({"signalBus": self._signal_bus}))
        return True


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
        self.signal_bus = self._signal_bus()
        self.guard_layer = lambda_.LayerVersion(
            self,
            "RecursionGuardLayer",
            layer_version_name=config.guard_layer_name,
            description="Runaway Guardrail recursion guard: from guardrail.recursion import recursion_guard",
            code=lambda_.Code.from_asset(
                str(GUARD_PACKAGE),
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("unused"),  # required, never pulled: local bundling wins
                    # jsii calls try_bundle(output_dir, options); the generated stub spells options as kwargs
                    local=cast(ILocalBundling, _GuardLayerFiles(config.signal_bus_name)),
                ),
            ),
            compatible_runtimes=LAYER_RUNTIMES,
            compatible_architectures=[ARCHITECTURE, lambda_.Architecture.X86_64],
            license="Apache-2.0",
        )
        output = CfnOutput(
            self,
            LAYER_OUTPUT,
            value=self.guard_layer.layer_version_arn,
            description="Attach to a function to use @recursion_guard",
        )
        output.override_logical_id(LAYER_OUTPUT)
        self.watch = GuardrailFunction(
            self,
            "Watch",
            config=config,
            state=state,
            role_name=RECURSION_WATCH,
            handler="guardrail.handlers.recursion_watch.handler",
            description="Runaway Guardrail: recursion guard refusals, AWS recursive-loop signals -> throttle",
            code=code,
        )
        self.scan = GuardrailFunction(
            self,
            "Scan",
            config=config,
            state=state,
            role_name=INVOCATION_SCAN,
            handler="guardrail.handlers.invocation_scan.handler",
            description="Runaway Guardrail: per-minute invocation scan -> throttle",
            code=code,
            timeout_seconds=300,
            memory_size=512,
        )
        self.scan.role.add_to_policy(
            iam.PolicyStatement(actions=list(CloudWatchMetrics.PERMISSIONS), resources=["*"])
        )
        Validations.of(self.scan).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "lambda:ListFunctions and cloudwatch:GetMetricData have no resource-level permissions;"
                    " they are the only actions on '*'."
                ),
            )
        )
        self._rules(dead_letters)

    def guard(self, function: lambda_.Function) -> None:
        """Let `function` run `@recursion_guard`: the layer, PutEvents on the signal bus, its own tags."""
        if function.role is None:
            raise ValueError(
                f"{function.node.path} has no role to grant the recursion guard's permissions to"
            )
        function.add_layers(self.guard_layer)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.signal_bus.event_bus_arn])
        )
        # a policy of its own: the function's default policy naming the function would be a cycle
        iam.Policy(
            function,
            "RecursionGuardTags",
            statements=[iam.PolicyStatement(actions=["lambda:ListTags"], resources=[function.function_arn])],
        ).attach_to_role(function.role)

    def _signal_bus(self) -> events.EventBus:
        bus = events.EventBus(
            self,
            "SignalBus",
            event_bus_name=self._signal_bus_name,
            description="Runaway Guardrail: recursion guard refusals (PutEvents from this account only)",
        )
        bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PutEventsFromThisAccountOnly",
                principals=[iam.AccountRootPrincipal()],
                actions=["events:PutEvents"],
                resources=[bus.event_bus_arn],
                conditions={"StringEquals": {"aws:PrincipalAccount": Stack.of(self).account}},
            )
        )
        output = CfnOutput(
            self,
            SIGNAL_BUS_OUTPUT,
            value=self._signal_bus_name,
            description="Where @recursion_guard publishes refusals (guarded functions need events:PutEvents)",
        )
        output.override_logical_id(SIGNAL_BUS_OUTPUT)
        return bus

    def _rules(self, dead_letters: DeadLetters) -> None:
        watch = dead_letters.target(self.watch.function, retry_attempts=4, max_event_age=Duration.hours(1))
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
        events.Rule(
            self,
            "HealthRecursiveLoops",
            description="AWS Health: Lambda stopped a recursive loop",
            event_pattern=events.EventPattern(
                source=[HEALTH_SOURCE],
                detail_type=[HEALTH_DETAIL_TYPE],
                detail={
                    "service": ["LAMBDA"],
                    "eventTypeCode": list(HEALTH_EVENT_CODES),
                },
            ),
            targets=[watch],
        )
        events.Rule(
            self,
            "DroppedRecursionAlarms",
            description=f"A CloudWatch alarm on {DROPPED_METRIC} went to ALARM",
            event_pattern=events.EventPattern(
                source=[ALARM_SOURCE],
                detail_type=[ALARM_DETAIL_TYPE],
                detail={
                    "state": {"value": ["ALARM"]},
                    "configuration": {
                        "metrics": {
                            "metricStat": {
                                "metric": {"namespace": [LAMBDA_NAMESPACE], "name": [DROPPED_METRIC]}
                            }
                        }
                    },
                },
            ),
            targets=[watch],
        )
        events.Rule(
            self,
            "EveryMinute",
            description="Runs the invocation scan",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[
                dead_letters.target(self.scan.function, retry_attempts=2, max_event_age=Duration.hours(1))
            ],
        )
