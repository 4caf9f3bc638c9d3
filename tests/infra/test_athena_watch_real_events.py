"""Every deployed rule pattern of the Athena watch, on real AWS sample events (tests/events).

The patterns are read from the synthesized templates (the default app, and the fleet app with its
forwarding stacks and the signal bus's twins) and matched as EventBridge does
(`devtools.event_bridge.pattern_matches`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from devtools.event_bridge import pattern_matches
from guardrail.detectors.athena.query_events import API_CALL, STATE_CHANGE
from guardrail.recursion.query_started import QUERY_STARTED
from tests.events import load, via_eventbridge

pytestmark = pytest.mark.infra

#: Each sample, and the kind of rule that must deliver it (None: no rule of the watch).
SAMPLES: dict[str, tuple[dict[str, Any], str | None]] = {
    "state change (AWS docs)": (load("athena/query-state-change-succeeded.json"), STATE_CHANGE),
    "start by an IAM user (AWS docs)": (
        via_eventbridge(load("cloudtrail/athena-start-query-execution-iam-user.json")),
        API_CALL,
    ),
    "failed start (AWS docs)": (
        via_eventbridge(load("cloudtrail/athena-start-query-execution-failed.json")),
        API_CALL,
    ),
    "start by a function's session (Panther)": (
        via_eventbridge(load("cloudtrail/athena-start-query-execution-assumed-role.json")),
        API_CALL,
    ),
    "CreateNamedQuery (AWS docs)": (via_eventbridge(load("cloudtrail/athena-create-named-query.json")), None),
    "EC2 state change (Powertools)": (load("eventbridge/powertools-eventBridgeEvent.json"), None),
    "schedule (Powertools)": (load("eventbridge/powertools-scheduled-event.json"), None),
    "S3 HeadObject via CloudTrail (Powertools)": (
        load("eventbridge/powertools-cloudtrail-s3-head-object.json"),
        None,
    ),
}
WATCHED = (STATE_CHANGE, API_CALL, QUERY_STARTED)


def athena_rules(outdir: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(template, rule, pattern) of every rule in `outdir` that matches on one of the watch's detail-types."""
    rules = []
    for template in sorted(outdir.glob("*.template.json")):
        resources = json.loads(template.read_text()).get("Resources", {})
        for logical_id, resource in resources.items():
            pattern = resource.get("Properties", {}).get("EventPattern")
            if resource["Type"] == "AWS::Events::Rule" and set((pattern or {}).get("detail-type", ())) & set(
                WATCHED
            ):
                rules.append((template.name, logical_id, pattern))
    return rules


def check(rules: list[tuple[str, str, dict[str, Any]]]) -> None:
    assert rules
    wrong = []
    for template, logical_id, raw in rules:
        pattern = EventPattern.load(json.dumps(raw)).get_pattern()
        for name, (event, kind) in SAMPLES.items():
            if pattern_matches(pattern, event) is not (kind in raw["detail-type"]):
                wrong.append(
                    f"{template} {logical_id} {'missed' if kind in raw['detail-type'] else 'took'} {name}"
                )
    assert wrong == []


def test_the_default_apps_rules_deliver_exactly_the_athena_events(synthesized):
    rules = athena_rules(synthesized.outdir)
    assert {kind for _, _, pattern in rules for kind in pattern["detail-type"]} == set(WATCHED)
    check(rules)


def test_the_fleets_forwarding_and_twin_rules_deliver_exactly_the_athena_events(fleet):
    rules = athena_rules(fleet.outdir)
    assert len(rules) > len(WATCHED)  # the forwarding stacks' rules and the signal bus's twins
    check(rules)
