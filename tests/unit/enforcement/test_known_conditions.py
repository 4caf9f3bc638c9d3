"""Known conditions: told once in full, then counted in the day's digest; the digest claimed once a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from guardrail.domain import Condition, DigestEntry, Notice
from guardrail.enforcement.known import KNOWN_DAYS, MUCH_LARGER, KnownConditions, condition_key

NIGHT = datetime(2026, 11, 2, 0, 5, tzinfo=UTC)
GB = 2**30
CALLER = "nightly-batch@arn:aws:iam::123456789012:role/nightly-batch-role"


class Memory:
    """The ledger's known conditions and digests, in memory, with DynamoDB's conditions and TTLs."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[int, datetime]] = {}  # key -> (size told, expires)
        self.days: dict[str, dict[str, DigestEntry]] = {}
        self.signals: dict[str, datetime] = {}

    def tell_condition(self, key: str, *, size: int, now: datetime, until: datetime, ratio: int) -> bool:
        told = self.known.get(key)
        if told is not None and told[1] >= now and told[0] * ratio >= size:
            return False
        self.known[key] = (size, until)
        return True

    def forget_condition(self, key: str) -> None:
        self.known.pop(key, None)

    def keep_condition(self, key: str, *, until: datetime) -> None:
        if key in self.known:
            self.known[key] = (self.known[key][0], until)

    def note_recurrence(self, day: str, key: str, notice: Notice, *, now: datetime, until: datetime) -> int:
        entries = self.days.setdefault(day, {})
        size = notice.condition.size_bytes if notice.condition else 0
        summary = notice.condition.summary if notice.condition else ""
        before = entries.get(key)
        entries[key] = DigestEntry(
            subject=notice.subject,
            detector=notice.detector,
            summary=summary,
            count=(before.count if before else 0) + 1,
            size_bytes=(before.size_bytes if before else 0) + size,
            first_seen=before.first_seen if before else now,
            last_seen=now,
            reason=notice.reason,
        )
        return entries[key].count

    def recurrences(self, day: str, *, limit: int) -> tuple[list[DigestEntry], int]:
        entries = list(self.days.get(day, {}).values())
        return entries[:limit], max(len(entries) - limit, 0)

    def claim_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> bool:
        if key in self.signals and self.signals[key] >= now:
            return False
        self.signals[key] = now + timedelta(seconds=ttl_seconds)
        return True

    def release_signal(self, key: str) -> None:
        self.signals.pop(key, None)


def cross_region(table: str = "sales.orders", region: str = "ap-northeast-1", size: int = 2 * GB) -> Notice:
    read = f"{table} ({region})"
    return Notice(
        subject=CALLER,
        detector="athena-watch",
        reason=f"read {size / GB} GB stored in {region}",
        observed_at=NIGHT,
        account="123456789012",
        region="us-west-2",
        condition=Condition(("cross-region", "us-west-2", read), size, f"cross-region read of {read}"),
    )


def test_the_first_occurrence_is_told_and_the_same_one_again_is_counted_for_the_digest():
    memory = Memory()
    known = KnownConditions(memory)
    assert known.tell(cross_region(), NIGHT)
    assert not known.tell(cross_region(), NIGHT + timedelta(minutes=1))
    assert not known.tell(cross_region(), NIGHT + timedelta(days=1))  # the next night: known
    assert [e.count for e in memory.days["2026-11-02"].values()] == [1]
    assert [e.count for e in memory.days["2026-11-03"].values()] == [1]


def test_another_table_region_caller_or_rule_is_a_new_condition():
    known = KnownConditions(Memory())
    assert known.tell(cross_region(), NIGHT)
    assert known.tell(cross_region(table="sales.refunds"), NIGHT)
    assert known.tell(cross_region(region="eu-west-1"), NIGHT)
    assert known.tell(replace(cross_region(), subject="payments@arn:aws:iam::123456789012:role/p"), NIGHT)
    assert known.tell(replace(cross_region(), account="210987654321"), NIGHT)
    other_rule = replace(cross_region(), condition=Condition(("steady-growth", "us-west-2"), 0, "growth"))
    assert known.tell(other_rule, NIGHT)
    # what a caller writes (the reason's text, the evidence) is not part of what makes it the same
    assert not known.tell(replace(cross_region(), reason="something else", evidence={"x": 1}), NIGHT)


