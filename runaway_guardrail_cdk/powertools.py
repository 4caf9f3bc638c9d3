"""The Powertools layer: the release requirements.txt pins (the one the tests run), bundled for arm64.

AWS's managed Powertools layer is published per region by account, another account in the China
regions (and only some of them), and its layer version number is not the Powertools release. So the
stack builds its own layer at synthesis, without docker: pip installs the pinned release and its
dependencies as manylinux aarch64 / CPython 3.13 wheels (`--only-binary=:all:`, nothing compiled),
each dependency at the version installed in the environment that synthesizes (the one the tests
ran in). The same layer then deploys in every partition. The result is cached under the app's `build/`
by the versions it was built from, so pip reaches the package index once per change of versions.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import cast

from aws_cdk import Fn, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: This repository's pins; the construct library installed from a wheel has none beside it.
REQUIREMENTS = PROJECT_ROOT / "requirements.txt"
#: In the app's directory (where the CDK CLI runs the app), never in the installed package.
CACHE = Path("build", "powertools-layer")
DISTRIBUTION = "aws-lambda-powertools"
#: The guardrail functions' runtime and architecture: the layer is built for these.
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
#: The same, as pip names them.
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
PLATFORM = "manylinux2014_aarch64"
LAYER_ID = "RunawayGuardrailPowertools"


def pinned_requirement(path: Path = REQUIREMENTS) -> str:
    """The `aws-lambda-powertools[...]==X.Y.Z` line of requirements.txt.

    Without that file (the construct library installed from its wheel): the release installed with it.
    """
    if not path.exists():
        return f"{DISTRIBUTION}[parser]=={metadata.version(DISTRIBUTION)}"
    for line in path.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec.startswith(DISTRIBUTION) and "==" in spec:
            return spec
    raise ConfigError(f"{path.name} pins no {DISTRIBUTION}==<version>: the Powertools layer needs one")


def installed_versions() -> dict[str, str]:
    """`name: version` of every distribution in this environment (the first one on sys.path wins)."""
    versions: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(_normal(name), dist.version)
    return versions


def build_layer_files(requirement: str, versions: dict[str, str], cache: Path = CACHE) -> Path:
    """Build (or reuse) the layer's directory (`python/...`) for `requirement`, pinned to `versions`."""
    constraints = "".join(f"{name}=={version}\n" for name, version in sorted(versions.items()))
    key = hashlib.sha256(f"{requirement}\n{PLATFORM}\n{PYTHON_VERSION}\n{constraints}".encode()).hexdigest()
    cache = cache.resolve()
    target = cache / key[:16]
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key[:16]}.", dir=cache))
    try:
        (work / "constraints.txt").write_text(constraints)
        _pip_install(requirement, work / "constraints.txt", work / "layer" / "python")
        _drop_build_noise(work / "layer" / "python")
        try:
            os.rename(work / "layer", target)
        except OSError:  # another process built the same layer first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def powertools_layer(scope: Construct, config: GuardrailConfig) -> lambda_.ILayerVersion:
    """The Powertools layer of `scope`'s stack: one per stack, shared by every guardrail function."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(LAYER_ID)
    if existing is not None:
        return cast(lambda_.ILayerVersion, existing)  # only this function adds it
    if config.powertools_layer_arn is not None:
        return lambda_.LayerVersion.from_layer_version_arn(
            stack, LAYER_ID, Fn.sub(config.powertools_layer_arn)
        )
    requirement = pinned_requirement()
    files = build_layer_files(requirement, installed_versions())
    return lambda_.LayerVersion(
        stack,
        LAYER_ID,
        layer_version_name=f"{config.name_prefix}-powertools",
        description=f"{requirement} for python{PYTHON_VERSION} arm64, as tested (bundled by the stack)",
        code=lambda_.Code.from_asset(str(files)),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        license="MIT-0",
    )


def _pip_install(requirement: str, constraints: Path, target: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--constraint",
        str(constraints),
        requirement,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    if result.returncode != 0:
        raise ConfigError(
            f"could not bundle {requirement} for {PLATFORM} python{PYTHON_VERSION} (pip exit "
            f"{result.returncode}): {result.stderr.strip()[-2000:]}\nSet powertoolsLayerArn in cdk.json to a "
            "layer of that release to deploy without bundling."
        )


def _drop_build_noise(site: Path) -> None:
    """Scripts carry this machine's interpreter path and RECORD their hashes: neither is needed."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for record in site.glob("*.dist-info/RECORD"):
        record.unlink()


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
