r"""What the `guardrail` command prints for a person: results, the audit trail as a table, paused accounts.

Names, reasons and details come from outside (a refusal's operation, a caller's reason), so every line
goes through the alerts' sanitizer: control characters (an ESC sequence, a bidi override) are printed
as escapes such as `\x1b`, never acted on by the terminal. `--json` output is JSON with ASCII escapes.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from guardrail.alerts.fields import clean
from guardrail_cli.grammar import ACCOUNT_ACTIONS

#: A printed line's bound, in characters after escaping: far above any answer's widest line.
MAX_LINE = 20_000


def say(line: str, out: TextIO) -> None:
    """Print one line, its control characters (a newline among them) shown as escapes."""
    print(clean(line, MAX_LINE), file=out)


def print_json(answer: dict[str, Any], out: TextIO) -> None:
    r"""The answer as indented JSON; control characters are JSON escapes (`\u001b`), never raw."""
    print(json.dumps(answer, indent=2, ensure_ascii=True), file=out)


def render(answer: dict[str, Any], out: TextIO) -> None:
    """Print the answer for a person."""
    if not answer.get("ok"):
        error = answer.get("error", {})
        say(f"rejected: {error.get('message', answer)}", out)
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
    say(f"{answer['action']} ({answer.get('mode', 'enforce')}): {', '.join(counts)}", out)
    width = max((len(label(r)) for r in results), default=0)
    shown_place = None
    for result in sorted(results, key=_place) if any("account" in r for r in results) else results:
        if "account" in result and _place(result) != shown_place:
            shown_place = _place(result)
            say(f" account {shown_place[0]}, region {shown_place[1]}:", out)
        extra = []
        for key in ("prior_reservation", "prior_state"):
            if key in result:
                prior = result[key]
                extra.append(f"{key.replace('_', ' ')} {'none' if prior is None else prior}")
        for key in ("since", "detector", "detail", "error"):
            if result.get(key):
                extra.append(f"{key} {_text(result[key])}")
        if result.get("alert_sent") is False:
            extra.append("ALERT NOT SENT")
        say(f"  {label(result):<{width}}  {result['result']:<17} {'; '.join(extra)}".rstrip(), out)
    render_paused(answer, out)


def _place(result: dict[str, Any]) -> tuple[str, str]:
    return _text(result.get("account", "")), _text(result.get("region", ""))


def render_history(answer: dict[str, Any], out: TextIO) -> None:
    """Print the audit trail as a table, newest first."""
    entries = answer.get("entries", [])
    more = " (older entries left out: use --since or --limit)" if answer.get("truncated") else ""
    say(f"history: {len(entries)} entries, newest first{more}", out)
    rows = [
        (
            _text(e["at"])[:19].replace("T", " "),
            label(e),
            _text(e["action"]),
            _text(e["result"]),
            _text(e.get("detector") or "-"),
            why,
        )
        for e in entries
        if (why := "; ".join(_text(part) for part in (e.get("reason"), e.get("detail")) if part) or "-")
    ]
    header = ("time (UTC)", "target", "action", "result", "detector", "reason")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        cells = [f"{cell:<{width}}" for cell, width in zip(row[:5], widths, strict=True)]
        say("  " + "  ".join([*cells, row[5]]), out)


def label(result: dict[str, Any]) -> str:
    """How a result or an audit entry names its target: the function's name, `workgroup <name>`."""
    if "workgroup" in result:
        return f"workgroup {_text(result['workgroup'])}"
    if "function" not in result and "account" in result:  # an account's pause or resume
        return f"account {_text(result['account'])}"
    return _text(result.get("function", "?"))


def render_accounts(answer: dict[str, Any], out: TextIO) -> None:
    """Print a `pause` or `resume` answer: the account, what happened, and the pause."""
    for result in answer.get("results", []):
        extra = [str(result[key]) for key in ("detail", "error") if result.get(key)]
        if "by" in result and not result.get("detail"):
            extra.insert(0, f"by {result['by']} since {result['since']}: {result['reason']}")
        if result.get("alert_sent") is False:
            extra.append("ALERT NOT SENT")
        line = f"{answer['action']}: account {result['account']}  {result['result']}  {'; '.join(extra)}"
        say(line.rstrip(), out)


def render_paused(answer: dict[str, Any], out: TextIO) -> None:
    """Print the paused accounts that a `status` answer lists (nothing when none is paused)."""
    for pause in answer.get("paused_accounts", []):
        say(
            f" PAUSED account {pause['account']} (automatic findings alerted, not applied)"
            f" by {pause['by']} since {pause['since']}: {pause['reason']}",
            out,
        )


def _text(value: object) -> str:
    """One field, its control characters escaped (so that a table's widths are the printed widths)."""
    return clean(value, MAX_LINE)
