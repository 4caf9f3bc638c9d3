"""What every watched region holds for the recursion guard: the signal bus and the guard's layer.

The home region's `RecursionWatch` and each other watched region's stack build both from here, so the
bus's policy and the layer (its `deployment.json` names the bus by name) are the same everywhere.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.recursion.refusal import DEPLOYMENT_FILE

from .function import PROJECT_ROOT
from .outputs import contract_output
from .powertools import ARCHITECTURE

GUARD_PACKAGE = PROJECT_ROOT / "guardrail" / "recursion"
LAYER_OUTPUT = "RecursionGuardLayerArn"
SIGNAL_BUS_OUTPUT = "SignalBusName"
#: The oldest Python the guard runs on (the package's `requires-python`; Lambda deprecated 3.10 in 2026).
OLDEST_PYTHON = (3, 11)


def _python_version(runtime: lambda_.Runtime) -> tuple[int, ...]:
    return tuple(int(part) for part in runtime.name.removeprefix("python").split("."))


#: Every Python runtime of the installed aws-cdk-lib from `OLDEST_PYTHON` on: the guard is pure Python
#: and needs only boto3 from the runtime, so a newer aws-cdk-lib's runtimes are compatible as they come.
LAYER_RUNTIMES = [
    runtime
    for runtime in lambda_.Runtime.ALL
    if runtime.family == lambda_.RuntimeFamily.PYTHON and _python_version(runtime) >= OLDEST_PYTHON
]


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


def guard_layer(scope: Construct, config: GuardrailConfig) -> lambda_.LayerVersion:
    """The recursion guard's layer version (and its ARN as an output); in organization mode, shared.

    Member accounts of the organization may use it (`lambda:GetLayerVersion`): their functions publish
    to the bus of the same name in their own account, which the member stack creates.
    """
    layer = lambda_.LayerVersion(
        scope,
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
    organization = config.organization
    if organization.enabled and organization.organization_id:
        layer.add_permission(
            "OrganizationMembers", account_id="*", organization_id=organization.organization_id
        )
    contract_output(
        scope, LAYER_OUTPUT, layer.layer_version_arn, "Attach to a function to use @recursion_guard"
    )
    return layer


def signal_bus(scope: Construct, config: GuardrailConfig, *, central: bool = False) -> events.EventBus:
    """The `<prefix>-signals` bus, writable by principals of this account only (and its name as output).

    The `central` one (the home region's, in organization mode) also admits PutEvents from the
    organization's accounts (`aws:PrincipalOrgID`): their member stacks forward to it.
    """
    organization = config.organization
    admits_organization = central and organization.enabled and organization.organization_id is not None
    writers = "this account and the organization's" if admits_organization else "this account only"
    bus = events.EventBus(
        scope,
        "SignalBus",
        event_bus_name=config.signal_bus_name,
        description=f"Runaway Guardrail: recursion guard refusals (PutEvents from {writers})",
    )
    # The policy on the bus itself (its `Policy`), not an AWS::Events::EventBusPolicy beside it: cdk-nag's
    # rule for that resource reads its deprecated `principal`, a deprecation warning in every team's app.
    stack = Stack.of(scope)
    arn = stack.format_arn(service="events", resource="event-bus", resource_name=config.signal_bus_name)
    statements = [
        iam.PolicyStatement(
            sid="PutEventsFromThisAccountOnly",
            principals=[iam.AccountRootPrincipal()],
            actions=["events:PutEvents"],
            resources=[arn],
            conditions={"StringEquals": {"aws:PrincipalAccount": stack.account}},
        )
    ]
    if admits_organization:
        statements.append(
            iam.PolicyStatement(
                sid="PutEventsFromTheOrganizationOnly",
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[arn],
                conditions={"StringEquals": {"aws:PrincipalOrgID": organization.organization_id}},
            )
        )
    cfn_bus = bus.node.default_child
    assert isinstance(cfn_bus, events.CfnEventBus)  # noqa: S101 - always the L1 of an EventBus
    cfn_bus.policy = iam.PolicyDocument(statements=statements).to_json()
    contract_output(
        scope,
        SIGNAL_BUS_OUTPUT,
        config.signal_bus_name,
        "Where @recursion_guard publishes refusals (guarded functions need events:PutEvents)",
    )
    return bus
