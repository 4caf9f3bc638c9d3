"""Builds the guardrail's stacks into a CDK app, configured from the app's `guardrail` context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from guardrail.config import CONTEXT_KEY, GuardrailConfig
from guardrail.errors import ConfigError

from .forwarding import forwards_to_home
from .nag import add_checks
from .organization import GuardrailOrganizationStack
from .regional import GuardrailRegionStack
from .stacks import GuardrailServiceStack, GuardrailStateStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The context in cdk.json, for runs without the CDK CLI (which passes it itself)."""
    context: dict[str, Any] = json.loads(path.read_text())["context"]
    return context


@dataclass(frozen=True)
class GuardrailStacks:
    """Every stack of the app: the home region's, one per other watched region, the organization's."""

    state: GuardrailStateStack
    service: GuardrailServiceStack
    #: One stack per watched region besides home, by region.
    regions: dict[str, GuardrailRegionStack] = field(default_factory=dict)
    #: Organization mode's StackSet of the member stack (None: one account).
    organization: GuardrailOrganizationStack | None = None

    @property
    def all(self) -> list[cdk.Stack]:
        """The stacks in deployment order (what `cdk deploy --all` deploys)."""
        extra: list[cdk.Stack] = [*self.regions.values()]
        return [self.state, self.service, *extra, *([self.organization] if self.organization else [])]


def build_app(
    app: cdk.App, *, env: cdk.Environment | None = None
) -> tuple[GuardrailStateStack, GuardrailServiceStack]:
    """Add the guardrail's stacks to `app`, configured from its context; return the home region's two.

    `env` (the CLI's account and region) is used only when `regions` or `organization` asks for more than
    one region or account: the home stacks are environment-agnostic otherwise.
    """
    stacks = build_stacks(app, env=env)
    return stacks.state, stacks.service


def build_stacks(app: cdk.App, *, env: cdk.Environment | None = None) -> GuardrailStacks:
    """Add every stack of the guardrail to `app` (see `build_app`)."""
    config = GuardrailConfig.from_context(app.node.try_get_context(CONTEXT_KEY))
    stack_prefix = _camel(config.name_prefix)
    home = _home(env) if forwards_to_home(config) else None
    state = GuardrailStateStack(
        app,
        f"{stack_prefix}State",
        config=config,
        description="Runaway Guardrail: ledger and alert topic (stateful)",
        env=home,
    )
    service = GuardrailServiceStack(
        app,
        f"{stack_prefix}Service",
        config=config,
        state=state.state,
        description="Runaway Guardrail: detectors, kill switch and rules",
        env=home,
    )
    stacks = GuardrailStacks(state, service)
    if home is not None and home.region is not None:
        for region in config.watched_regions(home.region)[1:]:
            regional = GuardrailRegionStack(
                app,
                f"{stack_prefix}{_camel(region)}",
                config=config,
                home_region=home.region,
                description=f"Runaway Guardrail: {region} watched from {home.region} (signals, guard layer)",
                env=cdk.Environment(account=home.account, region=region),
            )
            regional.add_stack_dependency(service, "its rules forward to the home region's signal bus")
            stacks.regions[region] = regional
    if config.organization.enabled:
        organization = GuardrailOrganizationStack(
            app,
            f"{stack_prefix}Organization",
            config=config,
            description="Runaway Guardrail: the member stack in every account of the organization's OUs",
            env=home,
        )
        organization.add_stack_dependency(service, "members forward to the central signal bus")
        stacks = GuardrailStacks(state, service, stacks.regions, organization)
    add_checks(app)
    return stacks


def _home(env: cdk.Environment | None) -> cdk.Environment:
    region = env.region if env else None
    if region is None or cdk.Token.is_unresolved(region):
        raise ConfigError(
            "guardrail.regions and guardrail.organization need the home region at synthesis: run the CDK "
            "CLI with a region (it sets CDK_DEFAULT_REGION), or pass build_app(app, env=cdk.Environment("
            "region=...))"
        )
    assert env is not None  # noqa: S101 - a region implies an env
    return cdk.Environment(account=env.account, region=region)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
