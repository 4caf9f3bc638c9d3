"""The invocation scan's configuration: `detectors["invocation-scan"]` in cdk.json."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from guardrail.config.base import Float, Int, StrictModel

DETECTOR = "invocation-scan"


class InvocationScanConfig(StrictModel):
    """Thresholds of the per-minute invocation scan."""

    KEY_PATH: ClassVar[str] = f"guardrail.detectors.{DETECTOR}"

    #: A function invoked this often in one minute is a runaway, whatever its history.
    max_invocations_per_minute: Annotated[Int, Field(ge=1)] = 3000
    #: ... or this many times its own baseline (mean per minute over `baseline_minutes`) ...
    spike_ratio: Annotated[Float, Field(gt=1)] = 10.0
    #: ... once it is invoked at least this often in a minute (small numbers are noise).
    spike_min_invocations_per_minute: Annotated[Int, Field(ge=1)] = 300
    baseline_minutes: Annotated[Int, Field(ge=5, le=1440)] = 60
    #: The account-level check drills down per function when the account's rate rises this much.
    account_rise_per_minute: Annotated[Int, Field(ge=1)] = 300
    #: A full per-function sweep at this interval anyway (0: never), for runaways already in the baseline.
    full_sweep_every_minutes: Annotated[Int, Field(ge=0, le=1440)] = 60
