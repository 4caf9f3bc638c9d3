"""`guardrail`: call the deployed kill switch from a terminal, with readable output and exit codes.

`history` reads the audit trail through the kill switch too (operators need no access to the ledger).
`pause` and `resume` switch an account's automatic enforcement off and on (cli_accounts.py), sending
the caller's ARN as who asks.

Exit codes: 0 done; 1 done, but some functions or workgroups were not found or failed; 2 the
request was rejected (bad arguments, not confirmed, or the kill switch answered an error); 3 the kill
switch could not be reached or failed.

Panic and `restore --all` are confirmed (typed, or `--yes`) and sent with the kill switch's confirmation
token, `"confirm": "panic-<account id>"` or `"restore-all-<account id>"`. The kill switch is invoked once
and waited for as long as it may run: never retried, since a retried panic is a second panic.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from guardrail.cli_accounts import (
    ACCOUNT_ACTIONS,
    account_request,
    add_account_commands,
    caller,
    render_accounts,
    render_paused,
)
from guardrail.cli_history import label, render_history, since_time

DEFAULT_STACK = "RunawayGuardrailService"
#: The kill switch's Lambda timeout (infra/guardrail.py; a test keeps the two equal).
KILL_SWITCH_TIMEOUT_SECONDS = 600
#: Wait longer than the kill switch may run, and only once: a retried panic is a second panic.
LAMBDA_CLIENT_CONFIG = Config(
    connect_timeout=10,
    read_timeout=KILL_SWITCH_TIMEOUT_SECONDS + 60,
    retries={"total_max_attempts": 1, "mode": "standard"},
    tcp_keepalive=True,
)
EXIT_OK, EXIT_PARTIAL, EXIT_REJECTED, EXIT_UNREACHABLE = 0, 1, 2, 3
_PROBLEMS = {"not-found", "error"}


class CliError(Exception):
    """A failure to reach the kill switch, with the exit code it maps to."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = argparse.ArgumentParser(prog="guardrail", description="Runaway Guardrail's kill switch.")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--function-name", help="the kill switch function (default: read from the stack)")
    target.add_argument(
        "--stack",
        default=DEFAULT_STACK,
        help=f"stack with the KillSwitchFunctionName output ({DEFAULT_STACK})",
    )
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. a local stand-in")
    parser.add_argument("--json", action="store_true", help="print the kill switch's raw JSON answer")
    commands = parser.add_subparsers(dest="action", required=True)
    throttle = commands.add_parser(
        "throttle", help="set functions' reserved concurrency to 0, disable Athena workgroups"
    )
    throttle.add_argument("functions", nargs="*", metavar="FUNCTION", help="name or ARN")
    _workgroup_option(throttle)
    _place_options(throttle, "where the FUNCTIONs named by name are (default: the kill switch's)")
    throttle.add_argument("--reason", required=True)
    restore = commands.add_parser("restore", help="put back what functions and workgroups had before")
    restore.add_argument("functions", nargs="*", metavar="FUNCTION", help="name or ARN")
    _workgroup_option(restore)
    _place_options(restore, "where the FUNCTIONs named by name are; with --all: only these (repeatable)")
    restore.add_argument(
        "--all", action="store_true", help="every function and workgroup the guardrail holds"
    )
    restore.add_argument("--yes", action="store_true", help="do not ask to confirm --all")
    commands.add_parser("status", help="list the functions and workgroups the guardrail holds")
    panic = commands.add_parser(
        "panic", help="throttle every non-exempt function of the accounts and regions given"
    )
    panic.add_argument("--reason", required=True)
    _place_options(panic, "the accounts and regions to panic in (repeatable; default: the kill switch's own)")
    panic.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    history = commands.add_parser("history", help="the audit trail, newest first (default: every target)")
    history.add_argument("function", nargs="?", metavar="FUNCTION", help="one function's trail")
    history.add_argument("--workgroup", help="one Athena workgroup's trail")
    _place_options(history, "where the FUNCTION named by name is (default: the kill switch's)")
    history.add_argument("--since", type=since_time, help="7d, 24h, 30m, or an ISO date or time (UTC)")
    history.add_argument("--limit", type=int, default=100, help="at most this many entries (100)")
    add_account_commands(commands)
    return parser


