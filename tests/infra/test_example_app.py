"""The construct library as a user gets it: the built wheel in a clean virtualenv synthesizes examples/.

One test (it builds a wheel, a virtualenv and installs aws-cdk-lib into it, about two minutes): the
wheel is built from this tree, installed with its `cdk` extra into a virtualenv without the system's
site-packages, at the versions requirements.txt pins (from pip's cache or the package index), and
`examples/app.py`, a team's own stack that adds the guardrail, is synthesized by that virtualenv's
Python with examples/cdk.json's context (as the CDK CLI passes it), cdk-nag included.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _run(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, timeout=900, **kwargs
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


def _constraints(path: Path) -> Path:
    """requirements.txt's pins as pip constraints (which take no extras)."""
    lines = [re.sub(r"\[[^\]]*\]", "", line) for line in (ROOT / "requirements.txt").read_text().splitlines()]
    path.write_text("\n".join(line for line in lines if line and not line.startswith("#")) + "\n")
    return path


def test_the_wheel_in_a_clean_virtualenv_synthesizes_the_example_app_nag_clean(tmp_path):
    _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--quiet", "-w", tmp_path / "dist")
    [wheel] = (tmp_path / "dist").glob("runaway_guardrail-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)  # without --system-site-packages
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    python = venv / "bin" / "python"
    _run(
        python, "-m", "pip", "install", "--quiet", f"{wheel}[cdk]", "-c", _constraints(tmp_path / "pins.txt")
    )

    names = ("infra", "runaway_guardrail_cdk")
    probe = (
        f"import importlib.util as u, json; print(json.dumps({{n: bool(u.find_spec(n)) for n in {names}}}))"
    )
    assert json.loads(_run(python, "-I", "-c", probe, cwd=tmp_path).stdout) == {
        "infra": False,  # no top-level `infra` to collide with a user's
        "runaway_guardrail_cdk": True,
    }

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_", "PYTHON"))}
    env |= {
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",  # the supported Node, for jsii
        "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps(json.loads((EXAMPLES / "cdk.json").read_text())["context"]),
    }
    _run(python, "app.py", cwd=EXAMPLES, env=env)

    out = tmp_path / "cdk.out"
    template = json.loads((out / "OrdersService.template.json").read_text())["Resources"]
    by_type: dict[str, list[dict]] = {}
    for resource in template.values():
        by_type.setdefault(resource["Type"], []).append(resource["Properties"])
    handlers = sorted(f["Handler"] for f in by_type["AWS::Lambda::Function"])
    assert handlers == [
        "guardrail.handlers.athena_watch.handler",
        "guardrail.handlers.invocation_scan.handler",
        "guardrail.handlers.kill_switch.handler",
        "guardrail.handlers.recursion_watch.handler",
    ]
    assert all(f["FunctionName"].startswith("orders-guardrail-") for f in by_type["AWS::Lambda::Function"])
    assert len(by_type["AWS::Events::Rule"]) >= 4
    layers = {layer["LayerName"] for layer in by_type["AWS::Lambda::LayerVersion"]}
    assert layers == {"orders-guardrail-recursion-guard", "orders-guardrail-powertools"}
    assert len(by_type["AWS::Chatbot::SlackChannelConfiguration"]) == 1
    assert len(by_type["AWS::SSM::Parameter"]) == 1  # the team's own resource, beside the guardrail

    [nag] = json.loads((out / "validation-report.json").read_text())["pluginReports"]
    assert (nag["pluginName"], nag["conclusion"], nag["violations"]) == ("AwsSolutions", "success", [])

    # The functions' code is the wheel's runtime package (the operator's command is its own package).
    assets = json.loads((out / "OrdersService.assets.json").read_text())["files"]
    code_keys = {f["Code"]["S3Key"].removesuffix(".zip") for f in by_type["AWS::Lambda::Function"]}
    [code] = [out / assets[key]["source"]["path"] for key in code_keys]
    shipped = sorted(p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file())
    runtime = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("guardrail/**/*.py"))
    assert shipped == runtime
