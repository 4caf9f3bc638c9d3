"""The one typed settings object, and the only reader of the functions' environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guardrail.errors import SettingsError

ENV_LEDGER_TABLE = "GUARDRAIL_LEDGER_TABLE"
ENV_ALERT_TOPIC_ARN = "GUARDRAIL_ALERT_TOPIC_ARN"
ENV_NAME_PREFIX = "GUARDRAIL_NAME_PREFIX"
ENV_KILL_SWITCH_FUNCTION = "GUARDRAIL_KILL_SWITCH_FUNCTION"
ENV_EXEMPT_FUNCTIONS = "GUARDRAIL_EXEMPT_FUNCTIONS"
ENV_NOTIFY_ONLY = "GUARDRAIL_NOTIFY_ONLY"
ENV_DETECTORS = "GUARDRAIL_DETECTORS"
ENV_REGION = "AWS_REGION"

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


@dataclass(frozen=True)
class Settings:
    """Configuration every guardrail function runs with."""

    ledger_table: str
    alert_topic_arn: str
    name_prefix: str
    kill_switch_function: str
    region: str
    exempt_functions: frozenset[str] = frozenset()
    notify_only: bool = False
    #: Per-detector sections (`detectors` in cdk.json context); each detector parses its own.
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment the stack gave the function."""
        env = os.environ if env is None else env
        return cls(
            ledger_table=_required(env, ENV_LEDGER_TABLE),
            alert_topic_arn=_required(env, ENV_ALERT_TOPIC_ARN),
            name_prefix=_required(env, ENV_NAME_PREFIX),
            kill_switch_function=_required(env, ENV_KILL_SWITCH_FUNCTION),
            region=_required(env, ENV_REGION),
            exempt_functions=frozenset(
                name.strip() for name in env.get(ENV_EXEMPT_FUNCTIONS, "").split(",") if name.strip()
            ),
            notify_only=_flag(env, ENV_NOTIFY_ONLY),
            detectors=_detectors(env),
        )

    def detector(self, name: str) -> Mapping[str, Any]:
        """The configuration section of one detector (empty when it has none)."""
        return self.detectors.get(name, {})

    def to_env(self) -> dict[str, str]:
        """Render as the environment variables that `from_env` reads (region excluded)."""
        return {
            ENV_LEDGER_TABLE: self.ledger_table,
            ENV_ALERT_TOPIC_ARN: self.alert_topic_arn,
            ENV_NAME_PREFIX: self.name_prefix,
            ENV_KILL_SWITCH_FUNCTION: self.kill_switch_function,
            ENV_EXEMPT_FUNCTIONS: ",".join(sorted(self.exempt_functions)),
            ENV_NOTIFY_ONLY: "true" if self.notify_only else "false",
            ENV_DETECTORS: json.dumps(self.detectors, sort_keys=True, separators=(",", ":")),
        }


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is missing or empty")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"environment variable {name} must be true or false, not {value!r}")


def _detectors(env: Mapping[str, str]) -> dict[str, Mapping[str, Any]]:
    raw = env.get(ENV_DETECTORS, "").strip() or "{}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"environment variable {ENV_DETECTORS} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise SettingsError(f"environment variable {ENV_DETECTORS} must map detector names to objects")
    return value
