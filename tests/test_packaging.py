"""The package's one metadata file (pyproject.toml) against what the tests run on (requirements.txt)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            [specifier] = requirement.specifier
            assert specifier.operator == "==", line
            pins[requirement.name] = specifier.version
    return pins


def _declared() -> list[Requirement]:
    return [Requirement(r) for r in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["cdk"]]]


def test_every_dependency_is_bounded_from_the_tested_release_to_the_next_major():
    pins = _pins()
    declared = _declared()
    assert {r.name for r in declared} == set(pins)  # each runtime and CDK dependency, and only those
    for requirement in declared:
        bounds = {s.operator: s.version for s in requirement.specifier}
        tested = pins[requirement.name]
        assert bounds == {">=": tested, "<": str(int(tested.split(".")[0]) + 1)}, requirement


def test_the_construct_library_ships_its_type_marker():
    """The installed wheel holds it too (tests/infra/test_example_app.py)."""
    assert (ROOT / "runaway_guardrail_cdk" / "py.typed").exists()
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"] == {
        "runaway_guardrail_cdk": ["py.typed"]
    }
