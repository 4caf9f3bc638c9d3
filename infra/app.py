"""Builds the guardrail's stacks into a CDK app, configured from the app's `guardrail` context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from guardrail.config import CONTEXT_KEY, GuardrailConfig

from .nag import add_checks
from .stacks import GuardrailServiceStack, GuardrailStateStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The context in cdk.json, for runs without the CDK CLI (which passes it itself)."""
    context: dict[str, Any] = json.loads(path.read_text())["context"]
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
