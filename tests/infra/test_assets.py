"""What the synthesized app uploads: the functions' asset is runtime code; the guard's layer is the guard.

The assets are listed from cdk.out (the asset manifest and the directories it names), then imported
in a fresh interpreter with only the asset on the path ahead of the installed libraries, so a module
that the asset leaves out but the code needs fails here rather than in Lambda.
"""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra
ROOT = Path(__file__).resolve().parents[2]
#: In the package, but not runtime code: the operator's command, installed by pip.
NOT_RUNTIME = {"guardrail/cli.py", "guardrail/cli_accounts.py", "guardrail/cli_history.py"}
_PROBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
for name in sys.argv[2:]:
    importlib.import_module(name)
print(json.dumps({name: getattr(module, "__file__", None) for name, module in sys.modules.items()}))
"""


def asset_files(
    synthesized, resource_type: str, code_property: str, *, name_suffix: str = ""
) -> tuple[Path, list[str]]:
    """The one asset the service stack's `resource_type` resources use: its directory and files.

    `name_suffix` picks the resources whose `LayerName` ends with it (the stack has several layers).
    """
    template = synthesized.service_template.to_json()
    keys = {
        resource["Properties"][code_property]["S3Key"]
        for resource in template["Resources"].values()
        if resource["Type"] == resource_type
        and str(resource["Properties"].get("LayerName", "")).endswith(name_suffix)
    }
    assert len(keys) == 1, f"{resource_type} should share one asset: {keys}"
    manifest = json.loads((synthesized.outdir / f"{synthesized.service.artifact_id}.assets.json").read_text())
    source = manifest["files"][keys.pop().removesuffix(".zip")]["source"]
    assert source["packaging"] == "zip"
    directory = synthesized.outdir / source["path"]
    return directory, sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def modules(files: list[str], prefix: str = "") -> list[str]:
    """The dotted names of the Python modules among `files` (under `prefix`)."""
    names = []
    for file in (f for f in files if f.endswith(".py")):
        parts = file.removeprefix(prefix).removesuffix(".py").split("/")
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def loaded_from(path: Path, names: list[str]) -> dict[str, str | None]:
    """Import `names` in a fresh interpreter with `path` first on sys.path (and no .pyc written there)."""
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _PROBE, str(path), *names],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, str | None] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def _ours(loaded: dict[str, str | None]) -> dict[str, str | None]:
    tops = ("guardrail", "runaway_guardrail_cdk", "devtools", "tests", "app")
    return {name: file for name, file in loaded.items() if name.split(".")[0] in tops}


def test_the_function_asset_is_the_runtime_package_and_nothing_else(synthesized):
    _, files = asset_files(synthesized, "AWS::Lambda::Function", "Code")
    package = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("guardrail/**/*.py"))
    runtime = [f for f in package if f not in NOT_RUNTIME]

    assert files == runtime
    assert "guardrail/handlers/kill_switch.py" in files
    assert not NOT_RUNTIME & set(files)


def test_every_module_of_the_function_asset_imports_from_the_asset_alone(synthesized):
    directory, files = asset_files(synthesized, "AWS::Lambda::Function", "Code")

    loaded = _ours(loaded_from(directory, modules(files)))

    assert set(loaded) == set(modules(files))  # no tooling, infra, tests or cli pulled in
    assert all(str(file).startswith(str(directory)) for file in loaded.values())


def test_the_guard_layer_holds_the_guard_and_its_package_marker(synthesized):
    directory, files = asset_files(
        synthesized, "AWS::Lambda::LayerVersion", "Content", name_suffix="-recursion-guard"
    )
    guard = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("guardrail/recursion/**/*.py"))

    deployment = "python/guardrail/recursion/deployment.json"  # names the signal bus
    assert files == sorted(["python/guardrail/__init__.py", deployment, *(f"python/{f}" for f in guard)])

    layer = directory / "python"  # what Lambda puts on the path: /opt/python
    loaded = _ours(loaded_from(layer, modules(files, prefix="python/")))
    assert set(loaded) == set(modules(files, prefix="python/"))
    assert all(str(file).startswith(str(layer)) for file in loaded.values())


def watched(path: str) -> bool:
    """Whether `cdk watch` redeploys when `path` changes (these globs mean the same in fnmatch)."""
    watch = json.loads((ROOT / "cdk.json").read_text())["watch"]
    included = any(fnmatch(path, pattern) for pattern in watch["include"])
    return included and not any(fnmatch(path, pattern) for pattern in watch["exclude"])


def test_cdk_watch_redeploys_for_what_deploys_and_not_for_the_tooling(synthesized):
    _, files = asset_files(synthesized, "AWS::Lambda::Function", "Code")
    infra = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("infra/**/*.py")]

    assert [f for f in ["app.py", *files, *infra] if not watched(f)] == []
    for path in (
        "devtools/demo.py",
        "devtools/scenarios/incident.json",
        "tests/conftest.py",
        "docs/bench.md",
        "Makefile",
        "guardrail/cli.py",
        "guardrail/__pycache__/domain.cpython-313.pyc",
        "infra/__pycache__/stacks.cpython-313.pyc",
    ):
        assert not watched(path), path
