"""The checkers teams run on templates (Checkov, cfn-lint's serverless rules): findings explained in place.

A finding the guardrail does not fix is suppressed on its resource in the template's `Metadata`, with
the reason written beside it, as cdk-nag's acknowledgements are: Checkov reads
`checkov.skip[{id, comment}]`; cfn-lint reads `cfn-lint.config.ignore_checks`, and the reasons sit in
`cfn-lint.reasons` (cfn-lint has no field of its own for them).
"""

from __future__ import annotations

from typing import Any, Literal

import jsii
from aws_cdk import CfnResource, IAspect, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

Checker = Literal["checkov", "cfn-lint"]


def explain(construct: IConstruct, checker: Checker, rule: str, reason: str) -> None:
    """Suppress `checker`'s `rule` on `construct`'s CloudFormation resource, with the reason why."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to explain {rule} on")
    metadata: dict[str, Any] = resource.get_metadata(checker) or {}
    if checker == "checkov":
        skips = [s for s in metadata.get("skip", []) if s["id"] != rule]
        metadata = {"skip": [*skips, {"id": rule, "comment": reason}]}
    else:
        ignored = [r for r in metadata.get("config", {}).get("ignore_checks", []) if r != rule]
        metadata = {
            "config": {"ignore_checks": [*ignored, rule]},
            "reasons": {**metadata.get("reasons", {}), rule: reason},
        }
    resource.add_metadata(checker, metadata)


@jsii.implements(IAspect)
class AsyncInvocationsCaught:
    """ES1007 on the EventBridge permissions of functions whose failures an EventInvokeConfig catches.

    The rule looks for an EventInvokeConfig whose `FunctionName` is written exactly as the permission's
    (`Fn::GetAtt Arn`); CDK writes the config's as a `Ref` (the name), so it never finds it.
    """

    def __init__(self, caught: list[lambda_.Function]) -> None:
        #: The functions given an on-failure destination (filled as they are; read at synthesis).
        self._caught = caught

    def visit(self, node: IConstruct) -> None:
        """Explain ES1007 on an asynchronous (EventBridge) permission to invoke a caught function."""
        if not isinstance(node, lambda_.CfnPermission) or node.principal != "events.amazonaws.com":
            return
        stack = Stack.of(node)
        invoked = stack.resolve(node.function_name)
        if any(invoked == stack.resolve(function.function_arn) for function in self._caught):
            explain(
                node,
                "cfn-lint",
                "ES1007",
                "The function's failed asynchronous invocations go to an on-failure destination (its "
                "EventInvokeConfig, an SQS dead-letter queue); the rule compares FunctionName as written "
                "(GetAtt Arn here, Ref there) and does not see it.",
            )
