"""DynamoDB ledger: what the guardrail holds and what each target had before, the audit trail, signals.

One table, keyed by `pk`/`sk`, read by key and by index (never scanned):
- `<KIND>#<name>` / `THROTTLE` (`FUNCTION#nightly-batch`, `WORKGROUP#primary`): the target's record,
  first record wins: `kind`, `name`, `prior` (reserved concurrency, or null; a workgroup's state),
  `status` (`applying`, `throttled` = applied, `flagged`, `restoring`; removed once restored;
  see `guardrail.domain.Status` for the transitions, each a conditional write), `changed_at`, `throttle_id`,
  `throttled_at` / `throttled_ms`, `detector`, `reason`, `evidence` (JSON), `restored_at` / `restored_ms`.
- `<KIND>#<name>` / `AUDIT#<time>#<id>`: one item per action, never overwritten; read by Query.
  `kind` and `at` put it in the sparse index `AuditTrail` (only audit entries carry both), which
  `history` of every target reads newest first.
- `SIGNAL#<key>` / `SIGNAL`: marks a signal as handled until `expires_at` (TTL).
- `BREAKER#<hour>` / `BREAKER`: the circuit breaker's count of automatic actions in that hour (TTL).
- `PAUSE#<account>` / `PAUSE`: an operator's run-time pause of the account's automatic enforcement
  (see `guardrail.adapters.ledger_pauses`), and its audit lines.
- `KNOWN#<key>` / `KNOWN` and `DIGEST#<day>` / `<key>`: conditions told once, and their recurrences
  by day for the daily digest (see `guardrail.adapters.ledger_known`), with TTL.
- The sparse global secondary index `ActiveRecords` (`status`, `throttled_at`) holds only the records
  that are applied or flagged: `status` reads two of its partitions.

Records written by the release before (functions only, `had_reservation` / `prior_reservation`) are
read in place, without migration: their `status` and `throttled_at` put the active ones in the index
as soon as it is built (DynamoDB backfills a new index); the restored ones sit in its `restored`
partition, which nothing reads, until their function's next record replaces them. Every failed AWS
call surfaces as AwsCallFailed.
"""

from __future__ import annotations

from guardrail.adapters.ledger_audit import LedgerAudit
from guardrail.adapters.ledger_breaker import LedgerBreaker
from guardrail.adapters.ledger_items import (
    ACTIVE_INDEX,
    ACTIVE_INDEX_PARTITION_KEY,
    ACTIVE_INDEX_SORT_KEY,
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
)
from guardrail.adapters.ledger_known import LedgerKnown
from guardrail.adapters.ledger_pauses import LedgerPauses
from guardrail.adapters.ledger_records import LedgerRecords
from guardrail.adapters.ledger_signals import LedgerSignals

__all__ = [
    "ACTIVE_INDEX",
    "ACTIVE_INDEX_PARTITION_KEY",
    "ACTIVE_INDEX_SORT_KEY",
    "AUDIT_INDEX",
    "AUDIT_INDEX_PARTITION_KEY",
    "AUDIT_INDEX_SORT_KEY",
    "Ledger",
]


class Ledger(LedgerRecords, LedgerAudit, LedgerSignals, LedgerBreaker, LedgerPauses, LedgerKnown):
    """Adapter over the guardrail's DynamoDB table: records, audit trail, signals, breaker, pauses, known."""

    #: IAM actions this adapter calls; the stack's policy is built from them.
    PERMISSIONS = tuple(
        dict.fromkeys(
            LedgerRecords.PERMISSIONS
            + LedgerAudit.PERMISSIONS
            + LedgerSignals.PERMISSIONS
            + LedgerBreaker.PERMISSIONS
            + LedgerPauses.PERMISSIONS
            + LedgerKnown.PERMISSIONS
        )
    )
