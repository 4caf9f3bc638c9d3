"""Athena watch settings: the `detectors["athena-watch"]` section of cdk.json, typed and validated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from enum import StrEnum
from typing import Any

from guardrail.errors import GuardrailError

DETECTOR = "athena-watch"
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_LIMIT_KEYS = {
    "maxQueriesPerWindow": "max_queries_per_window",
    "maxQueriesPerDay": "max_queries_per_day",
    "maxCostPerDayUsd": "max_cost_per_day_usd",
}


class AthenaWatchConfigError(GuardrailError):
    """The athena-watch section of the configuration is malformed."""


class CrossRegionAction(StrEnum):
    """What a query reading data from another region leads to."""

    OFF = "off"
    ALERT = "alert"
    THROTTLE = "throttle"


@dataclass(frozen=True)
class ActiveHours:
    """The UTC hours in which a caller is expected to query; the span may wrap past midnight."""

    start: time
    end: time

    def contains(self, at: time) -> bool:
        """True when `at` lies inside the span (start inclusive, end exclusive)."""
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Rules:
    """The limits one caller or one workgroup is held to."""

    max_queries_per_window: int
    max_queries_per_day: int
    max_cost_per_day_usd: float
    #: Callers only: outside these hours every query is a finding.
    active_hours_utc: ActiveHours | None = None
    #: Workgroups only: disable the workgroup when a caller that is not a Lambda function runs away.
    disable_on_runaway: bool = False


@dataclass(frozen=True)
class AthenaWatchConfig:
    """Everything the Athena watch can be configured with; every field has a default."""

    window_minutes: int = 5
    caller: Rules = Rules(max_queries_per_window=60, max_queries_per_day=1000, max_cost_per_day_usd=200.0)
    workgroup: Rules = Rules(max_queries_per_window=300, max_queries_per_day=5000, max_cost_per_day_usd=500.0)
    #: Overrides by caller (a function name, or the ARN of a user or role) and by workgroup name.
    callers: Mapping[str, Rules] = field(default_factory=dict)
    workgroups: Mapping[str, Rules] = field(default_factory=dict)
    cross_region: CrossRegionAction = CrossRegionAction.ALERT
    usd_per_tb: float = 5.0
    transfer_usd_per_gb: float = 0.09
    counter_ttl_hours: int = 48
    #: Deploy-time only: create a CloudTrail trail for management events (the caller signal needs one).
    create_trail: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.window_minutes <= 60:
            raise AthenaWatchConfigError("windowMinutes: between 1 and 60")
        if self.counter_ttl_hours < 25:
            raise AthenaWatchConfigError("counterTtlHours: at least 25, so a day's counters outlive the day")
        if self.usd_per_tb < 0 or self.transfer_usd_per_gb < 0:
            raise AthenaWatchConfigError("usdPerTb and transferUsdPerGb: not negative")

    def caller_rules(self, caller: str) -> Rules:
        """The rules for one caller: its override, or the defaults."""
        return self.callers.get(caller, self.caller)

    def workgroup_rules(self, workgroup: str) -> Rules:
        """The rules for one workgroup: its override, or the defaults."""
        return self.workgroups.get(workgroup, self.workgroup)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> AthenaWatchConfig:
        """Parse the cdk.json section, rejecting unknown keys and wrong types with the key's path."""
        section = dict(section or {})
        known = {
            "windowMinutes", "caller", "workgroup", "callers", "workgroups", "crossRegion",
            "usdPerTb", "transferUsdPerGb", "counterTtlHours", "createTrail",
        }  # fmt: skip
        _reject_unknown(section, known, DETECTOR)
        defaults = cls()
        caller = _rules(section.get("caller", {}), defaults.caller, "caller")
        workgroup = _rules(section.get("workgroup", {}), defaults.workgroup, "workgroup")
        kwargs: dict[str, Any] = {
            "caller": caller,
            "workgroup": workgroup,
            "callers": {
                name: _rules(value, caller, f"callers.{name}")
                for name, value in _object(section.get("callers", {}), "callers").items()
            },
            "workgroups": {
                name: _rules(value, workgroup, f"workgroups.{name}")
                for name, value in _object(section.get("workgroups", {}), "workgroups").items()
            },
        }
        for key, attr, kind in (
            ("windowMinutes", "window_minutes", int),
            ("usdPerTb", "usd_per_tb", float),
            ("transferUsdPerGb", "transfer_usd_per_gb", float),
            ("counterTtlHours", "counter_ttl_hours", int),
            ("createTrail", "create_trail", bool),
        ):
            if key in section:
                kwargs[attr] = _typed(section[key], kind, key)
        if "crossRegion" in section:
            try:
                kwargs["cross_region"] = CrossRegionAction(section["crossRegion"])
            except ValueError as exc:
                choices = ", ".join(a.value for a in CrossRegionAction)
                raise AthenaWatchConfigError(f"crossRegion: one of {choices}") from exc
        return cls(**kwargs)


def _rules(value: Any, base: Rules, path: str) -> Rules:
    section = _object(value, path)
    _reject_unknown(section, {*_LIMIT_KEYS, "activeHoursUtc", "disableOnRunaway"}, path)
    changes: dict[str, Any] = {}
    for key, attr in _LIMIT_KEYS.items():
        if key in section:
            number = _typed(section[key], float if attr.endswith("usd") else int, f"{path}.{key}")
            if number <= 0:
                raise AthenaWatchConfigError(f"{path}.{key}: must be positive")
            changes[attr] = number
    if "disableOnRunaway" in section:
        changes["disable_on_runaway"] = _typed(section["disableOnRunaway"], bool, f"{path}.disableOnRunaway")
    if "activeHoursUtc" in section:
        changes["active_hours_utc"] = _active_hours(section["activeHoursUtc"], f"{path}.activeHoursUtc")
    return replace(base, **changes)


def _active_hours(value: Any, path: str) -> ActiveHours | None:
    if value is None:
        return None
    match = _HOURS.match(value) if isinstance(value, str) else None
    if not match:
        raise AthenaWatchConfigError(f"{path}: expected 'HH:MM-HH:MM' (UTC) or null, got {value!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if (h1, m1) == (h2, m2):
        raise AthenaWatchConfigError(f"{path}: the span is empty")
    return ActiveHours(time(h1, m1), time(h2, m2))


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise AthenaWatchConfigError(f"{path}: expected an object, got {type(value).__name__}")
    return dict(value)


def _typed(value: Any, kind: type, path: str) -> Any:
    ok = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise AthenaWatchConfigError(f"{path}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _reject_unknown(section: Mapping[str, Any], known: set[str], path: str) -> None:
    unknown = sorted(set(section) - known)
    if unknown:
        raise AthenaWatchConfigError(f"{path}: unknown keys {', '.join(unknown)}")
