"""The local bridges that stand in for Lambda execution and EventBridge delivery on moto."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from devtools.event_bridge import EventBusBridge
from devtools.lambda_runtime import LambdaRuntime
from tests.integration import sample_handlers


@pytest.fixture
def bus(aws, sample_functions):
    events = aws.client("events")
    pattern = {
        "source": ["guardrail"],
        "detail-type": ["Recursion Depth Exceeded"],
        "detail": {"depth": [{"numeric": [">", 3]}]},
    }
    events.put_rule(Name="deep-chains", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="deep-chains",
        Targets=[{"Id": "1", "Arn": _arn("recorder")}, {"Id": "2", "Arn": _arn("exploder")}],
    )
    events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    events.put_targets(
        Rule="every-minute", Targets=[{"Id": "1", "Arn": _arn("recorder"), "Input": '{"scan": true}'}]
    )
    return EventBusBridge(aws, LambdaRuntime(aws))


def _arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def test_events_reach_targets_only_through_matching_rules(bus):
    delivered = bus.put(
        {"source": "guardrail", "detail-type": "Recursion Depth Exceeded", "detail": {"depth": 5}}
    )
    missed = bus.put(
        {"source": "guardrail", "detail-type": "Recursion Depth Exceeded", "detail": {"depth": 2}}
    )

    assert missed == []
    assert [(d.rule, d.function) for d in delivered] == [
        ("deep-chains", "recorder"),
        ("deep-chains", "exploder"),
    ]
    assert delivered[0].result == {"function": "recorder"}
    assert delivered[1].error == "ValueError: boom"
    [event] = sample_handlers.RECEIVED
    assert event["detail"] == {"depth": 5}
    assert event["account"] == "123456789012"
    assert event["id"]


def test_schedules_fire_with_their_constant_input(bus):
    [delivery] = bus.fire_schedules(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    assert (delivery.rule, delivery.function, delivery.event) == ("every-minute", "recorder", {"scan": True})


def test_lambda_runtime_runs_the_deployed_handler_with_its_environment(aws, bus, monkeypatch):
    monkeypatch.delenv("SAMPLE_SETTING", raising=False)
    seen = {}

    def spy(event, context):
        seen["setting"] = os.environ.get("SAMPLE_SETTING")
        return "ok"

    monkeypatch.setattr(sample_handlers, "record", spy)
    assert LambdaRuntime(aws).run("recorder", {}) == "ok"
    assert seen == {"setting": "recorder"}
    assert "SAMPLE_SETTING" not in os.environ
