"""cdk-nag AwsSolutions checks; acknowledgements sit beside the resources they justify."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks


def add_checks(app: App) -> None:
    """Run the AwsSolutions rule pack on every stack of the app at synthesis."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
