"""`pattern_matches` matches arrays as EventBridge does (the bridge's rules are matched with it).

Examples from the EventBridge User Guide, "Arrays in Amazon EventBridge event patterns"
(docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html), and, for arrays of
objects, the shape of AWS Health events (`detail.affectedEntities`, see tests/events/health).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from devtools.event_bridge import pattern_matches


def load(pattern: dict[str, Any]) -> dict[str, Any]:
    """The pattern as the bridge holds it: parsed and validated by moto."""
    return EventPattern.load(json.dumps(pattern)).get_pattern()


DOC_PATTERN = {
    "resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
    ]
}


def test_the_guides_example_matches_because_the_arrays_intersect():
    """'the first item in the event pattern array matches the second item in the event array'."""
    event = {
        "resources": [
            "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025"
            ":autoScalingGroupName/ASGTerminate",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        ]
    }
    assert pattern_matches(load(DOC_PATTERN), event)


def test_arrays_that_do_not_intersect_do_not_match():
    event = {"resources": ["arn:aws:ec2:us-east-1:999999999999:instance/i-b188560f"]}
    assert not pattern_matches(load(DOC_PATTERN), event)
    assert not pattern_matches(load(DOC_PATTERN), {"resources": []})
    assert not pattern_matches(load(DOC_PATTERN), {})


FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function"
HEALTH = {
    "source": "aws.health",
    "detail": {
        "service": "LAMBDA",
        "affectedEntities": [
            {"entityValue": "arn:aws:lambda:us-east-1:123456789012:function:orders", "tags": {"team": "a"}},
            {"entityValue": "arn:aws:lambda:us-east-1:123456789012:function:loop", "tags": {"team": "b"}},
        ],
    },
}


@pytest.mark.parametrize(
    ("detail", "matched"),
    [
        (
            {"affectedEntities": {"entityValue": ["arn:aws:lambda:us-east-1:123456789012:function:loop"]}},
            True,
        ),
        ({"affectedEntities": {"entityValue": [{"suffix": ":function:orders"}]}}, True),
        ({"affectedEntities": {"entityValue": [f"{FUNCTION}:x"]}}, False),
        ({"affectedEntities": {"tags": {"team": ["b"]}}}, True),  # a nested field inside an element
        ({"affectedEntities": {"tags": {"team": ["c"]}}}, False),
        ({"affectedEntities": {"entityValue": [{"exists": True}]}}, True),
        ({"affectedEntities": {"missing": [{"exists": False}]}}, True),
        ({"affectedEntities": {"entityValue": [{"exists": False}]}}, False),
    ],
)
def test_a_pattern_under_an_array_of_objects_matches_when_an_element_does(detail, matched):
    assert pattern_matches(load({"source": ["aws.health"], "detail": detail}), HEALTH) is matched


def test_the_fields_of_one_nested_pattern_are_matched_within_one_element():
    """orders is team a, loop is team b: no single entity is loop of team a."""
    pattern = {
        "detail": {
            "affectedEntities": {
                "entityValue": ["arn:aws:lambda:us-east-1:123456789012:function:loop"],
                "tags": {"team": ["a"]},
            }
        }
    }
    assert not pattern_matches(load(pattern), HEALTH)
    pattern["detail"]["affectedEntities"]["tags"]["team"] = ["b"]
    assert pattern_matches(load(pattern), HEALTH)


def test_moto_stops_at_arrays_of_objects_where_eventbridge_goes_on():
    """Why the bridge has its own matcher: moto's never looks inside an array of objects."""
    pattern = {"detail": {"affectedEntities": {"tags": {"team": ["b"]}}}}
    assert EventPattern.load(json.dumps(pattern)).matches_event(HEALTH) is False
    assert pattern_matches(load(pattern), HEALTH) is True


def test_scalars_compare_as_json_values_and_or_takes_any_alternative():
    assert not pattern_matches(load({"detail": {"flag": [True]}}), {"detail": {"flag": 1}})
    assert pattern_matches(load({"detail": {"n": [1]}}), {"detail": {"n": 1.0}})
    either = load({"$or": [{"source": ["aws.athena"]}, {"detail": {"n": [{"numeric": [">", 5]}]}}]})
    assert pattern_matches(either, {"source": "x", "detail": {"n": [3, 7]}})
    assert not pattern_matches(either, {"source": "x", "detail": {"n": [3]}})
