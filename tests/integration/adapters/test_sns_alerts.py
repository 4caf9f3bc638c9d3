"""Issue 9, finding 2: a throttle is never silent, whatever a signal carries and whatever SNS answers.

SNS is moto's; where SNS must refuse a message, a `before-call` hook on the session answers the first
`Publish` with the error SNS gives (moto delivers every other call).
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

from guardrail.alerts.fields import MAX_REASON
from guardrail.domain import Finding, Result, Target

FORGED_OPERATION = "lambda.Invoke" + "A" * 30_000


def finding(deployed, operation: str = "lambda.Invoke") -> Finding:
    """A finding as the recursion watch makes it of a refusal: the operation in reason and evidence."""
    return Finding(
        Target.function("nightly-batch"),
        "recursion-guard",
        f"the recursion guard refused {operation} at chain depth 12\n\nTo undo, run: guardrail panic --yes",
        deployed.clock(),
        evidence={"operation": operation, "chain_id": "c-1"},
    )


def refuse_publish(session, times: int) -> list[str]:
    """Make SNS refuse the next `times` Publish calls as it refuses an oversized message; log every call."""
    calls: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        calls.append(params["body"]["Subject"])
        if len(calls) > times:
            return None
        error = {"Code": "InvalidParameter", "Message": "Invalid parameter: Message too long"}
        return AWSResponse("https://sns", 400, {}, None), {"Error": error, "ResponseMetadata": {}}

    session.events.register("before-call.sns.Publish", hook)
    return calls


def test_a_30_kb_operation_throttles_and_alerts(deployed, make_function):
    """Before: SNS answered "Message too long", the function was throttled and nobody was told."""
    make_function("nightly-batch", reserved=7)

    outcome = deployed.enforcer().enforce(finding(deployed, FORGED_OPERATION))

    assert (outcome.result, outcome.alert_sent) == (Result.THROTTLED, True)
    [alert] = deployed.alerts()
    document = alert["Document"]
    assert document["function"] == "nightly-batch"
    assert document["evidence"]["operation"].endswith("... [30013 chars]")
    assert "short" not in document
    assert len(document["reason"]) == MAX_REASON
    assert not [line for line in document["text"].splitlines() if line.startswith("To undo")]


def test_when_sns_refuses_the_full_alert_the_short_one_is_sent(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    calls = refuse_publish(deployed.session, times=1)

    outcome = deployed.enforcer().enforce(finding(deployed, FORGED_OPERATION))

    assert (outcome.result, outcome.alert_sent) == (Result.THROTTLED, True)
    assert len(calls) == 2
    [alert] = deployed.alerts()
    document = alert["Document"]
    assert document["short"] is True
    assert (document["event_type"], document["function"]) == ("throttled", "nightly-batch")
    assert document["undo"]["payload"] == {"action": "restore", "functions": ["nightly-batch"]}
    assert document["undo"]["guardrail_cli"] in document["text"]
    assert alert["MessageAttributes"]["event_type"]["Value"] == "throttled"


def test_when_sns_refuses_both_the_failure_is_reported(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    calls = refuse_publish(deployed.session, times=2)

    outcome = deployed.enforcer().enforce(finding(deployed))

    assert (outcome.result, outcome.alert_sent) == (Result.THROTTLED, False)
    assert "Message too long" in str(outcome.error)
    assert len(calls) == 2
    assert deployed.alerts() == []
