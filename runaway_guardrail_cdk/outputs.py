"""Stack outputs named by the contract (docs/architecture.md): what the CLI and scripts look up."""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct


def contract_output(scope: Construct, name: str, value: str, description: str) -> CfnOutput:
    """A stack output named `name` exactly, wherever the construct sits (callers read it by that name).

    One guardrail per stack, then: a second one's outputs would collide, and CDK refuses the stack.
    """
    output = CfnOutput(scope, name, value=value, description=description)
    output.override_logical_id(name)
    return output
