"""`guardrail`: call the deployed kill switch from a terminal, with readable output and exit codes.

Panic and `restore --all` are confirmed (typed, or `--yes`) after the prompt names the kill switch's
account and region and the places they act in, and are sent with the kill switch's confirmation token,
`"confirm": "panic-<account id>"` or `"restore-all-<account id>"`. The kill switch is invoked once and
waited for as long as it may run: never retried, since a retried panic is a second panic. Exit codes:
grammar.EXIT_CODES.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from guardrail_cli.aws import CliError, KillSwitch, account_of, caller, invoke, kill_switch, session_for
from guardrail_cli.grammar import (
    ASKED_BY,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    destructive,
    parse,
    request_for,
)
from guardrail_cli.output import print_json, render, say

_PROBLEMS = {"not-found", "error"}


def main(argv: Sequence[str] | None = None, *, session: boto3.session.Session | None = None) -> int:
    """Entry point of the `guardrail` console command."""
    args = parse(None if argv is None else list(argv))
    try:
        session = session or session_for(args)
        target = kill_switch(session, args)
        request = request_for(args)
        if what := destructive(args):
            account = account_of(session, target, args.endpoint_url)
            if not args.yes and not _confirmed(args, what, target, account):
                say(f"{what} cancelled", sys.stderr)
                return EXIT_REJECTED
            request["confirm"] = f"{what}-{account}"
        if args.action in ASKED_BY:
            request["by"] = caller(session, args.endpoint_url)
        answer = invoke(session, target, args.endpoint_url, request)
    except CliError as exc:
        say(f"guardrail: {exc}", sys.stderr)
        return exc.code
    except KeyboardInterrupt:  # the request may be running: never send it again blindly
        say("guardrail: interrupted; the kill switch may still be acting: see `guardrail status`", sys.stderr)
        return EXIT_UNREACHABLE
    if args.json:
        print_json(answer, sys.stdout)
    else:
        render(answer, sys.stdout)
    return exit_code(answer)


def exit_code(answer: dict[str, Any]) -> int:
    """The exit code an answer calls for."""
    if not answer.get("ok"):
        return EXIT_REJECTED
    return EXIT_PARTIAL if any(r["result"] in _PROBLEMS for r in answer.get("results", [])) else EXIT_OK


def prompt(args: argparse.Namespace, what: str, target: KillSwitch, account: str) -> str:
    """The question a destructive request asks: what it does, where, and through which kill switch."""
    accounts = ", ".join(args.accounts) or (account if what == "panic" else "")
    regions = ", ".join(args.regions) or (target.region if what == "panic" else "")
    where = (
        " and ".join(filter(None, (accounts and f"account {accounts}", regions and f"region {regions}")))
        or "every account and region it watches"
    )
    through = f"(kill switch {target.function.split(':')[-1]} in account {account}, region {target.region})"
    if what == "panic":
        return f"Throttle EVERY non-exempt function in {where}? {through} Type 'panic': "
    return (
        f"Restore EVERY function and workgroup the guardrail holds in {where}? {through} Type 'restore all': "
    )


def _confirmed(args: argparse.Namespace, what: str, target: KillSwitch, account: str) -> bool:
    if not sys.stdin.isatty():
        say(f"guardrail: {what} needs confirmation: pass --yes to confirm", sys.stderr)
        return False
    answer = "panic" if what == "panic" else "restore all"
    try:
        return input(prompt(args, what, target, account)).strip() == answer
    except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C at the prompt: cancelled, not a traceback
        print(file=sys.stderr)
        return False
