"""The `guardrail` command's `history`: `--since` times, and the audit trail printed as a table.

Like cli.py, an operator's tool outside the functions' asset: it imports nothing from the runtime.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

_AGO = re.compile(r"(\d+)([dhm])")


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


def render_history(answer: dict[str, Any], out: TextIO) -> None:
    """Print the audit trail as a table, newest first."""
    entries = answer.get("entries", [])
    more = " (older entries left out: use --since or --limit)" if answer.get("truncated") else ""
    print(f"history: {len(entries)} entries, newest first{more}", file=out)
    rows = [
        (e["at"][:19].replace("T", " "), label(e), e["action"], e["result"], e.get("detector") or "-", why)
        for e in entries
        if (why := "; ".join(filter(None, (e.get("reason"), e.get("detail")))) or "-")
    ]
    header = ("time (UTC)", "target", "action", "result", "detector", "reason")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        cells = [f"{cell:<{width}}" for cell, width in zip(row[:5], widths, strict=True)]
        print("  " + "  ".join([*cells, row[5]]), file=out)


def label(result: dict[str, Any]) -> str:
    """How a result or an audit entry names its target: the function's name, `workgroup <name>`."""
    if "workgroup" in result:
        return f"workgroup {result['workgroup']}"
    if "function" not in result and "account" in result:  # an account's pause or resume
        return f"account {result['account']}"
    return str(result.get("function", "?"))
