"""The recursion watch's deployed rules, matched against AWS's sample events (tests/events/).

The patterns are read from the synthesized template and matched with devtools/event_bridge.py's
matcher (the one the stand-in routes events with), which matches arrays of objects as EventBridge does.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.event_bridge import pattern_matches
from tests.events import sample, samples

pytestmark = pytest.mark.infra


def rule_pattern(synthesized: Any, rule_id: str) -> dict[str, Any]:
    """The deployed pattern of the service stack's rule whose logical id starts with `rule_id`."""
    rules = synthesized.service_template.find_resources("AWS::Events::Rule")
    [pattern] = [r["Properties"]["EventPattern"] for lid, r in rules.items() if rule_id in lid]
    return dict(pattern)


def matching(synthesized: Any, rule_id: str, folder: str) -> list[str]:
    pattern = rule_pattern(synthesized, rule_id)
    return [name for name in samples(folder) if pattern_matches(pattern, sample(folder, name))]


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


def test_the_alarm_rule_matches_the_alarm_on_lambdas_dropped_recursions(synthesized):
    assert matching(synthesized, "DroppedRecursionAlarms", "cloudwatch") == [
        "alarm_recursive_invocations_dropped"
    ]
