"""Inputs the property tests found that crashed a handler or got acted on; each is now refused.

Every one is delivered as Lambda would deliver it, against moto, through `World.check`: the handler
answers (no exception), the answer is JSON, and nothing changed.
"""

from __future__ import annotations

from guardrail.handlers import invocation_scan
from tests.properties.harness import LambdaContext
from tests.properties.samples import schedule

INVOCATION_SCAN = LambdaContext("runaway-guardrail-invocation-scan")


def test_scan_refuses_what_is_not_an_eventbridge_event(world):
    answer = world.check(invocation_scan.handler, INVOCATION_SCAN, None)
    assert answer == {
        "ok": False,
        "error": "not a scheduled EventBridge event: event: Input should be a "
        "valid dictionary or instance of ScheduledEvent",
    }


def test_scan_refuses_a_time_that_leaves_no_room_for_its_window(world):
    for at in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):  # OverflowError in the window's arithmetic
        answer = world.check(invocation_scan.handler, INVOCATION_SCAN, schedule(at))
        assert answer["ok"] is False
        assert "no room for the scan's window" in answer["error"]
