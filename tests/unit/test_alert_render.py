import json
import shlex
from datetime import UTC, datetime

from guardrail.alerts import AlertEvent, EventType, render


def event(**overrides):
    values = {
        "event_type": EventType.THROTTLED,
        "function": "nightly-batch",
        "detector": "athena-watch",
        "reason": "412 queries in 5 minutes",
        "at": datetime(2026, 11, 28, 2, 30, tzinfo=UTC),
        "region": "us-west-2",
        "kill_switch_function": "runaway-guardrail-kill-switch",
        "prior_reservation": 7,
        "evidence": {"queries": 412, "cross_region": ["ap-northeast-1"]},
    }
    return AlertEvent(**{**values, **overrides})


def test_throttle_alert_names_everything_and_the_undo_command():
    alert = render(event())

    doc = alert.document
    assert (doc["event_type"], doc["function"], doc["detector"], doc["prior_reserved_concurrency"]) == (
        "throttled",
        "nightly-batch",
        "athena-watch",
        7,
    )
    assert doc["time"] == "2026-11-28T02:30:00+00:00"
    assert doc["evidence"]["queries"] == 412
    undo = doc["undo"]
    assert undo["payload"] == {"action": "restore", "functions": ["nightly-batch"]}
    argv = shlex.split(undo["aws_cli"])
    assert argv[:3] == ["aws", "lambda", "invoke"]
    assert json.loads(argv[argv.index("--payload") + 1]) == undo["payload"]
    assert "runaway-guardrail-kill-switch" in argv
    assert undo["guardrail_cli"] in alert.text
    assert "Prior reservation:   7" in alert.text
    assert alert.attributes == {
        "event_type": "throttled",
        "function": "nightly-batch",
        "detector": "athena-watch",
    }


def test_sns_message_carries_text_for_email_and_json_for_machines():
    alert = render(event(prior_reservation=None))
    message = json.loads(alert.sns_message())

    assert message["default"] == message["email"] == alert.text
    assert (
        json.loads(message["sqs"])
        == json.loads(message["lambda"])
        == json.loads(message["https"])
        == alert.document
    )
    assert "none (unreserved)" in alert.text


def test_restore_alert_offers_to_throttle_again_and_failures_offer_nothing():
    assert render(event(event_type=EventType.RESTORED)).document["undo"]["action"] == "throttle"
    failed = render(event(event_type=EventType.THROTTLE_FAILED, error="AccessDenied: no"))
    assert failed.document["undo"] is None
    assert "FAILED" in failed.subject
    assert "AccessDenied" in failed.text


def test_subject_fits_sns_limit():
    assert len(render(event(function="f" * 64, event_type=EventType.WOULD_THROTTLE)).subject) <= 100
