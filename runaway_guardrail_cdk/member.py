"""The member stack: what the StackSet puts in every member account and watched region.

A plain CloudFormation template (no assets, no bootstrap): the forwarding rules to the central bus
(central account, home region and bus name are the StackSet's parameters), the account's own
`<prefix>-signals` bus for the recursion guard, and the enforcement role (IAM is global: only the
home region's instance creates it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import Aws, BootstraplessSynthesizer, CfnCondition, CfnParameter, Fn, Stack
from constructs import Construct

from guardrail.config import GuardrailConfig

from .forwarding import Forwarding
from .member_role import EnforcementRole
from .nag import add_checks
from .signal_bus import signal_bus

#: The StackSet's parameters, by name: what CloudFormation checks each value against.
PARAMETERS = {
    "CentralAccount": (r"\d{12}", "The account of the central guardrail (its home stacks)"),
    "HomeRegion": (r"[a-z]{2}(-[a-z]+)+-\d", "The region of the central guardrail's functions and bus"),
    "BusName": (r"[A-Za-z0-9._-]{1,256}", "The central signal bus the member's signals are forwarded to"),
}
#: TemplateBody's limit in a StackSet (a larger template would need an S3 TemplateURL).
TEMPLATE_BODY_LIMIT = 51_200


class GuardrailMemberStack(Stack):
    """One member account in one watched region, as the StackSet deploys it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        regions: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, synthesizer=BootstraplessSynthesizer(), **kwargs)
        values = {
            name: CfnParameter(self, name, type="String", allowed_pattern=pattern, description=description)
            for name, (pattern, description) in PARAMETERS.items()
        }
        values["BusName"].default = config.signal_bus_name
        central_bus = Fn.sub(
            "arn:${AWS::Partition}:events:${HomeRegion}:${CentralAccount}:event-bus/${BusName}"
        )
        self.signal_bus = signal_bus(self, config)
        self.forwarding = Forwarding(
            self,
            "Forwarding",
            home_bus_arn=central_bus,
            signal_bus=self.signal_bus,
            signal_bus_name=config.signal_bus_name,
        )
        in_home_region = CfnCondition(
            self,
            "InHomeRegion",
            expression=Fn.condition_equals(Aws.REGION, values["HomeRegion"].value_as_string),
        )
        self.enforcement = EnforcementRole(
            self,
            "Enforcement",
            config=config,
            regions=regions,
            central_account="${CentralAccount}",
            condition=in_home_region,
        )


def member_template(
    config: GuardrailConfig, regions: Sequence[str], *, context: dict[str, Any], outdir: str | None = None
) -> tuple[GuardrailMemberStack, dict[str, Any]]:
    """The member stack, synthesized on its own (cdk-nag checked), and its template."""
    app = cdk.App(context=context, outdir=outdir)
    stack = GuardrailMemberStack(
        app,
        f"{''.join(part.capitalize() for part in config.name_prefix.split('-'))}Member",
        config=config,
        regions=regions,
        description="Runaway Guardrail member: forwards this account's signals; the enforcement role",
    )
    add_checks(app)
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    body = json.dumps(template, separators=(",", ":"))
    if len(body) > TEMPLATE_BODY_LIMIT:
        raise ValueError(f"the member template is {len(body)} bytes, over a StackSet's {TEMPLATE_BODY_LIMIT}")
    return stack, template


def member_outdir(parent: str) -> str:
    """Where the member stack's own cloud assembly goes: beside the app's (not one of its stacks)."""
    return os.path.join(parent, "member-stack-set")
