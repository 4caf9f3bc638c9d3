"""The deployment's configuration: cdk.json's `guardrail` context, validated at synthesis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from guardrail.config.athena_watch import DETECTOR as ATHENA_WATCH
from guardrail.config.athena_watch import AthenaWatchConfig
from guardrail.config.base import Bool, Int, Str, StrictModel, matching
from guardrail.config.chat import SlackChannel, TeamsChannel
from guardrail.config.fleet import ExemptFunction, Organization, Region
from guardrail.config.invocation_scan import DETECTOR as INVOCATION_SCAN
from guardrail.config.invocation_scan import InvocationScanConfig

CONTEXT_KEY = "guardrail"
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)
#: A partition, region or account, or the `${AWS::...}` placeholder CloudFormation substitutes.
_ARN_PART = r"(?:\$\{AWS::[A-Za-z]+\}|[a-z0-9-]+)"


def _retention(days: int) -> int:
    if days not in RETENTION_DAYS:
        raise ValueError(
            f"{days} is not a CloudWatch Logs retention (one of {', '.join(map(str, RETENTION_DAYS))})"
        )
    return days


NamePrefix = Annotated[
    Str, matching(r"[a-z][a-z0-9-]{1,38}[a-z0-9]", "3-40 lowercase letters, digits and dashes")
]
Email = Annotated[Str, matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address")]
LayerArn = Annotated[
    Str,
    matching(
        rf"arn:{_ARN_PART}:lambda:{_ARN_PART}:{_ARN_PART}:layer:[A-Za-z0-9_-]+:\d+",
        "a Lambda layer version ARN",
    ),
]
RetentionDays = Annotated[Int, AfterValidator(_retention)]

_SECTIONS = {"invocation_scan": INVOCATION_SCAN, "athena_watch": ATHENA_WATCH}


class Detectors(StrictModel):
    """Each detector's section, keyed by the detector's name."""

    model_config = ConfigDict(alias_generator=_SECTIONS.__getitem__)

    invocation_scan: InvocationScanConfig = InvocationScanConfig()
    athena_watch: AthenaWatchConfig = AthenaWatchConfig()


KILL_SWITCH = "kill-switch"
RECURSION_WATCH = "recursion-watch"
#: The guardrail's functions, by role: the part of each one's name after the prefix (and its metrics'
#: `service` dimension). The scan and the Athena watch are named after their detectors.
FUNCTION_ROLES = (KILL_SWITCH, RECURSION_WATCH, INVOCATION_SCAN, ATHENA_WATCH)


class ReservedConcurrency(StrictModel):
    """Reserved concurrency of each guardrail function, by its role.

    A runaway then cannot take what the kill switch and the watchers need; 0 leaves that function
    unreserved (it does not throttle it).
    """

    model_config = ConfigDict(alias_generator=lambda name: name.replace("_", "-"))

    kill_switch: Annotated[Int, Field(ge=0)] = 5
    recursion_watch: Annotated[Int, Field(ge=0)] = 10
    invocation_scan: Annotated[Int, Field(ge=0)] = 2
    athena_watch: Annotated[Int, Field(ge=0)] = 20

    def for_role(self, role: str) -> int | None:
        """The reservation of the function with this role (`kill-switch`, ...); None: unreserved."""
        value: int = getattr(self, role.replace("-", "_"))
        return value or None


class GuardrailConfig(StrictModel):
    """Everything a deployment of the guardrail can be configured with; the defaults are cdk.json's."""

    KEY_PATH: ClassVar[str] = CONTEXT_KEY

    name_prefix: NamePrefix = "runaway-guardrail"
    alert_emails: tuple[Email, ...] = ()
    #: Bare names: the home account's functions (every watched region); other accounts' by ARN, or
    #: under their own section of `organization.accounts` (docs/fleet.md).
    exempt_functions: tuple[ExemptFunction, ...] = ()
    notify_only: Bool = False
    log_retention_days: RetentionDays = 90
    #: Lambda active tracing (X-Ray) on the guardrail's functions (deployment only: not in their env).
    tracing: Bool = Field(default=True, exclude=True)
    #: More automatic actions than this in an hour switch automatic enforcement to notify-only.
    breaker_max_actions_per_hour: Annotated[Int, Field(ge=1, le=1000)] = 5
    detectors: Detectors = Field(default_factory=Detectors)
    reserved_concurrency: ReservedConcurrency = Field(default_factory=ReservedConcurrency)
    #: None: bundle the Powertools release requirements.txt pins into the stack's own layer.
    powertools_layer_arn: LayerArn | None = None
    #: Watched regions besides the one it is deployed in (the home region, always watched).
    regions: tuple[Region, ...] = ()
    organization: Organization = Field(default_factory=Organization)
    #: Chat channels that get the alerts through AWS Chatbot (deployment only: not in the functions' env).
    slack: tuple[SlackChannel, ...] = Field(default=(), exclude=True)
    microsoft_teams: tuple[TeamsChannel, ...] = Field(default=(), exclude=True)

    @model_validator(mode="after")
    def _unique_channel_names(self) -> Self:
        names = [channel.name for channel in (*self.slack, *self.microsoft_teams)]
        if repeated := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"chat channel names must be unique across slack and microsoftTeams: {repeated}")
        return self

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> GuardrailConfig:
        """Build the configuration from cdk.json's `guardrail` context (absent: the defaults)."""
        return cls.parse({} if context is None else context)

    def function_name(self, role: str) -> str:
        """The physical name of one of the guardrail's functions (all share the prefix)."""
        return f"{self.name_prefix}-{role}"

    def own_functions(self) -> frozenset[str]:
        """The exact deployed names of the guardrail's functions: never throttled, whatever asks."""
        return frozenset(self.function_name(role) for role in FUNCTION_ROLES)

    @property
    def guard_layer_name(self) -> str:
        """The name of the recursion guard's layer; a function carrying it runs the guard."""
        return f"{self.name_prefix}-recursion-guard"

    @property
    def signal_bus_name(self) -> str:
        """The event bus the recursion guard publishes its refusals to."""
        return f"{self.name_prefix}-signals"

    @property
    def member_role_name(self) -> str:
        """The enforcement role of every member account (organization mode), assumed by the guardrail."""
        return f"{self.name_prefix}-enforcement"

    @property
    def role_path(self) -> str:
        """The IAM path of the guardrail functions' roles: the member roles trust only roles under it."""
        return f"/{self.name_prefix}/"

    def watched_regions(self, home: str) -> tuple[str, ...]:
        """Every region watched from `home`: home first, then `regions` in order, each once."""
        return tuple(dict.fromkeys((home, *self.regions)))

    def reserved_concurrency_for(self, role: str) -> int | None:
        """The reserved concurrency of one guardrail function; None leaves it unreserved."""
        return self.reserved_concurrency.for_role(role)
