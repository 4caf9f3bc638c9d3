"""One synthesized app per test session (jsii start-up costs seconds)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from runaway_guardrail_cdk.app import GuardrailStacks, build_app, build_stacks, cdk_json_context
from runaway_guardrail_cdk.stacks import GuardrailServiceStack, GuardrailStateStack


@dataclass
class Synthesized:
    """The app synthesized from cdk.json's context, with its stacks and templates."""

    app: cdk.App
    state: GuardrailStateStack
    service: GuardrailServiceStack
    state_template: Template
    service_template: Template
    outdir: Path


def cfn_lint(templates: Sequence[str], *rules: str) -> tuple[set[str], str]:
    """Run cfn-lint (with the rule packages `rules`, if any) on `templates`: the rule ids it reports, and
    its output (for a failure's message)."""
    appended = [option for module in rules for option in ("--append-rules", module)]
    result = subprocess.run(  # cfnlint has no __main__: `python -m cfnlint` never linted anything
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--format",
            "parseable",
            *appended,
            "--",
            *templates,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in {0, 4}, result.stderr  # 4: warnings only
    # parseable: path:line:col:end-line:end-col:rule:message
    return {line.split(":")[5] for line in result.stdout.splitlines() if line.strip()}, result.stdout


def synthesize(outdir: Path, context: dict[str, object] | None = None) -> Synthesized:
    """Synthesize the app exactly as `cdk synth` would, into `outdir`."""
    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), **(context or {})})
    state, service = build_app(app)
    app.synth()
    return Synthesized(
        app=app,
        state=state,
        service=service,
        state_template=Template.from_stack(state),
        service_template=Template.from_stack(service),
        outdir=outdir,
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The default app (cdk.json as committed), synthesized once per session."""
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    yield synthesize(tmp_path_factory.mktemp("cdk.out"))


#: The fleet app's configuration: two watched regions besides home, and an organization.
HOME = cdk.Environment(account="111111111111", region="ap-northeast-1")
FLEET = {
    "regions": ["us-west-2", "eu-west-1"],
    "organization": {
        "enabled": True,
        "organizationId": "o-abcdefghij",
        "organizationalUnitIds": ["ou-ab12-cdefgh34", "ou-ab12-ijklmn56"],
    },
}


@dataclass
class Fleet:
    """The app configured with `FLEET`, from home region ap-northeast-1, synthesized."""

    stacks: GuardrailStacks
    outdir: Path

    def template(self, stack: cdk.Stack) -> Template:
        """The stack's synthesized template."""
        return Template.from_stack(stack)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The fleet app (regions and organization), synthesized once per session."""
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    outdir = tmp_path_factory.mktemp("cdk.out.fleet")
    context = cdk_json_context()
    app = cdk.App(outdir=str(outdir), context={**context, "guardrail": {**context["guardrail"], **FLEET}})
    stacks = build_stacks(app, env=HOME)
    app.synth()
    yield Fleet(stacks=stacks, outdir=outdir)
