"""cdk-nag AwsSolutions checks; acknowledgements sit beside the resources they justify.

`add_checks(guardrail)` checks the guardrail's own resources only, so a team's resources beside it in
the same app are left to the team's own checks; `add_checks(app)` checks every stack of the app.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


class _ChecksWithin(AwsSolutionsChecks):
    """The AwsSolutions rule pack over one construct's resources, not over the whole app."""

    def __init__(self, scope: IConstruct) -> None:
        super().__init__()
        self._scope = scope

    def validate(self, context: Any) -> Any:
        """Called by CDK's validation at synthesis: check the resources under `scope` only."""
        return self.validate_scope(self._scope)


def add_checks(scope: IConstruct) -> None:
    """Run the AwsSolutions rule pack at synthesis on `scope`'s resources (every stack, given an app)."""
    if isinstance(scope, Stage):
        Validations.of(scope).add_plugins(AwsSolutionsChecks(scope))
        return
    stage = Stage.of(scope)
    if stage is None:
        raise ValueError(f"{scope.node.path} is not in an app: add it to a stack of an App first")
    Validations.of(stage).add_plugins(_ChecksWithin(scope))
