"""Typed props for the guardrail, read from `cdk.json` context (never from the environment)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONTEXT_KEY = "guardrail"
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
#: Reserved concurrency of each guardrail function (by its role, the name after the prefix), so that a
#: runaway cannot take the concurrency the kill switch and the watchers need; 0 leaves one unreserved.
RESERVED_CONCURRENCY = {"kill-switch": 5, "recursion-watch": 10, "invocation-scan": 2, "athena-watch": 20}


class ConfigError(ValueError):
    """The `guardrail` context in cdk.json is malformed."""


@dataclass(frozen=True)
class GuardrailConfig:
    """Everything a deployment of the guardrail can be configured with."""

    name_prefix: str = "runaway-guardrail"
    alert_emails: tuple[str, ...] = ()
    exempt_functions: tuple[str, ...] = ()
    notify_only: bool = False
    log_retention_days: int = 90
    #: Per-detector sections, passed to the functions as they are; each detector validates its own.
    detectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: None: bundle the Powertools release requirements.txt pins into the stack's own layer.
    powertools_layer_arn: str | None = None
    #: Overrides of RESERVED_CONCURRENCY, by function role.
    reserved_concurrency: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.name_prefix):
            raise ConfigError(f"namePrefix {self.name_prefix!r}: 3-40 lowercase letters, digits and dashes")
        for email in self.alert_emails:
            if not _EMAIL.match(email):
                raise ConfigError(f"alertEmails: {email!r} is not an e-mail address")
        for name in self.exempt_functions:
            if not _FUNCTION.match(name):
                raise ConfigError(f"exemptFunctions: {name!r} is not a Lambda function name")
        if self.log_retention_days not in _RETENTION_DAYS:
            raise ConfigError(
                f"logRetentionDays: {self.log_retention_days} is not a CloudWatch Logs retention"
            )
        for name, section in self.detectors.items():
            if not isinstance(section, Mapping):
                raise ConfigError(f"detectors.{name}: expected an object")
        if self.powertools_layer_arn is not None and ":layer:" not in self.powertools_layer_arn:
            raise ConfigError(f"powertoolsLayerArn: {self.powertools_layer_arn!r} is not a layer version ARN")
        _check_reserved_concurrency(self.reserved_concurrency)

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> GuardrailConfig:
        """Build props from the `guardrail` context object, rejecting unknown keys."""
        context = dict(context or {})
        fields = {
            "namePrefix": ("name_prefix", str),
            "alertEmails": ("alert_emails", list),
            "exemptFunctions": ("exempt_functions", list),
            "notifyOnly": ("notify_only", bool),
            "logRetentionDays": ("log_retention_days", int),
            "powertoolsLayerArn": ("powertools_layer_arn", str),
            "detectors": ("detectors", dict),
            "reservedConcurrency": ("reserved_concurrency", dict),
        }
        unknown = sorted(set(context) - set(fields))
        if unknown:
            raise ConfigError(f"unknown guardrail context keys: {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, (attr, kind) in fields.items():
            if context.get(key) is None:  # absent or null: the default
                continue
            value = context[key]
            if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
                raise ConfigError(f"{key}: expected {kind.__name__}, got {type(value).__name__}")
            kwargs[attr] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    def function_name(self, role: str) -> str:
        """The physical name of one of the guardrail's functions (all share the prefix)."""
        return f"{self.name_prefix}-{role}"

    def reserved_concurrency_for(self, role: str) -> int | None:
        """The reserved concurrency of one guardrail function; None leaves it unreserved."""
        return self.reserved_concurrency.get(role, RESERVED_CONCURRENCY[role]) or None


def _check_reserved_concurrency(reserved: Mapping[str, Any]) -> None:
    for role, value in reserved.items():
        if role not in RESERVED_CONCURRENCY:
            known = ", ".join(RESERVED_CONCURRENCY)
            raise ConfigError(f"reservedConcurrency.{role}: not a guardrail function (one of {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(
                f"reservedConcurrency.{role}: expected a whole number >= 0 (0 leaves it unreserved), "
                f"got {value!r}"
            )