def _workgroup_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--workgroup",
        dest="workgroups",
        action="append",
        default=[],
        metavar="WORKGROUP",
        help="an Athena workgroup (repeat for more)",
    )


def _place_options(command: argparse.ArgumentParser, what: str) -> None:
    """`--account` and `--region` after the command say where its targets are.

    Before the command, `--region` is the region of the kill switch itself.
    """
    command.add_argument("--account", dest="accounts", action="append", default=[], metavar="ID", help=what)
    command.add_argument("--region", dest="regions", action="append", default=[], metavar="REGION", help=what)


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject what the grammar alone lets through: no target named, or names with --all."""
    if args.action == "history" and args.function and args.workgroup:
        parser.error("history takes a FUNCTION or a --workgroup, not both")
    several = args.action in {"throttle", "history"} or (args.action == "restore" and not args.all)
    if several and (len(getattr(args, "accounts", [])) > 1 or len(getattr(args, "regions", [])) > 1):
        parser.error(f"{args.action} takes one --account and one --region (name others by ARN)")
    if args.action not in {"throttle", "restore"}:
        return
    named = bool(args.functions or args.workgroups)
    if getattr(args, "all", False) and named:
        parser.error("restore --all takes no FUNCTION or --workgroup")
    if not named and not getattr(args, "all", False):
        parser.error(
            f"{args.action} needs a FUNCTION, a --workgroup"
            + (" or --all" if args.action == "restore" else "")
        )


def destructive(args: argparse.Namespace) -> str | None:
    """What the request destroys and must confirm (`panic`, `restore-all`), or None."""
    if args.action == "panic":
        return "panic"
    return "restore-all" if args.action == "restore" and args.all else None


def request_for(args: argparse.Namespace) -> dict[str, Any]:
    """The kill-switch request that the parsed arguments ask for (without its confirmation)."""
    if args.action in ACCOUNT_ACTIONS:
        return account_request(args)
    places = {key: value for key in ("accounts", "regions") if (value := getattr(args, key, None))}
    one_place = {key.removesuffix("s"): value[0] for key, value in places.items()}
    if args.action in {"throttle", "restore"}:
        request: dict[str, Any] = {"action": args.action}
        if getattr(args, "all", False):
            return {**request, "functions": "all", "workgroups": "all", **places}
        request |= {key: getattr(args, key) for key in ("functions", "workgroups") if getattr(args, key)}
        return request | one_place | ({"reason": args.reason} if args.action == "throttle" else {})
    if args.action == "panic":
        return {"action": "panic", "reason": args.reason, **places}
    if args.action == "history":
        request = {"action": "history", "limit": args.limit, **one_place}
        request |= {key: getattr(args, key) for key in ("function", "workgroup") if getattr(args, key)}
        return request | ({"since": args.since.isoformat()} if args.since else {})
    return {"action": "status"}


def invoke(
    session: boto3.session.Session, args: argparse.Namespace, request: dict[str, Any]
) -> dict[str, Any]:
    """Invoke the kill switch once, synchronously, confirming a destructive request; return its answer."""
    try:
        name = args.function_name or _kill_switch_from_stack(session, args)
        if what := destructive(args):
            request = {**request, "confirm": f"{what}-{_account(session, args, name)}"}
        if args.action in ACCOUNT_ACTIONS:
            request = {**request, "by": caller(session, args.endpoint_url)}
        client = session.client("lambda", endpoint_url=args.endpoint_url, config=LAMBDA_CLIENT_CONFIG)
        response = client.invoke(
            FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(request).encode()
        )
        body = response["Payload"].read()
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"could not invoke the kill switch: {exc}", EXIT_UNREACHABLE) from exc
    if response.get("FunctionError"):
        raise CliError(f"the kill switch failed: {body.decode(errors='replace')}", EXIT_UNREACHABLE)
    answer: dict[str, Any] = json.loads(body)
    return answer


def _account(session: boto3.session.Session, args: argparse.Namespace, function: str) -> str:
    """The account of the kill switch: from its ARN, or the caller's own."""
    if function.startswith("arn:"):
        return function.split(":")[4]
    identity = session.client("sts", endpoint_url=args.endpoint_url).get_caller_identity()
    return str(identity["Account"])


