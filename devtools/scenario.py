"""Replay scenarios: a small JSON format describing an incident's shape (see docs/incident-replay.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from devtools.replay import IncidentReplay
from guardrail.detectors.athena.config import AthenaWatchConfig, AthenaWatchConfigError
from guardrail.detectors.athena.cost import GB

DEFAULT = Path(__file__).resolve().parent / "scenarios" / "incident.json"

#: scenario key -> (IncidentReplay field, type)
_REPLAY_FIELDS: dict[str, tuple[str, type]] = {
    "function": ("function", str),
    "athenaRegion": ("athena_region", str),
    "dataRegion": ("data_region", str),
    "batchQueries": ("batch_queries", int),
    "batchIntervalSeconds": ("batch_interval_seconds", float),
    "loopIntervalSeconds": ("loop_interval_seconds", float),
    "loopMinutes": ("loop_minutes", float),
    "querySeconds": ("query_seconds", float),
    "duplicateShare": ("duplicate_share", float),
    "seed": ("seed", int),
}
_OTHER_KEYS = {
    "name",
    "description",
    "reservedConcurrency",
    "start",
    "scannedGbPerQuery",
    "trailLagSeconds",
    "stateLagSeconds",
    "athenaWatch",
    "compare",
}


class ScenarioError(ValueError):
    """A scenario file that does not follow the format."""


@dataclass(frozen=True)
class Comparison:
    """How the alternatives are modelled: how long nothing stops it, and the budget's threshold."""

    no_stop_hours: float = 72.0
    budget_usd: float = 150.0
    budget_cadence_hours: tuple[float, ...] = (8.0, 12.0)


@dataclass(frozen=True)
class Scenario:
    """An incident to replay: the traffic, the function's prior reservation, the watch's limits."""

    name: str
    description: str
    replay: IncidentReplay
    reserved_concurrency: int | None
    athena_watch: Mapping[str, Any] = field(default_factory=dict)
    compare: Comparison = Comparison()

    @property
    def watch_config(self) -> AthenaWatchConfig:
        """The athena-watch configuration the replay runs with."""
        return AthenaWatchConfig.from_mapping(self.athena_watch)

    @classmethod
    def load(cls, path: Path = DEFAULT) -> Scenario:
        """Read and validate a scenario file."""
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ScenarioError(f"{path}: {exc}") from exc
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "scenario") -> Scenario:
        """Validate a parsed scenario; every problem names its key."""
        if not isinstance(data, dict):
            raise ScenarioError(f"{source}: expected a JSON object")
        unknown = sorted(set(data) - set(_REPLAY_FIELDS) - _OTHER_KEYS)
        if unknown:
            raise ScenarioError(f"{source}: unknown keys {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, (attr, kind) in _REPLAY_FIELDS.items():
            if key in data:
                kwargs[attr] = _typed(source, key, data[key], kind)
        if "start" in data:
            try:
                kwargs["start"] = datetime.fromisoformat(str(data["start"]).replace("Z", "+00:00"))
            except ValueError as exc:
                raise ScenarioError(f"{source}: start: {exc}") from exc
        if "scannedGbPerQuery" in data:
            kwargs["scanned_bytes"] = int(
                _typed(source, "scannedGbPerQuery", data["scannedGbPerQuery"], float) * GB
            )
        for key, attr in (("trailLagSeconds", "trail_lag_seconds"), ("stateLagSeconds", "state_lag_seconds")):
            if key in data:
                kwargs[attr] = _pair(source, key, data[key])
        compare = data.get("compare", {})
        scenario = cls(
            name=str(data.get("name", "unnamed scenario")),
            description=str(data.get("description", "")),
            replay=IncidentReplay(**kwargs),
            reserved_concurrency=data.get("reservedConcurrency"),
            athena_watch=data.get("athenaWatch", {}),
            compare=Comparison(
                no_stop_hours=_typed(source, "compare.noStopHours", compare.get("noStopHours", 72.0), float),
                budget_usd=_typed(source, "compare.budgetUsd", compare.get("budgetUsd", 150.0), float),
                budget_cadence_hours=tuple(
                    _typed(source, "compare.budgetCadenceHours", hours, float)
                    for hours in compare.get("budgetCadenceHours", [8, 12])
                ),
            ),
        )
        try:
            scenario.watch_config  # noqa: B018 - validates the athenaWatch section now, not mid-replay
        except AthenaWatchConfigError as exc:
            raise ScenarioError(f"{source}: athenaWatch: {exc}") from exc
        return scenario


def _typed(source: str, key: str, value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (kind, int) if kind is float else kind):
        raise ScenarioError(f"{source}: {key}: expected {kind.__name__}, got {value!r}")
    return kind(value)


def _pair(source: str, key: str, value: Any) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        raise ScenarioError(f"{source}: {key}: expected [min, max] seconds")
    low, high = float(value[0]), float(value[1])
    if not 0 <= low <= high:
        raise ScenarioError(f"{source}: {key}: expected 0 <= min <= max")
    return low, high
