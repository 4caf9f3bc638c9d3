"""Alerts for chat: AWS Chatbot (Amazon Q Developer in chat applications) custom notifications.

Chatbot subscribes to the alert topic with the `https` protocol, so with `MessageStructure=json` it
receives the message's `https` key. `sns_message` sets that key to a custom notification (version
`1.0`, source `custom`, content and metadata) built from the rendered alert's document; every other
key (`default`, `email`, `email-json`, `sqs`, `lambda`, `http`) stays exactly what `render` wrote.

Names, reasons and evidence come from outside: each is shown inside a code span, without backticks or
angle brackets, so that no value can format the message, mention a channel or form a link.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from guardrail.alerts.fields import clean
from guardrail.alerts.render import Alert

VERSION = "1.0"
SOURCE = "custom"
TEXT_TYPE = "client-markdown"
#: Bounds in characters: a chat message stays short and well under SNS's limit.
MAX_DESCRIPTION = 3000
MAX_VALUE = 300
MAX_COMMAND = 1000  # an undo command is never cut
MAX_EVIDENCE_ITEMS = 8
_EMOJI = {
    "throttled": ":rotating_light:",
    "disabled": ":rotating_light:",
    "drift": ":rotating_light:",
    "restored": ":white_check_mark:",
    "cleared": ":white_check_mark:",
}
_FAILED = ":x:"
_OTHER = ":warning:"  # would-throttle, breaker-open, alerted
_TARGET_KEYS = ("function", "workgroup", "subject")
_UNSAFE = str.maketrans({"`": "'", "<": "\u2039", ">": "\u203a"})


def sns_message(alert: Alert) -> str:
    """The alert's `MessageStructure=json` message with its `https` key in Chatbot's format."""
    message = json.loads(alert.sns_message())
    message["https"] = json.dumps(chat_notification(alert), ensure_ascii=False)
    return json.dumps(message, ensure_ascii=False)


def chat_notification(alert: Alert) -> dict[str, Any]:
    """The custom notification of one alert: title, description, the evidence in short, next steps."""
    doc = alert.document
    event_type = str(doc.get("event_type", "alerted"))
    key = next((k for k in _TARGET_KEYS if k in doc), "subject")
    name = clean(doc.get(key, "?"), MAX_VALUE)
    emoji = _FAILED if event_type.endswith("-failed") else _EMOJI.get(event_type, _OTHER)
    return {
        "version": VERSION,
        "source": SOURCE,
        "content": {
            "textType": TEXT_TYPE,
            "title": f"{emoji} Runaway Guardrail: {clean(event_type, 64)} {key} {code(name)}",
            "description": _description(doc, key),
            "nextSteps": _next_steps(doc, key, name),
            "keywords": [
                clean(doc.get(k, ""), 64) for k in ("event_type", "detector", "region") if doc.get(k)
            ],
        },
        "metadata": {
            "threadId": clean(f"runaway-guardrail/{key}/{name}", 256),
            "summary": clean(f"Runaway Guardrail {event_type} {key} {name}", 256),
            "eventType": clean(event_type, 64),
            "relatedResources": [name],
            "additionalContext": {
                k: clean(doc[k], MAX_VALUE) for k in ("detector", "region", "time") if k in doc
            },
        },
    }


def code(value: object, limit: int = MAX_VALUE) -> str:
    """`value` as an inline code span that cannot close itself, mention anyone or form a link."""
    return f"`{clean(value, limit).translate(_UNSAFE)}`"


def _description(doc: dict[str, Any], key: str) -> str:
    lines = [code(doc.get("action", ""))]
    fields = [
        (key.capitalize(), f"{code(doc.get(key, '?'))} ({code(doc.get('region', '?'))})"),
        ("Detector", code(doc.get("detector", ""))),
        ("Reason", code(doc.get("reason", ""))),
        ("Time", code(doc.get("time", ""))),
    ]
    for prior in ("prior_reserved_concurrency", "prior_state"):
        if prior in doc:
            fields.append(("Prior", code("none" if doc[prior] is None else doc[prior])))
    if doc.get("unverified"):  # a signal the guardrail could not verify: it changed nothing
        fields.append(("Unverified", code(doc["unverified"])))
    if doc.get("error"):
        fields.append(("Error", code(doc["error"])))
    fields += [("Not done", code(item)) for item in doc.get("not_done", [])]
    lines += [f"*{label}:* {value}" for label, value in fields]
    evidence = list(dict(doc.get("evidence") or {}).items())
    if evidence:
        shown = [f"{code(k)} {code(json.dumps(v, default=str, ensure_ascii=False))}" for k, v in evidence]
        more = len(shown) - MAX_EVIDENCE_ITEMS
        lines.append(
            "*Evidence:* " + ", ".join(shown[:MAX_EVIDENCE_ITEMS]) + (f" (+{more} more)" if more > 0 else "")
        )
    if doc.get("short"):
        lines.append("(Short alert: the full one could not be sent. `guardrail status` shows the details.)")
    text = "\n".join(lines)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 4] + " ..."


def _next_steps(doc: dict[str, Any], key: str, name: str) -> list[str]:
    undo = doc.get("undo")
    steps = []
    if undo:
        steps += [
            f"To {clean(undo['action'], 16)} it: {code(undo['guardrail_cli'], MAX_COMMAND)}",
            f"or: {code(undo['aws_cli'], MAX_COMMAND)}",
        ]
    if key in {"function", "workgroup"}:
        operand = shlex.quote(name) if key == "function" else f"--workgroup {shlex.quote(name)}"
        steps.append(f"What the guardrail did to it: {code(f'guardrail history {operand}')}")
    return steps
