"""The `guardrail` command line: its grammar, its help, and the kill-switch request each command asks for.

The AWS options (`--region`, `--profile`, `--endpoint-url`, `--function-name`, `--stack`, `--json`) mean
the same before or after the command, as the AWS CLI's do: `--region` is where the kill switch is
invoked. Where a command's targets are is said by `--account` and `--target-region`.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

DEFAULT_STACK = "RunawayGuardrailService"
EXIT_OK, EXIT_PARTIAL, EXIT_REJECTED, EXIT_UNREACHABLE, EXIT_AWS_SETUP = 0, 1, 2, 3, 4
ACCOUNT_ACTIONS = frozenset({"pause", "resume"})
#: The requests that change something: each names who asks (`by`, recorded with what it changes).
ASKED_BY = frozenset({"throttle", "restore", "panic", *ACCOUNT_ACTIONS})

EXIT_CODES = f"""exit codes:
  {EXIT_OK}  done
  {EXIT_PARTIAL}  done, but some functions or workgroups were not found or failed
  {EXIT_REJECTED}  not sent or rejected: bad arguments, not confirmed, or the kill switch refused the request
  {EXIT_UNREACHABLE}  the kill switch could not be reached or failed (not deployed there, timed out, crashed)
  {EXIT_AWS_SETUP}  your AWS set-up: no credentials, unknown profile, no region, or access denied"""

_AGO = re.compile(r"(\d+)([dhm])")

#: Each command: (one-line help, description, examples).
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "throttle": (
        "set functions' reserved concurrency to 0, disable Athena workgroups",
        "Throttle functions (reserved concurrency 0, event sources paused) and disable Athena workgroups;"
        " what they had before is recorded, and `restore` puts it back.",
        'guardrail throttle nightly-batch --reason "loop"\n'
        'guardrail throttle --workgroup primary --reason "storm of queries"\n'
        'guardrail throttle nightly-batch --account 222222222222 --target-region us-west-2 --reason "loop"',
    ),
    "restore": (
        "put back what functions and workgroups had before",
        "Put back exactly what the guardrail recorded before its first throttle: the same reserved"
        " concurrency or none, the paused event sources, the workgroup's state. `--all` restores"
        " everything held (asks to confirm).",
        "guardrail restore nightly-batch\nguardrail restore --workgroup primary\nguardrail restore --all",
    ),
    "status": (
        "list the functions and workgroups the guardrail holds",
        "List what the guardrail holds (throttled functions, disabled workgroups, or flagged ones in"
        " notify-only mode), the circuit breaker, and the paused accounts. Changes nothing.",
        "guardrail status\nguardrail status --json",
    ),
    "panic": (
        "throttle every non-exempt function of the accounts and regions given",
        "Throttle every function that is neither exempt nor the guardrail's own, in the kill switch's"
        " account and region or in the `--account`s and `--target-region`s named. Asks you to type"
        " 'panic' (or pass --yes).",
        'guardrail panic --reason "bill is exploding"\n'
        'guardrail panic --reason "drill" --account 222222222222 --target-region us-west-2 --yes',
    ),
    "history": (
        "the audit trail, newest first (default: every target)",
        "What the guardrail did, newest first: to one function, one workgroup, or every target."
        " Changes nothing.",
        "guardrail history nightly-batch --since 7d\n"
        "guardrail history --workgroup primary --since 2026-11-01\n"
        "guardrail history --since 24h --json",
    ),
    "pause": (
        "until resumed, alert on an account's automatic findings and act on none of them",
        "Switch off automatic enforcement in one account, with no deploy: its findings are alerted,"
        " not applied, until `resume`. The kill switch still acts there. Sends your ARN as who asks.",
        'guardrail pause --account 222222222222 --reason "load test until 18:00"',
    ),
    "resume": (
        "enforce a paused account's automatic findings again",
        "Enforce a paused account's automatic findings again, from the next one.",
        "guardrail resume --account 222222222222",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = argparse.ArgumentParser(
        prog="guardrail",
        description="Runaway Guardrail's kill switch, from a terminal: throttle, restore, status, panic,"
        " history, pause and resume.",
        epilog="Run `guardrail COMMAND --help` for a command's options and examples.\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"guardrail {version('runaway-guardrail')}")
    _aws_options(parser, after_command=False)
    commands = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")
    made = {name: _command(commands, name) for name in _COMMANDS}
    for name in ("throttle", "restore"):
        made[name].add_argument("functions", nargs="*", metavar="FUNCTION", help="name or ARN")
        made[name].add_argument(
            "--workgroup",
            dest="workgroups",
            action="append",
            default=[],
            metavar="WORKGROUP",
            help="an Athena workgroup (repeat for more)",
        )
    _place_options(made["throttle"], "where the FUNCTIONs named by name are (default: the kill switch's)")
    made["throttle"].add_argument("--reason", required=True)
    _place_options(
        made["restore"], "where the FUNCTIONs named by name are; with --all: only these (repeatable)"
    )
    made["restore"].add_argument(
        "--all", action="store_true", help="every function and workgroup the guardrail holds"
    )
    made["restore"].add_argument("--yes", action="store_true", help="do not ask to confirm --all")
    made["panic"].add_argument("--reason", required=True)
    _place_options(
        made["panic"], "the accounts and regions to panic in (repeatable; default: the kill switch's)"
    )
    made["panic"].add_argument("--yes", action="store_true", help="do not ask for confirmation")
    history = made["history"]
    history.add_argument("function", nargs="?", metavar="FUNCTION", help="one function's trail")
    history.add_argument("--workgroup", help="one Athena workgroup's trail")
    _place_options(history, "where the FUNCTION named by name is (default: the kill switch's)")
    history.add_argument("--since", type=since_time, help="7d, 24h, 30m, or an ISO date or time (UTC)")
    history.add_argument("--limit", type=int, default=100, help="at most this many entries (100)")
    for name in ACCOUNT_ACTIONS:
        made[name].add_argument("--account", required=True, metavar="ID", help="the account's 12-digit id")
    made["pause"].add_argument("--reason", required=True)
    return parser


def _command(commands: Any, name: str) -> argparse.ArgumentParser:
    """One command's parser, with its description, examples, exit codes and the AWS options."""
    summary, description, examples = _COMMANDS[name]
    command: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples.splitlines()) + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _aws_options(command, after_command=True)
    return command


