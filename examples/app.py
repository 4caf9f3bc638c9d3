#!/usr/bin/env python3
"""A team's own CDK app that adds Runaway Guardrail to its service's stack.

Install the wheel built from the guardrail's repository with its `cdk` extra (docs/construct.md), then
`cdk synth`: cdk.json runs this file, and its `guardrail` key configures the guardrail.
"""

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from runaway_guardrail_cdk import GuardrailConfig, RunawayGuardrail, add_checks

app = cdk.App()
stack = cdk.Stack(app, "OrdersService", description="The orders service, guarded against runaways")
sqs.Queue(stack, "Orders")  # ... the team's own resources, under the team's own rules
batch = lambda_.Function(
    stack,
    "NightlyBatch",
    runtime=lambda_.Runtime.PYTHON_3_14,
    handler="index.handler",
    code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
)

config = GuardrailConfig.from_context(app.node.try_get_context("guardrail"))
guardrail = RunawayGuardrail(stack, "Guardrail", config=config)
guardrail.guard(batch)  # the batch may use `@recursion_guard` (its layer and two permissions)

add_checks(guardrail)  # optional: cdk-nag's AwsSolutions checks on the guardrail's resources only
app.synth()
