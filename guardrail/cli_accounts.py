"""The `guardrail` command's `pause` and `resume` of an account, and the paused accounts `status` lists.

Like cli.py, an operator's tool outside the functions' asset: it imports nothing from the runtime.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import boto3

ACCOUNT_ACTIONS = frozenset({"pause", "resume"})


def add_account_commands(commands: Any) -> None:
    """`pause --account ID --reason ...` and `resume --account ID` (`commands`: argparse's subparsers)."""
    pause = commands.add_parser(
        "pause", help="until resumed, alert on an account's automatic findings and act on none of them"
    )
    pause.add_argument("--account", required=True, metavar="ID", help="the account's 12-digit id")
    pause.add_argument("--reason", required=True)
    resume = commands.add_parser("resume", help="enforce a paused account's automatic findings again")
    resume.add_argument("--account", required=True, metavar="ID", help="the account's 12-digit id")


def account_request(args: argparse.Namespace) -> dict[str, Any]:
    """The kill-switch request of a `pause` or `resume` (without who asks: see `caller`)."""
    request = {"action": args.action, "account": args.account}
    return request | ({"reason": args.reason} if args.action == "pause" else {})


def caller(session: boto3.session.Session, endpoint_url: str | None) -> str:
    """Who asks, for the pause's record: the caller's ARN, by `sts get-caller-identity`."""
    return str(session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Arn"])


def render_accounts(answer: dict[str, Any], out: TextIO) -> None:
    """Print a `pause` or `resume` answer: the account, what happened, and the pause."""
    for result in answer.get("results", []):
        extra = [str(result[key]) for key in ("detail", "error") if result.get(key)]
        if "by" in result and not result.get("detail"):
            extra.insert(0, f"by {result['by']} since {result['since']}: {result['reason']}")
        if result.get("alert_sent") is False:
            extra.append("ALERT NOT SENT")
        line = f"{answer['action']}: account {result['account']}  {result['result']}  {'; '.join(extra)}"
        print(line.rstrip(), file=out)


def render_paused(answer: dict[str, Any], out: TextIO) -> None:
    """Print the paused accounts that a `status` answer lists (nothing when none is paused)."""
    for pause in answer.get("paused_accounts", []):
        print(
            f" PAUSED account {pause['account']} (automatic findings alerted, not applied)"
            f" by {pause['by']} since {pause['since']}: {pause['reason']}",
            file=out,
        )