def _aws_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """The AWS options, the same before the command and after it (where a given one wins).

    After the command they default to "not given" (SUPPRESS), so that they never overwrite one given
    before it.
    """
    unset = argparse.SUPPRESS if after_command else None
    group = parser.add_argument_group("AWS options (before or after the command)")
    group.add_argument(
        "--function-name", default=unset, help="the kill switch function, name or ARN (default: from --stack)"
    )
    group.add_argument(
        "--stack", default=unset, help=f"stack with the KillSwitchFunctionName output ({DEFAULT_STACK})"
    )
    group.add_argument(
        "--region",
        default=unset,
        help="the kill switch's region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)",
    )
    group.add_argument("--profile", default=unset, help="AWS profile (default: AWS_PROFILE)")
    group.add_argument("--endpoint-url", default=unset, help="AWS endpoint, e.g. a local stand-in")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if after_command else False,
        help="print the kill switch's JSON answer",
    )


def _place_options(command: argparse.ArgumentParser, what: str) -> None:
    """`--account` and `--target-region`: where the command's targets are (default: the kill switch's)."""
    command.add_argument("--account", dest="accounts", action="append", default=[], metavar="ID", help=what)
    command.add_argument(
        "--target-region", dest="regions", action="append", default=[], metavar="REGION", help=what
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse and check `argv`; argparse prints any error with the usage and exits with EXIT_REJECTED."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check(parser, args)
    return args


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject what the grammar alone lets through: no target named, names with --all, two places."""
    if args.function_name and args.stack:
        parser.error("--function-name and --stack name the kill switch two ways: give one")
    if args.action == "history" and args.function and args.workgroup:
        parser.error("history takes a FUNCTION or a --workgroup, not both")
    several = args.action in {"throttle", "history"} or (args.action == "restore" and not args.all)
    if several and (len(getattr(args, "accounts", [])) > 1 or len(getattr(args, "regions", [])) > 1):
        parser.error(f"{args.action} takes one --account and one --target-region (name others by ARN)")
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


def since_time(value: str, now: datetime | None = None) -> datetime:
    """`--since`: `7d`, `24h`, `30m` before `now`, or an ISO date or time (UTC unless it names a zone)."""
    if match := _AGO.fullmatch(value.strip()):
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match[2]]
        return (now or datetime.now(UTC)) - timedelta(**{unit: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not 7d, 24h, 30m or an ISO date: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def destructive(args: argparse.Namespace) -> str | None:
    """What the request destroys and must confirm (`panic`, `restore-all`), or None."""
    if args.action == "panic":
        return "panic"
    return "restore-all" if args.action == "restore" and args.all else None


def request_for(args: argparse.Namespace) -> dict[str, Any]:
    """The kill-switch request that the parsed arguments ask for (without its confirmation or caller)."""
    if args.action in ACCOUNT_ACTIONS:
        request = {"action": args.action, "account": args.account}
        return request | ({"reason": args.reason} if args.action == "pause" else {})
    places = {key: value for key in ("accounts", "regions") if (value := getattr(args, key, None))}
    one_place = {key.removesuffix("s"): value[0] for key, value in places.items()}
    if args.action in {"throttle", "restore"}:
        request = {"action": args.action}
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
