"""Scheduled reconciliation: the ledger's held records compared with the targets' real state.

Run by the invocation scan every minute, bounded per run. Each held record is handed to
`Enforcer.reconcile` (the record's lifecycle, `guardrail.enforcement.lifecycle`): applied -> the target
is checked, and one found running is stopped again with its prior state kept (`drift`); `applying`
or `restoring` left by a crash (stale) -> the action is completed, the restore finished; flagged by
the circuit breaker -> applied as soon as the breaker of its account and region admits it. Records
in progress and young belong to a request that may still be running, and are left to it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from guardrail.domain import Outcome
from guardrail.enforcement.enforcer import Enforcer
from guardrail.errors import GuardrailError

logger = logging.getLogger(__name__)

#: Held records checked per run; past that many, successive runs take successive slices.
RECONCILE_PER_RUN = 25


def reconcile(enforcer: Enforcer, at: datetime, *, limit: int = RECONCILE_PER_RUN) -> list[Outcome]:
    """Reconcile up to `limit` held records (the slice of the minute `at`); the outcomes of those acted on."""
    held = enforcer.active()
    if len(held) > limit:
        start = (int(at.timestamp()) // 60 * limit) % len(held)
        held = (held[start:] + held[:start])[:limit]
    outcomes = []
    for record in held:
        try:
            outcome = enforcer.reconcile(record)
        except GuardrailError:  # one target's failure must not stop the others
            logger.exception("could not reconcile %s", record.target)
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
