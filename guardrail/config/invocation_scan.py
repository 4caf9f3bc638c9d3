"""The invocation scan's configuration: `detectors["invocation-scan"]` in cdk.json."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from guardrail.config.base import Float, Int, StrictModel

DETECTOR = "invocation-scan"


class InvocationScanConfig(StrictModel):
    """Thresholds of the per-minute invocation scan."""

    KEY_PATH: ClassVar[str] = f"guardrail.detectors.{DETECTOR}"

    #: A function with too little history (see `min_history_minutes`) invoked this often in one minute
    #: is a runaway; one with history is held to its own baseline instead (`spike_ratio`).
    max_invocations_per_minute: Annotated[Int, Field(ge=1)] = 3000
    #: The hard ceiling: a function invoked this often in one minute is a runaway, whatever its history.
    ceiling_invocations_per_minute: Annotated[Int, Field(ge=1)] = 30000
    #: A function has history when this many minutes of its baseline window had invocations.
    min_history_minutes: Annotated[Int, Field(ge=1, le=1440)] = 30
    #: ... or this many times its own baseline (mean per minute over `baseline_minutes`) ...
    spike_ratio: Annotated[Float, Field(gt=1)] = 10.0
    #: ... once it is invoked at least this often in a minute (small numbers are noise).
    spike_min_invocations_per_minute: Annotated[Int, Field(ge=1)] = 300
    #: A spike (relative or absolute) is throttled only once it lasted this many minutes in a row, or
    #: with Lambda's `RecursiveInvocationsDropped` for the function; a shorter one is only alerted (anyone
    #: can send a public endpoint a minute of requests). 1: every spike is throttled at once.
    sustained_minutes: Annotated[Int, Field(ge=1, le=15)] = 2
    baseline_minutes: Annotated[Int, Field(ge=5, le=1440)] = 60
    #: The account-level check drills down per function when the account's rate rises this much.
    account_rise_per_minute: Annotated[Int, Field(ge=1)] = 300
    #: A full per-function sweep at this interval anyway (0: never), for runaways already in the baseline;
    #: each sweep reads one metric per function (see docs/bench.md for what that costs).
    full_sweep_every_minutes: Annotated[Int, Field(ge=0, le=1440)] = 0
    #: Per-function drill-downs (after a rise, a drop or a sweep) allowed in one clock hour: the hard
    #: cap on the scan's GetMetricData cost, whatever happens in the account. The functions a drill-down
    #: found behind a rise are watched by name for the rest of the hour, so a rise of theirs never spends
    #: another: each drill-down of the hour is spent on a rise that other functions made.
    max_drill_downs_per_hour: Annotated[Int, Field(ge=1, le=60)] = 4
    #: Lambda's drops in this many latest minutes call for a drill-down (CloudWatch publishes late).
    drop_lookback_minutes: Annotated[Int, Field(ge=1, le=15)] = 3

    @model_validator(mode="after")
    def _ceiling_over_the_fixed_limit(self) -> InvocationScanConfig:
        if self.ceiling_invocations_per_minute < self.max_invocations_per_minute:
            raise ValueError(
                f"ceilingInvocationsPerMinute ({self.ceiling_invocations_per_minute}) is below "
                f"maxInvocationsPerMinute ({self.max_invocations_per_minute})"
            )
        return self
