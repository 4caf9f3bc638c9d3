"""A sample alert event (a throttle by the Athena watch) for the alert renderers' tests."""

from datetime import UTC, datetime

from guardrail.alerts import AlertEvent, Phase
from guardrail.domain import Target

AT = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)


def event(**overrides):
    values = {
        "phase": Phase.APPLIED,
        "target": Target.function("nightly-batch"),
        "detector": "athena-watch",
        "reason": "412 queries in 5 minutes",
        "at": AT,
        "region": "us-west-2",
        "kill_switch_function": "runaway-guardrail-kill-switch",
        "prior": 7,
        "evidence": {"queries": 412, "cross_region": ["ap-northeast-1"]},
    }
    return AlertEvent(**{**values, **overrides})
