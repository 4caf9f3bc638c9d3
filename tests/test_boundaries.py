"""The layout's boundaries, read from every import statement (AST; nothing is imported).

- Nothing in the product (`guardrail/`, `guardrail_cli/`, `runaway_guardrail_cdk/`) imports the
  development tooling, `app.py` or the tests; nothing deployed (`guardrail/`, `runaway_guardrail_cdk/`)
  imports the operator's command.
- The core (detectors, enforcement, domain) imports no adapter and no AWS SDK: AWS I/O lives in
  `guardrail/adapters/`, behind the ports.
- No test module imports another test module: what tests share lives in a conftest or a helper module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports import imported_names, within

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = sorted(
    [
        *ROOT.glob("guardrail/**/*.py"),
        *ROOT.glob("guardrail_cli/*.py"),
        *ROOT.glob("runaway_guardrail_cdk/**/*.py"),
    ]
)
#: The deployed runtime and the CDK code never need the operator's command (it is not in the asset).
DEPLOYED = [path for path in PRODUCT if not path.is_relative_to(ROOT / "guardrail_cli")]
NOT_PRODUCT = ("devtools", "app", "tests")
CORE = sorted(
    [
        *ROOT.glob("guardrail/detectors/**/*.py"),
        *ROOT.glob("guardrail/enforcement/**/*.py"),
        ROOT / "guardrail" / "domain.py",
    ]
)
NOT_CORE = ("guardrail.adapters", "boto3", "botocore")
TESTS = sorted(ROOT.glob("tests/**/*.py"))


def _crossings(path: Path, forbidden: tuple[str, ...]) -> set[str]:
    names = imported_names(path, ROOT)
    return {prefix for prefix in forbidden if any(within(name, prefix) for name in names)}


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_scan_sees_the_whole_product():
    assert len(PRODUCT) > 50
    assert ROOT / "guardrail" / "handlers" / "composition.py" in PRODUCT
    assert ROOT / "runaway_guardrail_cdk" / "function.py" in PRODUCT


@pytest.mark.parametrize("path", PRODUCT, ids=_id)
def test_the_product_imports_no_tooling_no_app_no_tests(path):
    assert _crossings(path, NOT_PRODUCT) == set()


@pytest.mark.parametrize("path", DEPLOYED, ids=_id)
def test_nothing_deployed_imports_the_operators_command(path):
    assert _crossings(path, ("guardrail_cli",)) == set()


@pytest.mark.parametrize("path", CORE, ids=_id)
def test_the_core_imports_no_adapter_and_no_aws_sdk(path):
    assert _crossings(path, NOT_CORE) == set()


def test_the_scan_resolves_relative_imports(tmp_path):
    package = tmp_path / "guardrail" / "detectors"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import probe\n")
    probe = package / "probe.py"
    probe.write_text("from ..adapters import ledger\nfrom .. import devtools_like\n")

    assert imported_names(probe, tmp_path) == {
        "guardrail.adapters",
        "guardrail.adapters.ledger",
        "guardrail",
        "guardrail.devtools_like",
    }
    assert imported_names(package / "__init__.py", tmp_path) == {
        "guardrail.detectors",
        "guardrail.detectors.probe",
    }


def _is_test_module(name: str) -> bool:
    return within(name, "tests") and name.rpartition(".")[2].startswith("test_")


@pytest.mark.parametrize("path", TESTS, ids=_id)
def test_no_test_module_imports_another(path):
    assert not {name for name in imported_names(path, ROOT) if _is_test_module(name)}


def test_a_test_module_imported_by_a_test_is_seen(tmp_path):
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    module = tmp_path / "tests" / "unit" / "test_b.py"
    module.write_text("from tests.unit.test_a import event\nfrom tests.unit import samples\n")
    found = {name for name in imported_names(module, tmp_path) if _is_test_module(name)}
    assert found == {"tests.unit.test_a"}
