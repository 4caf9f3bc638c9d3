"""Scheduled reconciliation: the ledger's held records compared with the targets' real state.

Run by the invocation scan every minute, bounded per run. Each held record is handed to
`Enforcer.reconcile` (the record's lifecycle, `guardrail.enforcement.lifecycle`): applied -> the target
is checked, and one found running is stopped again with its prior state kept (`drift`); `applying`
or `restoring` left by a crash (stale) -> the action is completed, the restore finished; flagged by
the circuit breaker -> applied as soon as the breaker of its account and region admits it. Records
in progress and young belong to a request that may still be running, and are left to it.

The caller may say whether the loop behind a record still runs (`loop_running`, the invocation scan's
judgement from Lambda's metrics): a held target someone raised by hand while its loop is over is
left as they set it, and they are alerted once and asked to `restore`; it is stopped again only while
the loop runs (or when a detector finds it again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from guardrail.domain import ActionRecord, Notice, Outcome, Result, Status
from guardrail.enforcement.enforcer import Enforcer
from guardrail.errors import AwsCallFailed, GuardrailError, TargetNotFound

logger = logging.getLogger(__name__)

#: Held records checked per run; past that many, successive runs take successive slices.
RECONCILE_PER_RUN = 25


def reconcile(
    enforcer: Enforcer,
    at: datetime,
    *,
    limit: int = RECONCILE_PER_RUN,
    loop_running: Callable[[ActionRecord], bool] | None = None,
) -> list[Outcome]:
    """Reconcile up to `limit` held records (the slice of the minute `at`); the outcomes of those acted on.

    `loop_running` (None: always) says whether the cause of a record found running still runs.
    """
    held = enforcer.active()
    if len(held) > limit:
        start = (int(at.timestamp()) // 60 * limit) % len(held)
        held = (held[start:] + held[:start])[:limit]
    outcomes = []
    for record in held:
        try:
            outcome = _reconcile_one(enforcer, record, at, loop_running)
        except GuardrailError:  # one target's failure must not stop the others
            logger.exception("could not reconcile %s", record.target)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _reconcile_one(
    enforcer: Enforcer,
    record: ActionRecord,
    at: datetime,
    loop_running: Callable[[ActionRecord], bool] | None,
) -> Outcome | None:
    if (
        record.status is Status.ENFORCED
        and loop_running is not None
        and _raised_by_hand(enforcer, record)
        and not loop_running(record)
    ):
        return _ask_to_restore(enforcer, record, at)
    return enforcer.reconcile(record)


def _raised_by_hand(enforcer: Enforcer, record: ActionRecord) -> bool:
    """Whether a held target runs (False when it cannot be read: the drift check reports that)."""
    try:
        return not enforcer.action(record.target.kind).holds(record.target)
    except (TargetNotFound, AwsCallFailed):
        return False


def _ask_to_restore(enforcer: Enforcer, record: ActionRecord, at: datetime) -> Outcome | None:
    """Alert once that a held target was raised by hand with no loop running, and leave it as set."""
    target = record.target
    restore: dict[str, object] = {"action": "restore", target.kind.plural: [target.name]}
    if target.account or target.region:
        restore.update(account=target.account, region=target.region)
    notice = Notice(
        subject=target.name,
        detector=record.detector,
        reason=(
            f"{target.name} is held by the guardrail ({record.reason}), but someone raised it by hand, and"
            " no loop is running any more: it is left as they set it. Run `restore` to close the record"
            " (it puts back the state recorded before the guardrail acted); while held, a loop that"
            " resumes is stopped again."
        ),
        observed_at=at,
        evidence={"record": record.record_id, "held_since": record.acted_at.isoformat(), "restore": restore},
        dedupe_key=f"raised-by-hand:{record.record_id}",
        account=target.account,
        region=target.region,
    )
    if enforcer.notify(notice) is not Result.ALERTED:
        return None  # alerted already (once per record), or not sent (the next run tries again)
    return Outcome(target, Result.ALERTED, detail="raised by hand while held, no loop running: left as set")