def test_much_larger_is_told_again_and_then_known_at_its_new_size():
    known = KnownConditions(Memory())
    assert known.tell(cross_region(size=2 * GB), NIGHT)
    assert not known.tell(cross_region(size=2 * GB * MUCH_LARGER), NIGHT)  # up to the ratio: the same
    assert known.tell(cross_region(size=2 * GB * MUCH_LARGER + 1), NIGHT)
    assert not known.tell(cross_region(size=20 * GB), NIGHT)


def test_recurring_keeps_it_known_and_a_condition_gone_quiet_is_forgotten():
    memory = Memory()
    known = KnownConditions(memory)
    assert known.tell(cross_region(), NIGHT)
    for day in range(1, 40):  # every night for over a month: never told again
        assert not known.tell(cross_region(), NIGHT + timedelta(days=day))
    quiet = NIGHT + timedelta(days=39 + KNOWN_DAYS, minutes=1)
    assert known.tell(cross_region(), quiet)


def test_a_notice_without_a_condition_is_always_told_and_never_remembered():
    memory = Memory()
    plain = replace(cross_region(), condition=None)
    assert KnownConditions(memory).tell(plain, NIGHT)
    assert KnownConditions(memory).tell(plain, NIGHT)
    assert memory.known == {}


def test_an_untold_condition_is_told_by_its_next_occurrence():
    known = KnownConditions(Memory())
    assert known.tell(cross_region(), NIGHT)
    known.untold(cross_region())
    assert known.tell(cross_region(), NIGHT)


def test_the_digest_of_a_day_is_due_once_after_it_ends_whoever_asks():
    memory = Memory()
    known = KnownConditions(memory)
    known.tell(cross_region(), NIGHT)
    for minute in range(1, 4):
        known.tell(cross_region(), NIGHT + timedelta(minutes=minute))
    assert known.due(NIGHT + timedelta(hours=3)) is None  # nothing from the day before
    morning = NIGHT + timedelta(days=1)
    digest = known.due(morning)
    assert digest is not None and digest.day == "2026-11-02"
    [entry] = digest.entries
    assert (entry.count, entry.size_bytes, entry.subject) == (3, 6 * GB, CALLER)
    assert known.due(morning + timedelta(minutes=1)) is None  # this container: done
    assert KnownConditions(memory).due(morning) is None  # another container: claimed already


def test_a_digest_not_sent_is_due_again():
    memory = Memory()
    known = KnownConditions(memory)
    known.tell(cross_region(), NIGHT)
    known.tell(cross_region(), NIGHT + timedelta(minutes=1))
    morning = NIGHT + timedelta(days=1)
    digest = known.due(morning)
    assert digest is not None
    known.unsent(digest)
    assert KnownConditions(memory).due(morning) == digest


def test_the_key_is_bounded_whatever_the_names():
    long = replace(cross_region(), subject="x" * 10_000)
    assert condition_key(long, long.condition) != condition_key(cross_region(), cross_region().condition)
    assert len(condition_key(long, long.condition)) == 40


def test_a_condition_that_only_informs_is_never_told_alone_only_counted():
    memory = Memory()
    known = KnownConditions(memory)
    trend = replace(cross_region(), condition=Condition(("steady-growth",), summary="growth", in_full=False))
    assert not known.tell(trend, NIGHT)
    assert not known.tell(trend, NIGHT + timedelta(hours=1))
    assert memory.known == {}
    [entry] = memory.days["2026-11-02"].values()
    assert entry.count == 2
