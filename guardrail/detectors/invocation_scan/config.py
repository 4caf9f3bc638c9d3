"""Typed configuration of the invocation scan (`detectors["invocation-scan"]` in cdk.json)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from guardrail.errors import SettingsError

DETECTOR = "invocation-scan"


@dataclass(frozen=True)
class InvocationScanConfig:
    """Thresholds of the per-minute invocation scan."""

    #: A function invoked this often in one minute is a runaway, whatever its history.
    max_invocations_per_minute: int = 3000
    #: ... or this many times its own baseline (mean per minute over `baseline_minutes`) ...
    spike_ratio: float = 10.0
    #: ... once it is invoked at least this often in a minute (small numbers are noise).
    spike_min_invocations_per_minute: int = 300
    baseline_minutes: int = 60
    #: The account-level check drills down per function when the account's rate rises this much.
    account_rise_per_minute: int = 300
    #: A full per-function sweep at this interval anyway (0: never), for runaways already in the baseline.
    full_sweep_every_minutes: int = 60

    def __post_init__(self) -> None:
        for name in ("max_invocations_per_minute", "spike_min_invocations_per_minute"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{_camel(name)} must be at least 1")
        if self.spike_ratio <= 1:
            raise SettingsError("spikeRatio must be greater than 1")
        if not 5 <= self.baseline_minutes <= 1440:
            raise SettingsError("baselineMinutes must be between 5 and 1440")
        if self.account_rise_per_minute < 1:
            raise SettingsError("accountRisePerMinute must be at least 1")
        if not 0 <= self.full_sweep_every_minutes <= 1440:
            raise SettingsError("fullSweepEveryMinutes must be between 0 (never) and 1440")

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> InvocationScanConfig:
        """Parse the cdk.json section (camelCase keys); reject unknown keys and wrong types."""
        known = {_camel(f.name): f for f in fields(cls)}
        unknown = sorted(set(section) - set(known))
        if unknown:
            raise SettingsError(f"unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        kwargs: dict[str, Any] = {}
        for key, value in section.items():
            kind = float if known[key].type == "float" else int
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"{key} must be a number, not {value!r}")
            if kind is int and not float(value).is_integer():
                raise SettingsError(f"{key} must be a whole number, not {value!r}")
            kwargs[known[key].name] = kind(value)
        return cls(**kwargs)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
