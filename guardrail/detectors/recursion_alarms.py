"""Pure: an alarm on `RecursiveInvocationsDropped` is believed only where Lambda's own metric bears it out.

Anyone allowed `cloudwatch:PutMetricAlarm` can create an alarm on `AWS/Lambda`
`RecursiveInvocationsDropped` naming any functions, and force it to ALARM (`SetAlarmState`, or
`TreatMissingData=breaching` with no data at all). The alarm's state proves nothing; the metric does:
only Lambda writes `AWS/Lambda` (CloudWatch refuses `PutMetricData` to any `AWS/` namespace). So a
function an alarm names is acted on only when CloudWatch holds a `RecursiveInvocationsDropped`
datapoint above 0 for it (`FunctionName` dimension) in the alarm's window, in the function's own
account and region. The functions it does not bear out are one unverified notice per alarm, which
changes nothing (docs/trust-model.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from guardrail.domain import Finding, Notice, Target
from guardrail.errors import AwsCallFailed

#: The evidence keys an alarm finding carries (set by `recursion_signals`).
ALARM = "alarm"
METRIC_PERIOD = "metric_period"
#: How many of the alarm's periods before its state change are read (an alarm evaluates up to a few).
PERIODS_READ = 5
#: Lambda's datapoints and the alarm's evaluation can lag the drop by a few minutes.
SLACK = timedelta(minutes=5)
#: The most of the past an alarm with a long period makes us read.
LONGEST_WINDOW = timedelta(hours=6)


class DroppedInvocations(Protocol):
    """CloudWatch's `AWS/Lambda` `RecursiveInvocationsDropped`, in one account and region."""

    def recursive_drops(self, function: str, *, start: datetime, end: datetime) -> float:
        """The sum of the function's datapoints in [start, end)."""
        ...


@dataclass(frozen=True)
class HeldBack:
    """An alarm's functions the metric did not bear out: one notice, and the targets it speaks for."""

    notice: Notice
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class AlarmCheck:
    """The findings to enforce (alarm findings borne out, and every other finding), and what was held back."""

    enforce: list[Finding]
    held_back: list[HeldBack] = field(default_factory=list)


def is_alarm_finding(finding: Finding) -> bool:
    """True for a finding made from an alarm (whose evidence names it)."""
    return ALARM in finding.evidence


def alarm_window(finding: Finding) -> tuple[datetime, datetime]:
    """The span of Lambda's metric an alarm finding is checked against: its last periods, and a minute on."""
    period = timedelta(seconds=int(finding.evidence.get(METRIC_PERIOD, 60)))
    back = min(max(period, timedelta(minutes=1)) * PERIODS_READ, LONGEST_WINDOW) + SLACK
    return finding.observed_at - back, finding.observed_at + timedelta(minutes=1)


def check_alarms(
    findings: Sequence[Finding], *, metrics: Callable[[str, str], DroppedInvocations]
) -> AlarmCheck:
    """Keep the alarm findings Lambda's metric bears out; gather the rest per alarm, to be alerted once.

    `metrics(account, region)` reads the metric where the function is. A metric that cannot be read
    bears nothing out: the notice says so.
    """
    enforce: list[Finding] = []
    doubted: dict[str, list[tuple[Finding, str]]] = {}
    for finding in findings:
        if not is_alarm_finding(finding) or finding.doubt:
            enforce.append(finding)
            continue
        start, end = alarm_window(finding)
        target = finding.target
        try:
            dropped = metrics(target.account, target.region).recursive_drops(
                target.name, start=start, end=end
            )
        except AwsCallFailed as exc:
            doubted.setdefault(str(finding.evidence[ALARM]), []).append((finding, f"unreadable: {exc}"))
            continue
        if dropped > 0:
            enforce.append(
                replace(finding, evidence={**finding.evidence, "recursive_invocations_dropped": dropped})
            )
        else:
            doubted.setdefault(str(finding.evidence[ALARM]), []).append((finding, "none"))
    return AlarmCheck(enforce, [_held_back(alarm, doubts) for alarm, doubts in doubted.items()])


def _held_back(alarm: str, doubts: list[tuple[Finding, str]]) -> HeldBack:
    first = doubts[0][0]
    start, end = alarm_window(first)
    names = ", ".join(f"{f.target.name} ({why})" for f, why in doubts)
    doubt = (
        f"CloudWatch holds no AWS/Lambda RecursiveInvocationsDropped datapoint above 0"
        f" in account {first.target.account}, region {first.target.region}"
        f" between {start:%Y-%m-%dT%H:%M}Z and {end:%H:%M}Z for: {names}."
        " Only Lambda writes that metric; an alarm's state alone is anyone's word"
    )
    notice = Notice(
        subject=f"alarm {alarm}",
        detector=first.detector,
        reason=first.reason,
        observed_at=first.observed_at,
        evidence={**first.evidence, "functions": [f.target.name for f, _ in doubts]},
        dedupe_key=(
            f"unverified:{first.detector}:alarm:{first.target.account}:{first.target.region}:{alarm}"
            f":{first.observed_at:%Y-%m-%dT%H}"
        ),
        doubt=doubt,
        account=first.target.account,
        region=first.target.region,
    )
    return HeldBack(notice, tuple(f.target for f, _ in doubts))
