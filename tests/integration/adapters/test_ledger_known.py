"""The ledger's known conditions and daily digests against moto: conditional tells, TTLs, one Query a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from guardrail.adapters.ledger import Ledger
from guardrail.domain import Condition, Notice

T0 = datetime(2026, 11, 2, 0, 5, tzinfo=UTC)
GB = 2**30
KEY = "a" * 40


def ledger(deployed) -> Ledger:
    return Ledger(deployed.settings.ledger_table, boto3_session=deployed.session)


def tell(table: Ledger, size: int, now: datetime = T0) -> bool:
    return table.tell_condition(KEY, size=size, now=now, until=now + timedelta(days=15), ratio=4)


def test_a_condition_is_told_once_until_it_expires_is_forgotten_or_grows_fourfold(deployed):
    table = ledger(deployed)
    assert tell(table, 2 * GB)
    assert not tell(table, 2 * GB)
    assert not tell(table, 8 * GB)  # four times: still the same
    assert tell(table, 8 * GB + 1)  # more: told again, at its new size
    assert not tell(table, 30 * GB)
    table.keep_condition(KEY, until=T0 + timedelta(days=20))
    assert not tell(table, GB, now=T0 + timedelta(days=19))
    assert tell(table, GB, now=T0 + timedelta(days=21))  # expired: told again (TTL not yet run)
    table.forget_condition(KEY)
    assert tell(table, GB)


def test_keeping_a_forgotten_condition_does_not_bring_it_back(deployed):
    table = ledger(deployed)
    table.keep_condition(KEY, until=T0 + timedelta(days=15))
    assert tell(table, GB)


def test_a_days_recurrences_add_up_per_condition_and_are_read_in_one_query(deployed):
    table = ledger(deployed)
    condition = Condition(
        ("cross-region", "us-west-2", "sales.orders (ap-northeast-1)"), GB, "read of orders"
    )
    notice = Notice(
        "batch",
        "athena-watch",
        "read 1 GB",
        T0,
        account="123456789012",
        region="us-west-2",
        condition=condition,
    )
    until = T0 + timedelta(days=3)
    counts = [
        table.note_recurrence("2026-11-02", KEY, notice, now=T0 + timedelta(minutes=m), until=until)
        for m in range(3)
    ]
    table.note_recurrence("2026-11-02", "b" * 40, notice, now=T0, until=until)
    table.note_recurrence("2026-11-03", KEY, notice, now=T0 + timedelta(days=1), until=until)
    assert counts == [1, 2, 3]
    entries, more = table.recurrences("2026-11-02", limit=1)
    assert more == 1
    [entry] = entries
    assert (entry.count, entry.size_bytes, entry.summary, entry.account) == (
        3,
        3 * GB,
        "read of orders",
        "123456789012",
    )
    assert (entry.first_seen, entry.last_seen) == (T0, T0 + timedelta(minutes=2))
