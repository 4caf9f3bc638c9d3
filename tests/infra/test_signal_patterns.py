"""The recursion watch's deployed rules, matched against AWS's sample events (tests/events/).

The patterns are read from the synthesized template and matched with moto's EventBridge pattern
matcher (the one devtools/event_bridge.py routes the stand-in's events with).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from tests.events import sample, samples

pytestmark = pytest.mark.infra


def rule_pattern(synthesized: Any, rule_id: str) -> EventPattern:
    """The deployed pattern of the service stack's rule whose logical id starts with `rule_id`."""
    rules = synthesized.service_template.find_resources("AWS::Events::Rule")
    [pattern] = [r["Properties"]["EventPattern"] for lid, r in rules.items() if rule_id in lid]
    return EventPattern.load(json.dumps(pattern))


def matching(synthesized: Any, rule_id: str, folder: str) -> list[str]:
    pattern = rule_pattern(synthesized, rule_id)
    return [name for name in samples(folder) if pattern.matches_event(sample(folder, name))]


def test_the_health_rule_matches_lambdas_loop_notice_and_each_of_its_copies(synthesized):
    assert matching(synthesized, "HealthRecursiveLoops", "health") == [
        "lambda_runaway_termination",
        "lambda_runaway_termination_arn_entity",
        "lambda_runaway_termination_backup_region",
        "lambda_runaway_termination_organizational_view",
    ]


def test_the_alarm_rule_matches_no_alarm_on_another_metric(synthesized):
    assert "alarm_state_change_single_metric" not in matching(
        synthesized, "DroppedRecursionAlarms", "cloudwatch"
    )
    assert "alarm_state_change_metric_math" not in matching(
        synthesized, "DroppedRecursionAlarms", "cloudwatch"
    )


@pytest.mark.xfail(
    strict=True,
    reason="moto's matcher does not match a pattern on an array of objects (detail.configuration.metrics) as"
    " EventBridge does; devtools/event_bridge.py is being taught to (issue 20)",
)
def test_the_alarm_rule_matches_the_alarm_on_lambdas_dropped_recursions(synthesized):
    assert matching(synthesized, "DroppedRecursionAlarms", "cloudwatch") == [
        "alarm_recursive_invocations_dropped"
    ]
