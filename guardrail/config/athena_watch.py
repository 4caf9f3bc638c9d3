"""The Athena watch's configuration: `detectors["athena-watch"]` in cdk.json."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, PlainSerializer, PlainValidator, model_validator

from guardrail.config.base import Bool, Float, Int, StrictModel

DETECTOR = "athena-watch"
_CALLER = re.compile(
    r"[A-Za-z0-9_-]{1,64}"
    r"|arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}"
    r"|arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+"
)
_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


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


def _active_hours(value: Any) -> ActiveHours | None:
    if value is None or isinstance(value, ActiveHours):
        return value
    match = _HOURS.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"expected 'HH:MM-HH:MM' (UTC) or null, got {value!r}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if (h1, m1) == (h2, m2):
        raise ValueError(f"the span {value!r} is empty")
    return ActiveHours(time(h1, m1), time(h2, m2))


Positive = Annotated[Int, Field(gt=0)]
PositiveUsd = Annotated[Float, Field(gt=0)]
#: Written as "HH:MM-HH:MM" (UTC), or null for none.
Hours = Annotated[
    ActiveHours | None, PlainValidator(_active_hours), PlainSerializer(str, when_used="unless-none")
]


class Rules(StrictModel):
    """The limits one caller or one workgroup is held to."""

    max_queries_per_window: Positive
    max_queries_per_day: Positive
    max_cost_per_day_usd: PositiveUsd
    #: Callers only: outside these hours every query is a finding.
    active_hours_utc: Hours = None
    #: Workgroups only: disable the workgroup when a caller that is not a Lambda function runs away.
    disable_on_runaway: Bool = False


class CallerRules(Rules):
    """A caller's rules; what a section leaves out is the built-in default.

    The window (60 in 5 minutes, 12 a minute) stops a fast loop without history in minutes; the day's
    cost ($200) stops an expensive one, at the incident's $0.11 a query after about 1,750 queries. The
    day's count is the ceiling for a loop of cheap queries too slow for the window: 10,000 holds a busy
    caller (1 million queries a month from 10 callers is 3,300 a day each; `make bench`'s busy account)
    and still stops a cheap loop of one query every 8 s within a day. Slower loops are the learned
    signatures' (`overrun`, `rate-vs-baseline`).
    """

    max_queries_per_window: Positive = 60
    max_queries_per_day: Positive = 10_000
    max_cost_per_day_usd: PositiveUsd = 200.0


class WorkgroupRules(Rules):
    """A workgroup's rules; what a section leaves out is the built-in default.

    A workgroup's limits guard against many callers at once (its breaches alert, or disable the
    workgroup where configured; they never throttle a caller): 1,000 queries in 5 minutes and 100,000
    a day are more than twice what a workgroup of 1 million queries a month runs in its busiest 5
    minutes and day, even with all of it in weekdays' office hours (76 a minute, 45,000 a day).
    """

    max_queries_per_window: Positive = 1_000
    max_queries_per_day: Positive = 100_000
    max_cost_per_day_usd: PositiveUsd = 500.0


class Signature(StrEnum):
    """A loop signature: a way a caller leaves its own baseline."""

    REPEATED_STATEMENT = "repeated-statement"
    AFTER_WINDOW = "after-usual-window"
    RATE = "rate-vs-baseline"
    GROWTH = "steady-growth"
    ACCELERATION = "acceleration"
    OVERRUN = "overrun"


class Baselines(StrictModel):
    """Learned baselines and the loop signatures read against them (the fixed limits stay ceilings)."""

    enabled: Bool = True
    #: Until a caller's history covers this many days, only the fixed limits apply to it.
    min_history_days: Annotated[Float, Field(ge=1, le=28)] = 2.0
    #: Days of hours kept per caller and workgroup (the record's bound).
    history_days: Annotated[Int, Field(ge=2, le=35)] = 28
    #: From this much history on, an hour is compared with the same hour of the same weekday (never, if
    #: it is more than historyDays).
    weekly_after_days: Annotated[Int, Field(ge=7, le=35)] = 14
    #: An hour is learned this long after it ended (later deliveries are left to the fixed limits).
    settle_minutes: Annotated[Int, Field(ge=0, le=59)] = 15
    #: The statements kept per caller: the most run in one hour.
    top_fingerprints: Annotated[Int, Field(ge=1, le=200)] = 50
    #: repeated-statement: more runs of one statement in the last two hours than
    #: max(repeatRatio x its most in one hour, repeatMinQueries).
    repeat_ratio: Annotated[Float, Field(ge=1)] = 3.0
    repeat_min_queries: Annotated[Int, Field(ge=2)] = 5
    #: after-usual-window: still querying this long after the hours it is active in.
    after_window_grace_minutes: Annotated[Int, Field(ge=0, le=59)] = 15
    #: rate-vs-baseline: more queries in the window than max(rateRatio x usual, rateMinQueries).
    rate_ratio: Annotated[Float, Field(gt=1)] = 5.0
    rate_min_queries: Annotated[Int, Field(ge=1)] = 20
    #: steady-growth: the same hour grew on each of the last growthDays days, now growthRatio x the first.
    growth_days: Annotated[Int, Field(ge=2, le=14)] = 3
    growth_ratio: Annotated[Float, Field(gt=1)] = 2.0
    #: acceleration: 4 starts of a caller closer together than its busiest pace of the day's earlier
    #: hours allows: accelerationRatio x that pace, and at least accelerationFloor queries a minute.
    acceleration_ratio: Annotated[Float, Field(gt=1)] = 5.0
    acceleration_floor: Annotated[Float, Field(gt=0)] = 6.0
    #: The signatures that throttle a (CloudTrail-verified) Lambda caller; the others alert.
    throttle_on: tuple[Signature, ...] = (
        Signature.REPEATED_STATEMENT,
        Signature.RATE,
        Signature.ACCELERATION,
        Signature.OVERRUN,
    )

    @model_validator(mode="after")
    def _learned_within_history(self) -> Baselines:
        if self.min_history_days > self.history_days:
            raise ValueError(
                f"minHistoryDays ({self.min_history_days}) is more than historyDays ({self.history_days})"
            )
        return self


class AthenaWatchConfig(StrictModel):
    """Everything the Athena watch can be configured with; every field has a default."""

    KEY_PATH: ClassVar[str] = f"guardrail.detectors.{DETECTOR}"

    window_minutes: Annotated[Int, Field(ge=1, le=60)] = 5
    caller: CallerRules = CallerRules()
    workgroup: WorkgroupRules = WorkgroupRules()
    #: Overrides by caller (a function name, or the ARN of a user or role) and by workgroup name; what
    #: an override leaves out comes from `caller` / `workgroup`.
    callers: Mapping[str, CallerRules] = Field(default_factory=dict)
    workgroups: Mapping[str, WorkgroupRules] = Field(default_factory=dict)
    cross_region: CrossRegionAction = CrossRegionAction.ALERT
    usd_per_tb: Annotated[Float, Field(ge=0)] = 5.0
    transfer_usd_per_gb: Annotated[Float, Field(ge=0)] = 0.09
    #: At least 25, so that a day's counters outlive the day.
    counter_ttl_hours: Annotated[Int, Field(ge=25)] = 48
    baselines: Baselines = Baselines()
    #: Deploy-time only: create a CloudTrail trail for management events (the caller signal needs one).
    create_trail: Bool = False

    @model_validator(mode="after")
    def _callers_name_a_place(self) -> AthenaWatchConfig:
        for caller in self.callers:
            if not _CALLER.fullmatch(caller):
                raise ValueError(
                    f"callers: {caller!r} is neither a function name (the home account's), a function's"
                    " unqualified ARN nor an IAM principal's ARN"
                )
        return self

    @model_validator(mode="before")
    @classmethod
    def _overrides_inherit(cls, data: Any) -> Any:
        """Fill each override's missing keys from the `caller` / `workgroup` section it refines."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for base_key, overrides_key in (("caller", "callers"), ("workgroup", "workgroups")):
            base = data.get(base_key, {})
            if isinstance(base, BaseModel):
                base = base.model_dump(by_alias=True)
            overrides = data.get(overrides_key)
            if isinstance(base, Mapping) and isinstance(overrides, Mapping):
                data[overrides_key] = {
                    name: {**base, **value} if isinstance(value, Mapping) else value
                    for name, value in overrides.items()
                }
        return data

    def caller_rules(self, caller: str, *, function_arn: str | None = None, at_home: bool = True) -> Rules:
        """The rules for one caller: its override, or the defaults.

        An override names a place: a bare function name is the home account's function's (`at_home`);
        another account's function is named by its ARN (`function_arn`, unqualified); a principal's
        ARN names its account already.
        """
        if function_arn is not None and function_arn in self.callers:
            return self.callers[function_arn]
        if at_home or ":" in caller:
            return self.callers.get(caller, self.caller)
        return self.caller

    def workgroup_rules(self, workgroup: str) -> Rules:
        """The rules for one workgroup: its override, or the defaults."""
        return self.workgroups.get(workgroup, self.workgroup)
