"""The ledger port's contract, held by the DynamoDB ledger on moto and by the in-memory ledger alike.

The state machine is tested exhaustively on the in-memory ledger (tests/unit/enforcement); this runs
every move of its table once on moto, and every conditional write both stores must agree on, so the
in-memory store is a faithful stand-in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from devtools.memory_ports import MemoryLedger
from guardrail.adapters.ledger import Ledger
from guardrail.domain import ActionRecord, AuditEntry, BreakerSlot, Status, Takeover, Target
from guardrail.enforcement.lifecycle import TRANSITIONS

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TARGET = Target.function("batch", "123456789012", "us-east-1")
HOUR = timedelta(hours=1)


@pytest.fixture(params=["moto", "memory"])
def ledger(request, deployed):
    if request.param == "memory":
        return MemoryLedger()
    return Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session)


def record(status: Status, record_id: str = "r-1", prior: object = 7) -> ActionRecord:
    return ActionRecord(
        TARGET, status, prior, record_id, NOW, "athena-watch", "412 queries", {"queries": 412}
    )


@pytest.mark.parametrize(
    ("status", "to"),
    sorted({(s, to) for (s, _), to in TRANSITIONS.items() if to is not None and s is not Status.RESTORED}),
)
def test_every_move_of_the_table_is_conditional_on_the_record_as_read(ledger, status, to):
    assert ledger.claim(record(status), replacing=None) is None
    read = ledger.get(TARGET)
    audit = AuditEntry(TARGET, "throttle", "throttled", NOW)

    assert ledger.transition(read, to, NOW + timedelta(seconds=1), audit=audit)
    assert not ledger.transition(read, to, NOW + timedelta(seconds=2))  # as read: no longer
    moved = ledger.get(TARGET)
    assert (moved.status, moved.prior, moved.record_id) == (to, 7, "r-1")
    assert moved.active is (to is not Status.RESTORED)
    assert [r.status for r in ledger.active()] == ([] if to is Status.RESTORED else [to])


def test_a_takeover_rewrites_who_owns_the_record_and_the_prior_only_when_read_afresh(ledger):
    ledger.claim(record(Status.ENFORCED), replacing=None)
    held = ledger.get(TARGET)
    operator = Takeover("kill-switch", "stop it", {"requested_by": "alice"}, prior=99)
    assert ledger.transition(held, Status.RESTORING, NOW + timedelta(seconds=1), takeover=operator)
    taken = ledger.get(TARGET)
    assert (taken.detector, taken.reason, dict(taken.evidence), taken.prior) == (
        "kill-switch",
        "stop it",
        {"requested_by": "alice"},
        7,  # a held record's prior is never written
    )

    other = Target.function("other", "123456789012", "us-east-1")
    ledger.claim(replace(record(Status.FLAGGED, "r-2"), target=other), replacing=None)
    fresh = Takeover("kill-switch", "stop it", {}, prior=12, prior_read=True)
    assert ledger.transition(ledger.get(other), Status.APPLYING, NOW + timedelta(seconds=1), takeover=fresh)
    assert ledger.get(other).prior == 12  # a flagged target was never touched: read afresh


def test_the_first_claim_wins_and_a_claim_replaces_only_the_restored_record_it_saw(ledger):
    assert ledger.claim(record(Status.APPLYING), replacing=None) is None
    assert ledger.claim(record(Status.APPLYING, "r-2"), replacing=None).record_id == "r-1"
    assert ledger.claim(record(Status.APPLYING, "r-2"), replacing="r-1").record_id == "r-1"  # still held
    assert ledger.transition(ledger.get(TARGET), Status.ENFORCED, NOW)
    assert ledger.transition(ledger.get(TARGET), Status.RESTORING, NOW + timedelta(seconds=1))
    assert ledger.transition(ledger.get(TARGET), Status.RESTORED, NOW + timedelta(seconds=2))
    assert (
        ledger.claim(record(Status.APPLYING, "r-3", prior=3), replacing="r-0") is not None
    )  # not what it saw
    assert ledger.claim(record(Status.APPLYING, "r-3", prior=3), replacing="r-1") is None
    assert (ledger.get(TARGET).record_id, ledger.get(TARGET).prior) == ("r-3", 3)


def test_a_claim_is_released_only_while_applying_as_claimed(ledger):
    ledger.claim(record(Status.APPLYING), replacing=None)
    assert not ledger.release(record(Status.APPLYING, "r-other"))
    assert ledger.release(record(Status.APPLYING))
    assert ledger.get(TARGET) is None


def test_breaker_slots_are_taken_once_per_rolling_window(ledger):
    def take(slot: int, at: datetime, account: str = "123456789012") -> bool:
        return ledger.take_breaker_slot(BreakerSlot(account, "us-east-1", slot, at, "fn"), window=HOUR)

    assert take(0, NOW)
    assert not take(0, NOW + timedelta(minutes=59))
    assert take(0, NOW, account="222222222222")  # another account's slot 0
    assert take(0, NOW + HOUR)  # an hour after it was taken: free again
    slots = ledger.breaker_slots(since=NOW + timedelta(minutes=1))
    assert [(s.account, s.taken_at) for s in slots] == [("123456789012", NOW + HOUR)]


def test_a_signal_is_claimed_once_until_it_expires(ledger):
    assert ledger.claim_signal("k", now=NOW, ttl_seconds=60)
    assert not ledger.claim_signal("k", now=NOW + timedelta(seconds=30), ttl_seconds=60)
    assert ledger.claim_signal("k", now=NOW + timedelta(seconds=61), ttl_seconds=60)
    ledger.release_signal("k")
    assert ledger.claim_signal("k", now=NOW, ttl_seconds=60)
