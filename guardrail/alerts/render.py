"""Pure rendering of an action into an SNS message."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

SCHEMA_VERSION = "1"


class EventType(StrEnum):
    """Kinds of alert, also sent as the `event_type` message attribute."""

    THROTTLED = "throttled"
    WOULD_THROTTLE = "would-throttle"
    RESTORED = "restored"
    CLEARED = "cleared"
    THROTTLE_FAILED = "throttle-failed"
    RESTORE_FAILED = "restore-failed"


_UNDO_ACTION = {
    EventType.THROTTLED: "restore",
    EventType.WOULD_THROTTLE: "restore",
    EventType.RESTORED: "throttle",
    EventType.CLEARED: "throttle",
}

_HEADLINE = {
    EventType.THROTTLED: "throttled {function} (reserved concurrency set to 0)",
    EventType.WOULD_THROTTLE: "would throttle {function} (notify-only mode: nothing was changed)",
    EventType.RESTORED: "restored {function}",
    EventType.CLEARED: "cleared the notify-only flag on {function}",
    EventType.THROTTLE_FAILED: "FAILED to throttle {function}",
    EventType.RESTORE_FAILED: "FAILED to restore {function}",
}


@dataclass(frozen=True)
class AlertEvent:
    """An action the guardrail took (or would have taken) on one function."""

    event_type: EventType
    function: str
    detector: str
    reason: str
    at: datetime
    region: str
    kill_switch_function: str
    prior_reservation: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Alert:
    """A rendered SNS message."""

    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, str]

    def sns_message(self) -> str:
        """The `Message` for `MessageStructure=json`: text for e-mail, the document for machines."""
        doc = json.dumps(self.document, sort_keys=True, default=str)
        return json.dumps(
            {
                "default": self.text,
                "email": self.text,
                "email-json": doc,
                "sqs": doc,
                "lambda": doc,
                "http": doc,
                "https": doc,
            }
        )


def undo_command(event: AlertEvent) -> dict[str, Any] | None:
    """The exact commands that undo this action, or None when there is nothing to undo."""
    action = _UNDO_ACTION.get(event.event_type)
    if action is None:
        return None
    payload: dict[str, Any] = {"action": action, "functions": [event.function]}
    if action == "throttle":
        payload["reason"] = f"re-apply guardrail throttle ({event.detector})"
    cli_reason = f" --reason {shlex.quote(payload['reason'])}" if "reason" in payload else ""
    return {
        "action": action,
        "payload": payload,
        "aws_cli": (
            f"aws lambda invoke --region {event.region} --function-name {event.kill_switch_function}"
            f" --cli-binary-format raw-in-base64-out"
            f" --payload {shlex.quote(json.dumps(payload, separators=(',', ':')))} /dev/stdout"
        ),
        "guardrail_cli": (
            f"guardrail --region {event.region} --function-name {event.kill_switch_function}"
            f" {action} {shlex.quote(event.function)}{cli_reason}"
        ),
    }


def render(event: AlertEvent) -> Alert:
    """Render one action as an SNS alert."""
    headline = _HEADLINE[event.event_type].format(function=event.function)
    undo = undo_command(event)
    prior = "none (unreserved)" if event.prior_reservation is None else str(event.prior_reservation)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "source": "runaway-guardrail",
        "event_type": event.event_type.value,
        "function": event.function,
        "region": event.region,
        "detector": event.detector,
        "reason": event.reason,
        "time": event.at.isoformat(),
        "action": headline,
        "prior_reserved_concurrency": event.prior_reservation,
        "evidence": dict(event.evidence),
        "undo": undo,
    }
    if event.error:
        document["error"] = event.error
    lines: list[str] = [
        f"Runaway Guardrail {headline}.",
        "",
        f"Function:            {event.function} ({event.region})",
        f"Detector:            {event.detector}",
        f"Reason:              {event.reason}",
        f"Time:                {event.at.isoformat()}",
        f"Prior reservation:   {prior}",
    ]
    if event.error:
        lines.append(f"Error:               {event.error}")
    if event.evidence:
        lines += ["", "Evidence:"]
        lines += [f"  {key}: {_short(value)}" for key, value in sorted(event.evidence.items())]
    if undo is not None:
        lines += [
            "",
            f"To {undo['action']} it:",
            f"  {undo['guardrail_cli']}",
            "or",
            f"  {undo['aws_cli']}",
        ]
    text = "\n".join(lines) + "\n"
    document["text"] = text  # the e-mail body, for chat forwarders and other machine subscribers
    subject = f"[guardrail] {headline}"
    return Alert(
        subject=subject if len(subject) <= 100 else subject[:97] + "...",
        text=text,
        document=document,
        attributes={
            "event_type": event.event_type.value,
            "function": event.function,
            "detector": event.detector,
        },
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."
