"""Alerts for AWS Chatbot: the `https` key of the SNS message holds a custom notification (pure)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from guardrail.alerts import Phase, render, render_notice
from guardrail.alerts.chat import MAX_DESCRIPTION, chat_notification, sns_message
from guardrail.domain import Notice, Target
from tests.unit.alert_events import AT, event
from tests.unit.chatbot_schema import CustomNotification

UNDO = "guardrail --region us-west-2 --function-name runaway-guardrail-kill-switch restore nightly-batch"


def chat(alert) -> CustomNotification:
    """The notification Chatbot's https subscription receives, validated against the documented schema."""
    return CustomNotification.model_validate(json.loads(json.loads(sns_message(alert))["https"]))


def test_a_throttle_reaches_chat_with_the_evidence_in_short_and_the_undo_command():
    notification = chat(render(event()))
    content = notification.content
    assert content.title == ":rotating_light: Runaway Guardrail: throttled function `nightly-batch`"
    assert content.textType == "client-markdown"
    lines = content.description.splitlines()
    assert lines[0] == "`throttled nightly-batch (reserved concurrency set to 0)`"
    assert "*Detector:* `athena-watch`" in lines
    assert "*Reason:* `412 queries in 5 minutes`" in lines
    assert "*Prior:* `7`" in lines
    assert lines[-1] == '*Evidence:* `cross_region` `["ap-northeast-1"]`, `queries` `412`'
    assert content.nextSteps[0] == f"To restore it: `{UNDO}`"
    assert content.nextSteps[1].startswith("or: `aws lambda invoke --region us-west-2")
    assert content.nextSteps[2] == "What the guardrail did to it: `guardrail history nightly-batch`"
    assert content.keywords == ["throttled", "athena-watch", "us-west-2"]
    assert notification.metadata.threadId == "runaway-guardrail/function/nightly-batch"
    assert notification.metadata.relatedResources == ["nightly-batch"]


@pytest.mark.parametrize(
    "alert",
    [
        render(event(phase=Phase.RESTORED)),
        render(event(phase=Phase.APPLY_FAILED, error="AccessDenied")),
        render(event(phase=Phase.BREAKER_OPEN)),
        render(event(phase=Phase.WOULD_APPLY, target=Target.workgroup("primary"), prior="ENABLED")),
        render_notice(Notice("alice", "athena-watch", "12 queries", AT, {"queries": 12}), region="us-west-2"),
        render(event()).fallback,
    ],
    ids=["restored", "failed", "breaker", "workgroup", "notice", "short"],
)
def test_every_kind_of_alert_validates_against_the_schema(alert):
    notification = chat(alert)
    assert notification.content.description
    assert notification.metadata.eventType == alert.document["event_type"]


def test_an_unverified_signal_says_so_in_chat():
    notice = Notice("nightly-batch", "recursion-watch", "refusal", AT, {}, doubt="sender is not the guard")
    notification = chat(render_notice(notice, region="us-west-2"))
    assert notification.content.title.startswith(":warning: Runaway Guardrail: unverified subject")
    lines = notification.content.description.splitlines()
    assert lines[0].startswith("`UNVERIFIED signal naming nightly-batch")
    assert "*Unverified:* `sender is not the guard`" in lines


def test_values_from_outside_cannot_format_mention_or_link():
    evil = "<!channel> `x` *bold* <https://evil.example|click>"
    notification = chat(
        render_notice(Notice(evil, "athena-watch", evil, AT, {evil: evil}), region="us-west-2")
    )
    text = notification.content.title + notification.content.description
    assert "<" not in text and ">" not in text
    assert "`x`" not in text  # a backtick from outside never closes the code span
    assert "\u2039!channel\u203a 'x' *bold*" in text


def test_the_description_is_bounded():
    alert = render(event(evidence={f"k{i}": "v" * 300 for i in range(25)}, reason="r" * 1000))
    notification = chat(alert)
    assert len(notification.content.description) <= MAX_DESCRIPTION
    assert "(+17 more)" in notification.content.description
    assert UNDO in notification.content.nextSteps[0]  # the undo command is never cut


def test_email_and_json_subscribers_get_exactly_what_they_got_before():
    alert = render(event())
    before, now = json.loads(alert.sns_message()), json.loads(sns_message(alert))
    assert set(now) == set(before)
    assert {k: v for k, v in now.items() if k != "https"} == {k: v for k, v in before.items() if k != "https"}
    assert now["default"] == now["email"] == alert.text
    assert json.loads(now["sqs"]) == json.loads(now["lambda"]) == alert.document
    assert chat_notification(replace(alert, document={**alert.document, "event_type": "drift"}))["content"][
        "title"
    ].startswith(":rotating_light:")
