"""The audit trail read back newest first, by key and by the sparse `AuditTrail` index, against moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guardrail.adapters.ledger import AUDIT_INDEX, Ledger
from guardrail.domain import ActionRecord, AuditEntry, Status, Target

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
BATCH, SPARE, PRIMARY = (
    Target.function("nightly-batch"),
    Target.function("spare"),
    Target.workgroup("primary"),
)


@pytest.fixture
def ledger(deployed):
    """The ledger, with a Scan refused and every Query's parameters recorded."""
    queries: list[dict] = []

    def refuse(**_kwargs):
        raise AssertionError("history must not Scan the table")

    deployed.session.events.register("before-call.dynamodb.Scan", refuse)
    deployed.session.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: queries.append(params)
    )
    ledger = Ledger(deployed.settings.ledger_table, boto3_session=deployed.session)
    ledger.queries = queries
    return ledger


def audit(
    ledger: Ledger, target: Target, minutes: float, action: str = "throttle", result: str = "throttled"
):
    entry = AuditEntry(target, action, result, T0 + timedelta(minutes=minutes), "athena-watch", "loop")
    ledger.append_audit(entry)
    return entry


def test_one_targets_trail_newest_first_from_since_with_a_limit(ledger):
    throttle = audit(ledger, BATCH, 0)
    restore = audit(ledger, BATCH, 30, "restore", "restored")
    audit(ledger, SPARE, 10)
    assert ledger.history(target=BATCH) == [restore, throttle]
    assert ledger.history(target=BATCH, since=T0 + timedelta(minutes=1)) == [restore]
    assert ledger.history(target=BATCH, since=T0) == [restore, throttle]  # `since` is inclusive
    assert ledger.history(target=BATCH, limit=1) == [restore]
    assert all("IndexName" not in query for query in ledger.queries)  # a target's own partition


def test_every_targets_trail_merges_functions_and_workgroups_newest_first_from_the_index(ledger, deployed):
    entries = [
        audit(ledger, BATCH, 0),
        audit(ledger, PRIMARY, 5, "disable", "disabled"),
        audit(ledger, SPARE, 10),
    ]
    entries.append(audit(ledger, BATCH, 45, "restore", "restored"))
    # A target's record has `kind` but no `at`: it stays out of the sparse index.
    ledger.claim(
        ActionRecord(BATCH, Status.ENFORCED, 7, "id-1", T0, "athena-watch", "loop", {}), replacing=None
    )
    assert ledger.history() == entries[::-1]
    assert ledger.history(since=T0 + timedelta(minutes=5)) == entries[:0:-1]
    assert ledger.history(limit=2) == entries[:1:-1]
    assert {query.get("IndexName") for query in ledger.queries} == {AUDIT_INDEX}


def test_history_reads_only_as_many_pages_as_the_limit_needs(ledger):
    for minute in range(250):
        audit(ledger, BATCH, minute)
    newest = ledger.history(target=BATCH, limit=3)
    assert [entry.at for entry in newest] == [T0 + timedelta(minutes=m) for m in (249, 248, 247)]
    assert len(ledger.queries) == 1  # one page of 100, not the whole trail