def _kill_switch_from_stack(session: boto3.session.Session, args: argparse.Namespace) -> str:
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    stack = cloudformation.describe_stacks(StackName=args.stack)["Stacks"][0]
    for output in stack.get("Outputs", []):
        if output["OutputKey"] == "KillSwitchFunctionName":
            return str(output["OutputValue"])
    raise CliError(f"stack {args.stack} has no KillSwitchFunctionName output", EXIT_UNREACHABLE)


def exit_code(answer: dict[str, Any]) -> int:
    """The exit code an answer calls for."""
    if not answer.get("ok"):
        return EXIT_REJECTED
    return EXIT_PARTIAL if any(r["result"] in _PROBLEMS for r in answer.get("results", [])) else EXIT_OK


def render(answer: dict[str, Any], out: TextIO) -> None:
    """Print the answer for a person."""
    if not answer.get("ok"):
        error = answer.get("error", {})
        print(f"rejected: {error.get('message', answer)}", file=out)
        return
    if answer.get("action") == "history":
        render_history(answer, out)
        return
    if answer.get("action") in ACCOUNT_ACTIONS:
        render_accounts(answer, out)
        return
    results = answer.get("results", [])
    counts = [f"{sum('function' in r for r in results)} function(s)"]
    if any("workgroup" in r for r in results):
        counts.append(f"{sum('workgroup' in r for r in results)} workgroup(s)")
    print(f"{answer['action']} ({answer.get('mode', 'enforce')}): {', '.join(counts)}", file=out)
    width = max((len(label(r)) for r in results), default=0)
    shown_place = None
    for result in sorted(results, key=_place) if any("account" in r for r in results) else results:
        if "account" in result and _place(result) != shown_place:
            shown_place = _place(result)
            print(f" account {shown_place[0]}, region {shown_place[1]}:", file=out)
        extra = []
        for key in ("prior_reservation", "prior_state"):
            if key in result:
                prior = result[key]
                extra.append(f"{key.replace('_', ' ')} {'none' if prior is None else prior}")
        for key in ("since", "detector", "detail", "error"):
            if result.get(key):
                extra.append(f"{key} {result[key]}")
        if result.get("alert_sent") is False:
            extra.append("ALERT NOT SENT")
        print(f"  {label(result):<{width}}  {result['result']:<17} {'; '.join(extra)}".rstrip(), file=out)
    render_paused(answer, out)


def _place(result: dict[str, Any]) -> tuple[str, str]:
    return str(result.get("account", "")), str(result.get("region", ""))


def main(argv: Sequence[str] | None = None, *, session: boto3.session.Session | None = None) -> int:
    """Entry point of the `guardrail` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check(parser, args)
    what = destructive(args)
    if what and not args.yes and not _confirmed(args, what):
        print(f"{what} cancelled", file=sys.stderr)
        return EXIT_REJECTED
    session = session or boto3.session.Session(region_name=args.region, profile_name=args.profile)
    try:
        answer = invoke(session, args, request_for(args))
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        render(answer, sys.stdout)
    return exit_code(answer)


_CONFIRM = {
    "panic": ("Throttle EVERY non-exempt function in {region}?", "panic"),
    "restore-all": ("Restore EVERY function and workgroup the guardrail holds in {region}?", "restore all"),
}


def _confirmed(args: argparse.Namespace, what: str) -> bool:
    question, answer = _CONFIRM[what]
    if not sys.stdin.isatty():
        print(f"{what} needs confirmation: pass --yes to confirm", file=sys.stderr)
        return False
    reply = input(f"{question.format(region=args.region or 'the default region')} Type '{answer}': ")
    return reply.strip() == answer
