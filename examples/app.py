#!/usr/bin/env python3
"""A team's own CDK app that adds Runaway Guardrail to its service's stack.

Install the wheel built from the guardrail's repository with its `cdk` extra (docs/construct.md), then
`cdk synth`: cdk.json runs this file, and its `guardrail` key configures the guardrail.
"""

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm

from runaway_guardrail_cdk import GuardrailConfig, RunawayGuardrail, add_checks

app = cdk.App()
stack = cdk.Stack(app, "OrdersService", description="The orders service, guarded against runaways")
ssm.StringParameter(stack, "BatchSize", string_value="672")  # ... the team's own resources

config = GuardrailConfig.from_context(app.node.try_get_context("guardrail"))
RunawayGuardrail(stack, "Guardrail", config=config)

add_checks(app)  # optional: cdk-nag's AwsSolutions checks (the guardrail's findings are acknowledged)
app.synth()
