"""Which of an alarm's functions Lambda's own metric bears out (pure, with the metric faked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guardrail.detectors.recursion_alarms import alarm_window, check_alarms
from guardrail.domain import Finding, Target
from guardrail.errors import AwsCallFailed

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def alarm_finding(name: str, period: int = 60, alarm: str = "dropped") -> Finding:
    return Finding(
        target=Target.function(name, "123456789012", "us-east-1"),
        detector="aws-recursive-loop",
        reason="alarm",
        observed_at=AT,
        evidence={"alarm": alarm, "metric_period": period},
        dedupe_key=f"k:{name}",
    )


class Metric:
    """Lambda's datapoints by function; a function in `broken` cannot be read."""

    def __init__(self, drops: dict[str, float], broken: frozenset[str] = frozenset()) -> None:
        self.drops, self.broken = drops, broken
        self.asked: list[tuple[str, datetime, datetime]] = []

    def recursive_drops(self, function: str, *, start: datetime, end: datetime) -> float:
        self.asked.append((function, start, end))
        if function in self.broken:
            raise AwsCallFailed("Throttling", "slow down")
        return self.drops.get(function, 0.0)


def test_the_window_is_the_alarms_last_periods_and_a_minute_on_bounded():
    assert alarm_window(alarm_finding("f")) == (AT - timedelta(minutes=10), AT + timedelta(minutes=1))
    assert alarm_window(alarm_finding("f", period=300))[0] == AT - timedelta(minutes=30)
    assert alarm_window(alarm_finding("f", period=86400))[0] == AT - timedelta(hours=6, minutes=5)


def test_borne_out_functions_are_enforced_the_rest_are_one_notice_per_alarm():
    metric = Metric({"a": 3.0, "b": 0.0}, broken=frozenset({"c"}))
    other = Finding(target=Target.function("d"), detector="recursion-guard", reason="r", observed_at=AT)
    checked = check_alarms(
        [alarm_finding("a"), alarm_finding("b"), alarm_finding("c"), other], metrics=lambda _a, _r: metric
    )

    assert [f.target.name for f in checked.enforce] == ["a", "d"]
    assert checked.enforce[0].evidence["recursive_invocations_dropped"] == 3.0
    [held] = checked.held_back
    assert [t.name for t in held.targets] == ["b", "c"]
    assert "b (none), c (unreadable: " in held.notice.doubt
    assert held.notice.subject == "alarm dropped"
    assert held.notice.dedupe_key.endswith(":dropped:2026-11-28T02")  # type: ignore[union-attr]


def test_a_finding_already_in_doubt_is_not_read_again():
    metric = Metric({})
    doubted = alarm_finding("a").unverified("from an account not watched")
    assert check_alarms([doubted], metrics=lambda _a, _r: metric).enforce == [doubted]
    assert metric.asked == []
