"""The kill switch's `history`: the audit trail, newest first, as one JSON-ready answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from guardrail.domain import AuditEntry, Target
from guardrail.kill_switch.requests import HistoryRequest


class AuditReader(Protocol):
    """What `history` needs from the ledger (guardrail.adapters.ledger.Ledger provides it)."""

    def history(
        self, *, target: Target | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """At most `limit` entries from `since` on, newest first: of `target`, or of every target."""
        ...


def answer_history(request: HistoryRequest, audit: AuditReader) -> dict[str, Any]:
    """Read the entries the request asks for; `truncated` says that older ones were left out."""
    since = None if request.since is None else request.since.astimezone(UTC)
    entries = audit.history(target=request.target(), since=since, limit=request.limit + 1)
    return {
        "ok": True,
        "action": "history",
        "entries": [entry_fields(entry) for entry in entries[: request.limit]],
        "truncated": len(entries) > request.limit,
    }


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as the answer carries it: the target by kind, then what happened, when and why."""
    fields: dict[str, Any] = {
        entry.target.kind.value: entry.target.name,
        "action": entry.action,
        "result": entry.result,
        "at": entry.at.isoformat(),
    }
    return fields | {name: getattr(entry, name) for name in ("detector", "reason", "detail")}
