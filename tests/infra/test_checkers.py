"""The checkers teams run on the synthesized templates: Checkov and AWS's serverless rules for cfn-lint.

Every template of the default app and of the fleet app (watched regions, the organization's StackSet
and its member template): no finding, and every suppression in the templates' metadata carries its
reason (runaway_guardrail_cdk/checkers.py). Checkov pins a boto3 of its own, so it runs from its own
virtualenv (`make install`: .venv/tools/checkov, requirements-checkov.txt).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from guardrail.config import GuardrailConfig
from runaway_guardrail_cdk import RunawayGuardrail
from tests.infra.conftest import cfn_lint

pytestmark = pytest.mark.infra

CHECKOV = Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"
ROOT = Path(__file__).resolve().parents[2]


def _templates(synthesized, fleet) -> list[Path]:
    templates = [*synthesized.outdir.glob("*.template.json"), *fleet.outdir.rglob("*.template.json")]
    assert {p.name for p in templates} >= {
        "RunawayGuardrailState.template.json",
        "RunawayGuardrailService.template.json",
        "RunawayGuardrailUsWest2.template.json",
        "RunawayGuardrailOrganization.template.json",
        "RunawayGuardrailMember.template.json",
    }
    return templates


def _metadata(templates: list[Path], checker: str) -> list[dict]:
    return [
        resource["Metadata"][checker]
        for template in templates
        for resource in json.loads(template.read_text())["Resources"].values()
        if checker in resource.get("Metadata", {})
    ]


def test_checkov_finds_nothing_unexplained(synthesized, fleet, tmp_path):
    assert CHECKOV.exists(), f"{CHECKOV} is missing: run `make install`"
    expected = (ROOT / "requirements-checkov.txt").read_text().split("==")[1].strip()
    version = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == expected
    templates = _templates(synthesized, fleet)
    for index, template in enumerate(templates):  # one directory: Checkov reads every file in it
        (tmp_path / f"{index}-{template.name}").write_text(template.read_text())
    result = subprocess.run(
        [str(CHECKOV), "--framework", "cloudformation", "-d", str(tmp_path), "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], result.stdout[-3000:]
    assert result.returncode == 0
    assert report["summary"]["passed"] > 200
    skips = [skip for metadata in _metadata(templates, "checkov") for skip in metadata["skip"]]
    assert report["summary"]["skipped"] == len(skips) > 0
    assert all(len(skip["comment"]) > 40 for skip in skips), skips


def test_the_serverless_rules_find_nothing_unexplained(synthesized, fleet):
    templates = _templates(synthesized, fleet)
    rules, output = cfn_lint([str(p) for p in templates], "cfn_lint_serverless.rules")
    assert rules <= {"W3005"}, output  # CDK's role dependency, as in the plain cfn-lint check
    for metadata in _metadata(templates, "cfn-lint"):
        ignored = metadata["config"]["ignore_checks"]
        assert set(ignored) == set(metadata["reasons"]), metadata
        assert all(len(reason) > 40 for reason in metadata["reasons"].values())
    ignored = {rule for m in _metadata(templates, "cfn-lint") for rule in m["config"]["ignore_checks"]}
    assert ignored == {"ES1007", "ES6000"}


def test_the_guardrails_functions_are_traced_unless_told_not_to(synthesized):
    functions = synthesized.service_template.find_resources("AWS::Lambda::Function").values()
    assert {f["Properties"]["TracingConfig"]["Mode"] for f in functions} == {"Active"}

    stack = cdk.Stack(cdk.App(), "Untraced")
    RunawayGuardrail(stack, "Guardrail", config=GuardrailConfig.from_context({"tracing": False}))
    untraced = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert len(untraced) == 4
    assert all("TracingConfig" not in f["Properties"] for f in untraced)
