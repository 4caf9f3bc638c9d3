#!/usr/bin/env python3
"""CDK app: reads the `guardrail` context from cdk.json and builds the two stacks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.config import CONTEXT_KEY, GuardrailConfig
from infra.nag import add_checks
from infra.stacks import GuardrailServiceStack, GuardrailStateStack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context in cdk.json, for runs without the CDK CLI (which passes it itself)."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def build_app(app: cdk.App) -> tuple[GuardrailStateStack, GuardrailServiceStack]:
    """Add the guardrail's stacks to `app`, configured from its context."""
    config = GuardrailConfig.from_context(app.node.try_get_context(CONTEXT_KEY))
    stack_prefix = "".join(part.capitalize() for part in config.name_prefix.split("-"))
    state = GuardrailStateStack(
        app,
        f"{stack_prefix}State",
        config=config,
        description="Runaway Guardrail: ledger and alert topic (stateful)",
    )
    service = GuardrailServiceStack(
        app,
        f"{stack_prefix}Service",
        config=config,
        state=state.state,
        description="Runaway Guardrail: detectors, kill switch and rules",
    )
    add_checks(app)
    return state, service


if __name__ == "__main__":
    cli_context = "CDK_CONTEXT_JSON" in os.environ or "CONTEXT_OVERFLOW_LOCATION_ENV" in os.environ
    cdk_app = cdk.App(context=None if cli_context else cdk_json_context())
    build_app(cdk_app)
    cdk_app.synth()
