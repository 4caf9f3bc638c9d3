"""The scan's handler on real EventBridge events (tests/events/eventbridge, sources in SOURCES.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.lambda_runtime import lambda_context
from guardrail.domain import Condition, Notice, Result
from guardrail.handlers import invocation_scan
from tests.conftest import ACCOUNT, REGION
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


READ = "sales.orders (ap-northeast-1)"


def recurring_read(deployed, at: datetime) -> None:
    """A cross-region read at `at`, told once in full, then twice more counted for that day's digest."""
    deployed.clock.now = at
    enforcer = deployed.enforcer()
    notice = Notice(
        subject="nightly-batch",
        detector="athena-watch",
        reason="read 2 GB stored in ap-northeast-1",
        observed_at=at,
        account=ACCOUNT,
        region=REGION,
        condition=Condition(("cross-region", REGION, READ), 2 << 30, f"cross-region read of {READ}"),
    )
    assert [enforcer.notify(notice) for _ in range(3)] == [Result.ALERTED, Result.DIGESTED, Result.DIGESTED]
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["alerted"]


def scheduled_at(at: datetime) -> dict:
    """Powertools' scheduled event with the envelope's `version`, for the minute `at`."""
    event = load("eventbridge/powertools-scheduled-event.json")
    return {**event, "version": "0", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_the_first_scan_after_midnight_sends_the_days_digest_once_without_athena_traffic(scan_env, deployed):
    """A day's recurring condition reaches people the next morning even if no Athena event comes."""
    now = datetime.now(UTC)
    recurring_read(deployed, now - timedelta(days=1))
    scheduled = scheduled_at(now)

    first = invocation_scan.handler(scheduled, CONTEXT)
    again = invocation_scan.handler({**scheduled, "id": "another-minute"}, CONTEXT)

    assert first["ok"] and again["ok"]
    [digest] = [a["Document"] for a in deployed.alerts()]
    assert (digest["event_type"], digest["day"]) == ("digest", f"{now - timedelta(days=1):%Y-%m-%d}")
    [condition] = digest["conditions"]
    assert (condition["condition"], condition["count"]) == (f"cross-region read of {READ}", 2)


def test_a_scan_event_claiming_tomorrow_sends_no_digest_of_a_day_not_yet_over(scan_env, deployed):
    """Anyone allowed to invoke the scan can send it any `time`: the digest's day is the guardrail's clock."""
    now = datetime.now(UTC)
    recurring_read(deployed, now)

    answer = invocation_scan.handler(scheduled_at(now + timedelta(days=1, minutes=5)), CONTEXT)

    assert answer["ok"]
    assert deployed.alerts() == []
