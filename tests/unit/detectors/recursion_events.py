"""The events the recursion watch reads (AWS Health's loop notices), as EventBridge delivers them."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nightly-batch"


def envelope(source: str, detail_type: str, detail: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-28T02:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
        **extra,
    }


def health_event(code: str = "AWS_LAMBDA_RUNAWAY_TERMINATION_NOTIFICATION", **extra: Any) -> dict[str, Any]:
    """An AWS Health event of the shape AWS documents for a recursive loop Lambda stopped."""
    return envelope(
        "aws.health",
        "AWS Health Event",
        {
            "eventArn": f"arn:aws:health:us-east-1::event/LAMBDA/{code}/{code}_abc123",
            "service": "LAMBDA",
            "eventTypeCode": code,
            "eventTypeCategory": "accountNotification",
            "startTime": "Sat, 28 Nov 2026 02:00:00 GMT",
            "eventDescription": [{"language": "en_US", "latestDescription": "Lambda stopped a loop."}],
            "affectedEntities": [{"entityValue": FUNCTION_ARN}],
        },
        resources=[FUNCTION_ARN],
        **extra,
    )
