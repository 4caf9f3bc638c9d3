"""The scan's handler on real EventBridge events (tests/events/eventbridge, sources in SOURCES.md)."""

from __future__ import annotations

import pytest

from devtools.lambda_runtime import lambda_context
from guardrail.handlers import invocation_scan
from tests.conftest import REGION
from tests.events import load

CONTEXT = lambda_context("runaway-guardrail-invocation-scan")


@pytest.fixture
def scan_env(deployed, monkeypatch):
    for name, value in {**deployed.settings.to_env(), "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


def test_powertools_scheduled_event_is_scanned_for_its_minute_once_it_has_the_envelopes_version(scan_env):
    """Powertools' fixture lacks `version`, which EventBridge always sends ("0"): refused, then scanned."""
    event = load("eventbridge/powertools-scheduled-event.json")

    refused = invocation_scan.handler(event, CONTEXT)
    answer = invocation_scan.handler({**event, "version": "0"}, CONTEXT)

    assert (refused["ok"], refused["error"]) == (
        False,
        "not a scheduled EventBridge event: version: Field required",
    )
    assert (answer["ok"], answer["drilled_down"], answer["why"]) == (True, False, "account quiet")


@pytest.mark.parametrize(
    ("sample", "problem"),
    [
        (
            "eventbridge/powertools-eventBridgeEvent.json",
            "source: Value error, a schedule's event comes from",
        ),
        ("eventbridge/powertools-cloudtrail-s3-head-object.json", "a schedule's event comes from aws.events"),
        ("athena/query-state-change-succeeded.json", "a schedule's event comes from aws.events"),
    ],
)
def test_events_of_other_kinds_are_refused_not_scanned(scan_env, sample, problem):
    answer = invocation_scan.handler(load(sample), CONTEXT)
    assert answer["ok"] is False
    assert problem in answer["error"]
    assert "detail-type" in answer["error"] or "Scheduled Event" in answer["error"]
