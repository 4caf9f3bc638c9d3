"""Chat alerts through SNS on moto: Chatbot's `https` key holds a custom notification; the queue's stays.

moto cannot deliver to Chatbot's https endpoint, so the `https` key is read from the Publish call itself
(a `before-call` hook that lets the call through); the SQS subscriber's message is read from its queue.
"""

from __future__ import annotations

import json

from guardrail.domain import Finding, Result, Target
from tests.unit.chatbot_schema import CustomNotification


def published(session) -> list[dict]:
    messages: list[dict] = []
    session.events.register(
        "before-call.sns.Publish", lambda params, **_: messages.append(json.loads(params["body"]["Message"]))
    )
    return messages


def test_a_throttle_alert_reaches_chatbot_in_its_format_and_the_queue_as_before(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    messages = published(deployed.session)
    finding = Finding(Target.function("nightly-batch"), "athena-watch", "412 queries", deployed.clock())

    assert deployed.enforcer().enforce(finding).result is Result.THROTTLED

    [message] = messages
    notification = CustomNotification.model_validate(json.loads(message["https"]))
    assert "restore nightly-batch" in notification.content.nextSteps[0]
    [received] = deployed.alerts()
    assert received["Document"] == json.loads(message["sqs"])  # the JSON document, as before
    assert received["Document"]["undo"]["action"] == "restore"
    assert "https" not in received["Document"]
