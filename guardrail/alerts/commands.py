"""The exact commands an alert tells people to run: one kill-switch request, as `aws` and as `guardrail`."""

from __future__ import annotations

import json
import shlex
from typing import Any


def kill_switch_call(
    payload: dict[str, Any], arguments: str, *, region: str, function: str
) -> dict[str, Any]:
    """`payload` for the kill switch `function` in `region`: the `aws lambda invoke` and `guardrail` lines.

    `arguments` are the `guardrail` command's words after the kill switch's options (`restore batch`).
    """
    at = f"--region {region} --function-name {function}"
    return {
        "action": payload["action"],
        "payload": payload,
        "aws_cli": (
            f"aws lambda invoke {at}"
            f" --cli-binary-format raw-in-base64-out"
            f" --payload {shlex.quote(json.dumps(payload, separators=(',', ':')))} /dev/stdout"
        ),
        "guardrail_cli": f"guardrail {at} {arguments}",
    }


def account_call(
    action: str, account: str, *, region: str, function: str, reason: str = ""
) -> dict[str, Any]:
    """The `pause` (with `reason`) or `resume` of `account`, as `kill_switch_call` gives it."""
    payload: dict[str, Any] = {"action": action, "account": account}
    arguments = f"{action} --account {shlex.quote(account)}"
    if action == "pause":
        payload["reason"] = reason
        arguments += f" --reason {shlex.quote(reason)}"
    return kill_switch_call(payload, arguments, region=region, function=function)
