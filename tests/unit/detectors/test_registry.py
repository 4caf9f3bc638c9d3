"""The detector registry names every detector the findings can carry, and matches the config's sections."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import guardrail.detectors
from guardrail.config.guardrail import Detectors
from guardrail.detectors import DETECTORS, athena, invocation_scan, recursion_signals


def _detector_constants() -> dict[str, str]:
    """Every `DETECTOR*` string constant of every module under guardrail.detectors, by where it is."""
    found = {}
    for module_info in pkgutil.walk_packages(guardrail.detectors.__path__, "guardrail.detectors."):
        module = importlib.import_module(module_info.name)
        for attribute, value in vars(module).items():
            if attribute.startswith("DETECTOR") and isinstance(value, str):
                found[f"{module_info.name}.{attribute}"] = value
    return found


def test_the_detectors_constants_are_the_ones_findings_carry():
    constants = set(_detector_constants().values())
    named = {athena.DETECTOR, invocation_scan.DETECTOR, recursion_signals.DETECTOR_GUARD}
    assert named | {recursion_signals.DETECTOR_AWS} <= constants


def test_every_detector_name_used_in_findings_is_registered():
    unregistered = {where: name for where, name in _detector_constants().items() if name not in DETECTORS}
    assert unregistered == {}
    assert set(_detector_constants().values()) == set(DETECTORS)  # and nothing registered is unused


def test_the_configs_detector_sections_are_the_registrys():
    sections = {field.alias: field.annotation for field in Detectors.model_fields.values()}
    configured = {name: d.config for name, d in DETECTORS.items() if d.config is not None}
    assert sections == configured


@pytest.mark.parametrize("detector", DETECTORS.values(), ids=DETECTORS.keys())
def test_each_detector_names_a_handler_that_exists_and_says_what_it_catches(detector):
    module, _, function = detector.handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
    assert detector.description
    assert DETECTORS[detector.name] is detector
