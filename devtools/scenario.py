"""Replay scenarios: a small JSON format describing an incident's shape (see docs/incident-replay.md).

A scenario is a pydantic model of the configuration family in `guardrail.config`: the same strict
keys and value types, and its `athenaWatch` section is the Athena watch's own model, as in cdk.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, model_validator

from devtools.replay import IncidentReplay
from guardrail.config import AthenaWatchConfig
from guardrail.config.base import Bool, Float, Int, Str, StrictModel
from guardrail.config.fleet import AccountId, Region
from guardrail.detectors.athena.cost import GB
from guardrail.errors import ConfigError

DEFAULT = Path(__file__).resolve().parent / "scenarios" / "incident.json"
#: Every replay key a scenario leaves out is the incident's.
_INCIDENT = IncidentReplay()


def _pair_shape(value: Any) -> Any:
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise ValueError(f"expected [min, max] seconds, got {value!r}")
    return value


def _ordered(value: tuple[float, float]) -> tuple[float, float]:
    if not 0 <= value[0] <= value[1]:
        raise ValueError(f"expected 0 <= min <= max, got {list(value)}")
    return value


#: A delivery lag range, written `[min, max]` in seconds.
LagRange = Annotated[tuple[Float, Float], BeforeValidator(_pair_shape), AfterValidator(_ordered)]
NonNegative = Annotated[Float, Field(ge=0)]
Positive = Annotated[Float, Field(gt=0)]


class Comparison(StrictModel):
    """How the alternatives are modelled: how long nothing stops it, and the budget's threshold."""

    no_stop_hours: Positive = 72.0
    budget_usd: Positive = 150.0
    budget_cadence_hours: tuple[NonNegative, ...] = (8.0, 12.0)


class Scenario(StrictModel):
    """An incident to replay: the traffic, the function's prior reservation, the watch's limits."""

    name: Str = "unnamed scenario"
    description: Str = ""
    #: Where the guardrail is deployed (its home region); Athena's region is watched besides it.
    home_region: Region = "ap-northeast-1"
    #: The batch's account: the guardrail's own, or one of `memberAccounts`.
    account: AccountId = _INCIDENT.account
    #: Member accounts of an organization (organization mode when any), each given the member stack.
    member_accounts: tuple[AccountId, ...] = ()
    function: Str = _INCIDENT.function
    #: The function's reservation before the night (null: none).
    reserved_concurrency: Annotated[Int, Field(ge=0)] | None = None
    athena_region: Region = _INCIDENT.athena_region
    data_region: Region = _INCIDENT.data_region
    start: AwareDatetime = _INCIDENT.start
    batch_queries: Annotated[Int, Field(ge=0)] = _INCIDENT.batch_queries
    batch_interval_seconds: Positive = _INCIDENT.batch_interval_seconds
    loop_interval_seconds: Positive = _INCIDENT.loop_interval_seconds
    loop_minutes: NonNegative = _INCIDENT.loop_minutes
    scanned_gb_per_query: NonNegative = _INCIDENT.scanned_bytes / GB
    query_seconds: NonNegative = _INCIDENT.query_seconds
    trail_lag_seconds: LagRange = _INCIDENT.trail_lag_seconds
    state_lag_seconds: LagRange = _INCIDENT.state_lag_seconds
    duplicate_share: Annotated[Float, Field(ge=0, le=1)] = _INCIDENT.duplicate_share
    seed: Int = _INCIDENT.seed
    #: Legitimate nights replayed before the incident's, one a day (what baselines learn from).
    history_nights: Annotated[Int, Field(ge=0, le=28)] = _INCIDENT.history_nights
    #: The batch runs the recursion guard, which marks its queries with the function and chain.
    marked_queries: Bool = _INCIDENT.marked
    #: The batch runs the guard's Athena wrapper: `Athena Query Started` on the signal bus per query.
    guarded_queries: Bool = _INCIDENT.guarded
    claim_lag_seconds: LagRange = _INCIDENT.claim_lag_seconds
    #: Every query of the batch runs one statement (each its own analysis, when false).
    one_statement: Bool = _INCIDENT.one_statement
    #: The Athena watch's configuration during the replay (cdk.json's `athena-watch` section).
    watch_config: AthenaWatchConfig = Field(default_factory=AthenaWatchConfig, alias="athenaWatch")
    compare: Comparison = Field(default_factory=Comparison)

    @model_validator(mode="after")
    def _placed(self) -> Scenario:
        if _INCIDENT.account in self.member_accounts:
            raise ValueError(f"memberAccounts: {_INCIDENT.account} is the guardrail's own account")
        if self.account not in (_INCIDENT.account, *self.member_accounts):
            raise ValueError(f"account: {self.account} is neither the guardrail's own nor in memberAccounts")
        return self

    @property
    def watched_regions(self) -> tuple[str, ...]:
        """The regions watched besides home: Athena's, when it is not home."""
        return () if self.athena_region == self.home_region else (self.athena_region,)

    @property
    def replay(self) -> IncidentReplay:
        """The traffic the scenario describes."""
        return IncidentReplay(
            function=self.function,
            account=self.account,
            athena_region=self.athena_region,
            data_region=self.data_region,
            start=self.start,
            batch_queries=self.batch_queries,
            batch_interval_seconds=self.batch_interval_seconds,
            loop_interval_seconds=self.loop_interval_seconds,
            loop_minutes=self.loop_minutes,
            scanned_bytes=int(self.scanned_gb_per_query * GB),
            query_seconds=self.query_seconds,
            trail_lag_seconds=self.trail_lag_seconds,
            state_lag_seconds=self.state_lag_seconds,
            duplicate_share=self.duplicate_share,
            seed=self.seed,
            history_nights=self.history_nights,
            marked=self.marked_queries,
            guarded=self.guarded_queries,
            claim_lag_seconds=self.claim_lag_seconds,
            one_statement=self.one_statement,
        )

    @property
    def athena_watch(self) -> dict[str, Any]:
        """The watch's configuration as cdk.json's `athena-watch` section, for deploying it."""
        return self.watch_config.model_dump(mode="json", by_alias=True)

    @classmethod
    def load(cls, path: Path = DEFAULT) -> Scenario:
        """Read and validate a scenario file; every problem names its key."""
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        return cls.parse(data, source=str(path))
