"""What a guardrail function runs with, and the only reader of the functions' environment.

The environment (internal, written at synthesis by `to_env`, read by `from_env`):
`GUARDRAIL_CONFIG` holds the `guardrail` context as compact JSON (the same model, values at their
defaults left out wherever it still reads back as the same configuration: see `_compact`); the
deployment adds the ledger table, the alert topic, its account and partition, filled in by
CloudFormation; Lambda itself sets `AWS_REGION`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from guardrail.config.base import Str, StrictModel
from guardrail.config.guardrail import KILL_SWITCH, GuardrailConfig
from guardrail.errors import ConfigError
from guardrail.scope import Scope

ENV_CONFIG = "GUARDRAIL_CONFIG"
ENV_LEDGER_TABLE = "GUARDRAIL_LEDGER_TABLE"
ENV_ALERT_TOPIC_ARN = "GUARDRAIL_ALERT_TOPIC_ARN"
ENV_ACCOUNT = "GUARDRAIL_ACCOUNT"
ENV_PARTITION = "GUARDRAIL_PARTITION"
ENV_REGION = "AWS_REGION"
#: Lambda allows 4 KB of environment in all; this leaves room for Powertools' variables and for the
#: real table and topic names, which are placeholders at synthesis.
ENV_BUDGET = 3 * 1024

Name = Annotated[Str, Field(min_length=1)]


class Settings(StrictModel):
    """The deployment's configuration plus what the deployment adds: table, topic, account, region."""

    config: GuardrailConfig = Field(default_factory=GuardrailConfig)
    ledger_table: Name
    alert_topic_arn: Name
    account: Name
    region: Name
    partition: Name = "aws"

    @property
    def home(self) -> Scope:
        """Where the guardrail runs, and what it watches from there: its regions, its organization."""
        return Scope(
            self.account,
            self.region,
            self.partition,
            regions=frozenset(self.config.watched_regions(self.region)),
            organization=self.config.organization.enabled,
        )

    @property
    def exempt_functions(self) -> frozenset[str]:
        """Functions never throttled (cdk.json's `exemptFunctions`)."""
        return frozenset(self.config.exempt_functions)

    @property
    def own_functions(self) -> frozenset[str]:
        """The guardrail's own functions, by their exact deployed names."""
        return self.config.own_functions()

    @property
    def notify_only(self) -> bool:
        """Record and alert, but never change a function."""
        return self.config.notify_only

    @property
    def kill_switch_function(self) -> str:
        """The deployed name of the kill switch function."""
        return self.config.function_name(KILL_SWITCH)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from the environment the stack gave the function."""
        env = os.environ if env is None else env
        raw = _required(env, ENV_CONFIG)
        try:
            written = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"environment variable {ENV_CONFIG} is not valid JSON: {exc}") from None
        return cls(
            config=GuardrailConfig.parse(written, source=f"environment variable {ENV_CONFIG}"),
            ledger_table=_required(env, ENV_LEDGER_TABLE),
            alert_topic_arn=_required(env, ENV_ALERT_TOPIC_ARN),
            account=_required(env, ENV_ACCOUNT),
            region=_required(env, ENV_REGION),
            partition=_required(env, ENV_PARTITION),
        )

    def to_env(self) -> dict[str, str]:
        """Render as the environment variables `from_env` reads (the region excluded: Lambda sets it)."""
        env = {
            ENV_CONFIG: _compact(self.config),
            ENV_LEDGER_TABLE: self.ledger_table,
            ENV_ALERT_TOPIC_ARN: self.alert_topic_arn,
            ENV_ACCOUNT: self.account,
            ENV_PARTITION: self.partition,
        }
        size = sum(len(name) + len(value.encode()) for name, value in env.items())
        if size > ENV_BUDGET:
            raise ConfigError(
                f"{GuardrailConfig.KEY_PATH}: the configuration takes {size} bytes of the functions' "
                f"environment, over the {ENV_BUDGET} it may use (Lambda allows 4 KB in all); "
                "use fewer or shorter `callers` / `workgroups` overrides"
            )
        return env


def _compact(config: GuardrailConfig) -> str:
    """The configuration as JSON, without the values at their defaults if that reads back the same.

    Overrides inherit from the section they refine (`callers` from `caller`, ...), so leaving out a
    default is not always neutral: the short form is used only when it parses back equal.
    """
    short = config.model_dump_json(by_alias=True, exclude_defaults=True)
    if GuardrailConfig.parse(json.loads(short)) == config:
        return short
    return config.model_dump_json(by_alias=True)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is missing or empty")
    return value
