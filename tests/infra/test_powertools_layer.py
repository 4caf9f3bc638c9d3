"""The Powertools layer the stack deploys is the release the tests run, built for the functions."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from guardrail.config import GuardrailConfig
from guardrail.errors import ConfigError
from runaway_guardrail_cdk.powertools import LAYER_ID, build_layer_files, pinned_requirement

pytestmark = pytest.mark.infra


def _layer_files(synthesized) -> Path:
    layers = synthesized.service_template.find_resources("AWS::Lambda::LayerVersion")
    [layer] = [layer for logical_id, layer in layers.items() if logical_id.startswith(LAYER_ID)]
    key = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    return synthesized.outdir / f"asset.{key}" / "python"


def _bundled_versions(site: Path) -> dict[str, str]:
    versions = {}
    for info in site.glob("*.dist-info"):
        fields = dict(
            line.split(": ", 1) for line in (info / "METADATA").read_text().splitlines() if ": " in line
        )
        versions[fields["Name"].lower().replace("_", "-")] = fields["Version"]
    return versions


def test_layer_holds_the_pinned_powertools_release_that_the_tests_run(synthesized):
    requirement = pinned_requirement()
    pinned = requirement.split("==")[1]
    bundled = _bundled_versions(_layer_files(synthesized))
    assert bundled["aws-lambda-powertools"] == pinned == metadata.version("aws-lambda-powertools")
    assert {"pydantic", "pydantic-core"} <= set(bundled)  # the Parser extra the handlers use


def test_every_bundled_dependency_is_the_version_installed_here(synthesized):
    bundled = _bundled_versions(_layer_files(synthesized))
    assert {name: metadata.version(name) for name in bundled} == bundled


def test_compiled_parts_are_built_for_arm64_python_3_13(synthesized):
    site = _layer_files(synthesized)
    extensions = [p.name for p in site.rglob("*.so")]
    assert extensions
    assert all("cpython-313-aarch64-linux-gnu" in name for name in extensions), extensions
    assert not (site / "bin").exists()
    assert not list(site.rglob("__pycache__"))


def test_every_function_uses_the_bundled_layer(synthesized):
    layers = synthesized.service_template.find_resources("AWS::Lambda::LayerVersion")
    [logical_id] = [i for i in layers if i.startswith(LAYER_ID)]
    for function in synthesized.service_template.find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Layers"] == [{"Ref": logical_id}]


def test_a_layer_arn_in_the_config_replaces_the_bundle():
    config = GuardrailConfig.from_context({"powertoolsLayerArn": "arn:aws:lambda:us-east-1:1:layer:p:1"})
    assert config.powertools_layer_arn == "arn:aws:lambda:us-east-1:1:layer:p:1"
    assert GuardrailConfig.from_context({"powertoolsLayerArn": None}).powertools_layer_arn is None
    with pytest.raises(ConfigError, match="powertoolsLayerArn"):
        GuardrailConfig.from_context({"powertoolsLayerArn": "not-an-arn"})


def test_a_requirements_file_without_the_pin_is_rejected(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.0\naws-lambda-powertools>=3  # not a pin\n")
    with pytest.raises(ConfigError, match="pins no aws-lambda-powertools"):
        pinned_requirement(requirements)


def test_without_requirements_txt_the_installed_release_is_bundled(tmp_path):
    """The construct library installed from its wheel has no requirements.txt beside it."""
    pinned = pinned_requirement(tmp_path / "requirements.txt")
    assert pinned == f"aws-lambda-powertools[parser]=={metadata.version('aws-lambda-powertools')}"


def test_a_built_layer_is_reused_without_pip(tmp_path, monkeypatch):
    versions = {"aws-lambda-powertools": "3.37.0"}
    calls = []

    def pip_install(requirement, constraints, target):
        calls.append(requirement)
        target.mkdir(parents=True)

    monkeypatch.setattr("runaway_guardrail_cdk.powertools._pip_install", pip_install)
    first = build_layer_files("aws-lambda-powertools==3.37.0", versions, cache=tmp_path)
    second = build_layer_files("aws-lambda-powertools==3.37.0", versions, cache=tmp_path)
    assert first == second
    assert len(calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no work directory left behind
